// SmallVector: inline storage up to N, heap growth past it, copies, moves and the lifetime of
// non-trivial elements.
#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include <tenflowers/core/small_vector.hpp>

using tenflowers::SmallVector;

namespace {

// Counts live instances, so a test can check that every element built is destroyed once.
struct Tracked {
  static inline int live = 0;
  static inline int throw_on_copy_after = -1;  // copies left before a copy throws; -1: never
  int value = 0;
  Tracked() { ++live; }
  explicit Tracked(int v) : value(v) { ++live; }
  Tracked(const Tracked& other) : value(other.value) {
    if (throw_on_copy_after == 0) throw std::runtime_error("copy failed");
    if (throw_on_copy_after > 0) --throw_on_copy_after;
    ++live;
  }
  Tracked(Tracked&& other) noexcept : value(other.value) {
    other.value = -1;
    ++live;
  }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) = default;
  ~Tracked() { --live; }
  friend bool operator==(const Tracked& a, const Tracked& b) { return a.value == b.value; }
};

class SmallVectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Tracked::live = 0;
    Tracked::throw_on_copy_after = -1;
  }
  void TearDown() override { EXPECT_EQ(Tracked::live, 0) << "an element leaked or died twice"; }
};

}  // namespace

TEST_F(SmallVectorTest, StaysInlineUpToItsCapacityThenGrowsOnTheHeap) {
  SmallVector<int, 3> v;
  EXPECT_TRUE(v.empty());
  EXPECT_TRUE(v.is_inline());
  EXPECT_EQ(v.capacity(), 3u);
  for (int i = 0; i < 3; ++i) v.push_back(i);
  EXPECT_TRUE(v.is_inline());
  v.push_back(3);
  EXPECT_FALSE(v.is_inline());
  EXPECT_GE(v.capacity(), 4u);
  for (int i = 4; i < 100; ++i) v.push_back(i);
  ASSERT_EQ(v.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[static_cast<size_t>(i)], i);
  EXPECT_EQ(v.front(), 0);
  EXPECT_EQ(v.back(), 99);
  v.pop_back();
  EXPECT_EQ(v.back(), 98);
  EXPECT_EQ(v.at(98), 98);
  EXPECT_THROW(v.at(99), std::out_of_range);
  const std::span<const int> view = v;
  EXPECT_EQ(view.size(), 99u);
}

TEST_F(SmallVectorTest, DestroysNonTrivialElementsExactlyOnce) {
  {
    SmallVector<Tracked, 2> v;
    v.emplace_back(1);
    v.emplace_back(2);
    EXPECT_EQ(Tracked::live, 2);
    v.emplace_back(3);  // moves the first two to the heap
    EXPECT_EQ(Tracked::live, 3);
    v.pop_back();
    EXPECT_EQ(Tracked::live, 2);
    v.resize(5);
    EXPECT_EQ(Tracked::live, 5);
    v.resize(1);
    EXPECT_EQ(Tracked::live, 1);
    EXPECT_EQ(v[0].value, 1);
    v.clear();
    EXPECT_EQ(Tracked::live, 0);
    v.emplace_back(7);
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST_F(SmallVectorTest, CopiesInlineAndHeapContents) {
  for (int n : {1, 2, 5}) {
    SmallVector<Tracked, 2> a;
    for (int i = 0; i < n; ++i) a.emplace_back(i);
    SmallVector<Tracked, 2> b(a);
    EXPECT_EQ(a, b);
    EXPECT_EQ(b.is_inline(), n <= 2);
    SmallVector<Tracked, 2> c;
    c.emplace_back(42);
    c.emplace_back(43);
    c.emplace_back(44);
    c = a;
    EXPECT_EQ(c, a);
    c = c;  // self-assignment keeps the contents
    EXPECT_EQ(c, a);
    EXPECT_EQ(Tracked::live, 3 * n);
  }
}

TEST_F(SmallVectorTest, MovesStealTheHeapBlockAndMoveInlineElements) {
  SmallVector<Tracked, 2> heap;
  for (int i = 0; i < 4; ++i) heap.emplace_back(i);
  const Tracked* block = heap.data();
  SmallVector<Tracked, 2> stolen(std::move(heap));
  EXPECT_EQ(stolen.data(), block);  // no element was moved one by one
  EXPECT_TRUE(heap.empty());        // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(heap.is_inline());
  EXPECT_EQ(Tracked::live, 4);

  SmallVector<Tracked, 2> small;
  small.emplace_back(10);
  SmallVector<Tracked, 2> moved(std::move(small));
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].value, 10);
  EXPECT_TRUE(moved.is_inline());
  EXPECT_TRUE(small.empty());  // NOLINT(bugprone-use-after-move)

  moved = std::move(stolen);  // an inline vector takes a heap block
  EXPECT_EQ(moved.data(), block);
  EXPECT_EQ(moved.size(), 4u);
  stolen.emplace_back(5);  // a moved-from vector is usable again
  EXPECT_EQ(Tracked::live, 5);
  moved = std::move(stolen);  // a heap vector takes inline elements and frees its block
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_TRUE(moved.is_inline());
  EXPECT_EQ(moved[0].value, 5);
  EXPECT_EQ(Tracked::live, 1);
}

TEST_F(SmallVectorTest, PushingItsOwnElementWhileGrowingCopiesItFirst) {
  SmallVector<std::string, 2> v{"first, long enough to live on the heap", "second"};
  v.push_back(v[0]);  // the growth moves v[0] away; the argument must be read before
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2], "first, long enough to live on the heap");
  EXPECT_EQ(v[0], v[2]);
  v.resize(10, v[1]);
  EXPECT_EQ(v[9], "second");
}

TEST_F(SmallVectorTest, AssignAppendAndMoveOnlyElements) {
  SmallVector<int, 4> v(3, 7);
  EXPECT_EQ(v, (SmallVector<int, 4>{7, 7, 7}));
  const int more[] = {1, 2, 3, 4, 5};
  v.append(std::begin(more), std::end(more));
  EXPECT_EQ(v.size(), 8u);
  v.assign(std::begin(more), std::end(more));
  EXPECT_EQ(v, (SmallVector<int, 4>{1, 2, 3, 4, 5}));
  v = {9};
  EXPECT_EQ(v, (SmallVector<int, 4>{9}));

  SmallVector<std::unique_ptr<int>, 1> owners;
  for (int i = 0; i < 3; ++i) owners.push_back(std::make_unique<int>(i));
  SmallVector<std::unique_ptr<int>, 1> taken(std::move(owners));
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(*taken[2], 2);
}

TEST_F(SmallVectorTest, AFailedCopyDuringGrowthLeavesTheVectorIntact) {
  struct ThrowingMove {
    Tracked t;
    explicit ThrowingMove(int v) : t(v) {}
    ThrowingMove(const ThrowingMove&) = default;
    ThrowingMove(ThrowingMove&& other) noexcept(false) : t(other.t) {}
  };
  SmallVector<ThrowingMove, 2> v;
  v.emplace_back(1);
  v.emplace_back(2);
  Tracked::throw_on_copy_after = 1;  // the new element is built, then copying the old ones fails
  EXPECT_THROW(v.emplace_back(3), std::runtime_error);
  Tracked::throw_on_copy_after = -1;
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(v.is_inline());
  EXPECT_EQ(v[0].t.value, 1);
  EXPECT_EQ(v[1].t.value, 2);
  EXPECT_EQ(Tracked::live, 2);
}
