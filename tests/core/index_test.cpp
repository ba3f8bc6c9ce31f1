// Indexing ops: documented semantics on small examples, every error path (typed errors with
// messages naming the bad value), empty and 0-d tensors, and determinism under threads.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

namespace {

Tensor i64(std::initializer_list<int64_t> values, tf::Dims shape) {
  return Tensor::from_vec(values, std::move(shape));
}

Tensor f32(std::initializer_list<float> values, tf::Dims shape) {
  return Tensor::from_vec(values, std::move(shape));
}

Tensor bools(std::initializer_list<bool> values, tf::Dims shape) {
  return Tensor::from_vec(values, std::move(shape));
}

// The message of the E thrown by f, or a test failure when f throws nothing.
template <class E, class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ThreadCount {
 public:
  explicit ThreadCount(int threads) : saved_(tf::get_num_threads()) {
    tf::set_num_threads(threads);
  }
  ~ThreadCount() { tf::set_num_threads(saved_); }

 private:
  int saved_;
};

// ---- semantics ----------------------------------------------------------------------------

TEST(Index, GatherFollowsPyTorch) {
  Tensor x = f32({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(tf::gather(x, 1, i64({0, 0, 1, 0}, {2, 2})).to_vector<float>(),
            (std::vector<float>{1, 1, 4, 3}));
  // Negative indices count from the end; the index may be smaller than x off the axis.
  Tensor y = tf::gather(x, 0, i64({-1}, {1, 1}));
  EXPECT_EQ(y.shape(), tf::Dims({1, 1}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{3}));
  // i32 indices and a transposed x.
  Tensor idx32 = Tensor::from_vec<int32_t>({1, 0, -2, -1}, {2, 2});
  EXPECT_EQ(tf::gather(x.t(), 1, idx32).to_vector<float>(), (std::vector<float>{3, 1, 2, 4}));
}

TEST(Index, ReversedViewsHaveNegativeStrides) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3}).slice(1, {}, {}, -1);  // [[3, 2, 1], [6, 5, 4]]
  Tensor index = i64({2, 1, 0, 0}, {4}).slice(0, {}, {}, -1);       // [0, 0, 1, 2]
  EXPECT_EQ(tf::gather(x, 1, index.reshape({1, 4}).narrow(1, 1, 3)).to_vector<float>(),
            (std::vector<float>{3, 2, 1}));
  EXPECT_EQ(tf::index_select(x, 1, index).to_vector<float>(),
            (std::vector<float>{3, 3, 2, 1, 6, 6, 5, 4}));
  EXPECT_EQ(tf::take(x, index).to_vector<float>(), (std::vector<float>{3, 3, 2, 1}));
  Tensor src = f32({10, 20, 30}, {1, 3}).slice(1, {}, {}, -1);  // [[30, 20, 10]]
  EXPECT_EQ(tf::scatter(x, 1, index.narrow(0, 1, 3).reshape({1, 3}), src).to_vector<float>(),
            (std::vector<float>{30, 20, 10, 6, 5, 4}));
  EXPECT_EQ(
      tf::masked_select(x, bools({true, false, true}, {3}).slice(0, {}, {}, -1)).to_vector<float>(),
      (std::vector<float>{3, 1, 6, 4}));
}

TEST(Index, ScatterLastWriteWins) {
  Tensor x = f32({9, 9, 9, 9, 9}, {5});
  Tensor index = i64({0, 2, 0, -3}, {4});
  Tensor src = f32({1, 2, 3, 4, 5}, {5});  // larger than index: the extra element is unused
  EXPECT_EQ(tf::scatter(x, 0, index, src).to_vector<float>(), (std::vector<float>{3, 9, 4, 9, 9}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{9, 9, 9, 9, 9}));  // out of place
}

TEST(Index, ScatterAddAccumulatesEveryDType) {
  Tensor index = i64({0, 2, 0, 2}, {4});
  EXPECT_EQ(
      tf::scatter_add(f32({1, 1, 1}, {3}), 0, index, f32({1, 2, 3, 4}, {4})).to_vector<float>(),
      (std::vector<float>{5, 1, 7}));
  // bool accumulates as logical or.
  EXPECT_EQ(tf::scatter_add(bools({false, false, true}, {3}), 0, index,
                            bools({false, true, false, false}, {4}))
                .to_vector<int>(),
            (std::vector<int>{0, 0, 1}));
  // Integers wrap around like two's complement hardware.
  Tensor i8 = Tensor::from_vec<int8_t>({127, 0, -128}, {3});
  EXPECT_EQ(
      tf::scatter_add(i8, 0, index, Tensor::from_vec<int8_t>({1, -1, 0, 0}, {4})).to_vector<int>(),
      (std::vector<int>{-128, 0, 127}));
}

TEST(Index, TakeIndexesTheFlattenedTensor) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(tf::take(x, i64({0, -1, 5, 2}, {2, 2})).to_vector<float>(),
            (std::vector<float>{1, 6, 6, 3}));
  // Row-major order of the transposed view, not of its storage.
  EXPECT_EQ(tf::take(x.t(), i64({1, 2}, {2})).to_vector<float>(), (std::vector<float>{4, 2}));
}

TEST(Index, IndexSelectAlongEachAxis) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(tf::index_select(x, 0, i64({1, -1, 0}, {3})).to_vector<float>(),
            (std::vector<float>{4, 5, 6, 4, 5, 6, 1, 2, 3}));
  EXPECT_EQ(tf::index_select(x, -1, i64({2, 0}, {2})).to_vector<float>(),
            (std::vector<float>{3, 1, 6, 4}));
  // A 0-d index keeps the axis with extent 1.
  Tensor one = tf::index_select(x, 1, Tensor::from_scalar<int64_t>(1));
  EXPECT_EQ(one.shape(), tf::Dims({2, 1}));
  EXPECT_EQ(one.to_vector<float>(), (std::vector<float>{2, 5}));
}

TEST(Index, OneHot) {
  Tensor y = tf::one_hot(Tensor::from_vec<int32_t>({2, 0}, {2}), 3, DType::I64);
  EXPECT_EQ(y.dtype(), DType::I64);
  EXPECT_EQ(y.shape(), tf::Dims({2, 3}));
  EXPECT_EQ(y.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_FALSE(tf::registry().get("one_hot").differentiable);
}

TEST(Index, MaskedFillBroadcastsTheMaskAndConvertsTheValue) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor mask = bools({true, false, true}, {3});
  EXPECT_EQ(tf::masked_fill(x, mask, -1.5).to_vector<float>(),
            (std::vector<float>{-1.5f, 2, -1.5f, -1.5f, 5, -1.5f}));
  // The value converts like cast: saturating and truncating for integers, NaN -> 0.
  Tensor u8 = Tensor::from_vec<uint8_t>({1, 2}, {2});
  Tensor both = bools({true, true}, {2});
  EXPECT_EQ(tf::masked_fill(u8, both, 300.0).to_vector<int>(), (std::vector<int>{255, 255}));
  EXPECT_EQ(tf::masked_fill(u8, both, -7.0).to_vector<int>(), (std::vector<int>{0, 0}));
  Tensor i32 = Tensor::from_vec<int32_t>({1, 2}, {2});
  EXPECT_EQ(tf::masked_fill(i32, both, 1.9).to_vector<int>(), (std::vector<int>{1, 1}));
  EXPECT_EQ(tf::masked_fill(i32, both, std::nan("")).to_vector<int>(), (std::vector<int>{0, 0}));
  EXPECT_TRUE(std::isnan(tf::masked_fill(x, mask, std::nan("")).to_vector<float>()[0]));
}

TEST(Index, MaskedSelectBroadcastsBothWays) {
  Tensor x = f32({1, 2, 3}, {3});
  Tensor mask = bools({true, false, true, false, true, true}, {2, 3});
  Tensor y = tf::masked_select(x, mask);
  EXPECT_EQ(y.shape(), tf::Dims({4}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{1, 3, 2, 3}));
  Tensor rows = tf::masked_select(f32({1, 2, 3, 4}, {2, 2}), bools({false, true}, {2, 1}));
  EXPECT_EQ(rows.to_vector<float>(), (std::vector<float>{3, 4}));
}

// ---- errors -------------------------------------------------------------------------------

TEST(Index, IndexDTypeMustBeI32OrI64) {
  Tensor x = f32({1, 2, 3, 4}, {2, 2});
  for (DType bad : {DType::F32, DType::F64, DType::U8, DType::I8, DType::Bool, DType::F16}) {
    Tensor index = i64({0, 1, 1, 0}, {2, 2}).cast(bad);
    EXPECT_THROW(tf::gather(x, 0, index), tf::DTypeError);
    EXPECT_THROW(tf::scatter(x, 0, index, x), tf::DTypeError);
    EXPECT_THROW(tf::scatter_add(x, 0, index, x), tf::DTypeError);
    EXPECT_THROW(tf::take(x, index), tf::DTypeError);
    EXPECT_THROW(tf::index_select(x, 0, index.flatten()), tf::DTypeError);
    EXPECT_THROW(tf::one_hot(index, 2), tf::DTypeError);
  }
}

TEST(Index, OutOfRangeIndexNamesValuePositionAndRange) {
  Tensor x = f32({1, 2, 3, 4}, {2, 2});
  std::string msg = error_message<tf::IndexError>([&] {
    tf::gather(x, 0, i64({0, 1, 2, 0}, {2, 2}));
  });
  EXPECT_TRUE(contains(msg, "index value 2 at position [1, 0]")) << msg;
  EXPECT_TRUE(contains(msg, "-2 <= index < 2")) << msg;
  EXPECT_TRUE(contains(msg, "gather")) << msg;
  msg = error_message<tf::IndexError>([&] { tf::gather(x, 1, i64({0, -3}, {1, 2})); });
  EXPECT_TRUE(contains(msg, "index value -3 at position [0, 1]")) << msg;
  // The first bad position is reported, also when several are bad.
  msg = error_message<tf::IndexError>([&] { tf::take(x, i64({0, 9, -5, 4}, {4})); });
  EXPECT_TRUE(contains(msg, "index value 9 at position [1]")) << msg;
  EXPECT_TRUE(contains(msg, "-4 <= index < 4")) << msg;
  EXPECT_THROW(tf::index_select(x, 1, i64({0, 2}, {2})), tf::IndexError);
  EXPECT_THROW(tf::index_select(x, 1, i64({-3}, {1})), tf::IndexError);
  msg = error_message<tf::IndexError>([&] { tf::one_hot(i64({1, -1}, {2}), 3); });
  EXPECT_TRUE(contains(msg, "index value -1 at position [1]")) << msg;
  EXPECT_TRUE(contains(msg, "0 <= index < 3")) << msg;
  EXPECT_THROW(tf::one_hot(i64({3}, {1}), 3), tf::IndexError);
  for (bool add : {false, true}) {
    Tensor index = i64({0, 5}, {1, 2});
    Tensor src = f32({7, 8}, {1, 2});
    auto call = [&] {
      return add ? tf::scatter_add(x, 0, index, src) : tf::scatter(x, 0, index, src);
    };
    EXPECT_THROW(call(), tf::IndexError);
  }
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  // Large tensors are validated in parallel; the first bad position still wins.
  ThreadCount threads(4);
  std::vector<int64_t> big(1 << 18, 0);
  big[100000] = 7;
  big[200000] = -9;
  msg = error_message<tf::IndexError>(
      [&] { tf::take(x, Tensor::from_vec(big, {static_cast<int64_t>(big.size())})); });
  EXPECT_TRUE(contains(msg, "index value 7 at position [100000]")) << msg;
}

TEST(Index, ShapeErrors) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_THROW(tf::gather(x, 0, i64({0, 1}, {2})), tf::ShapeError);           // rank differs
  EXPECT_THROW(tf::gather(x, 0, i64({0, 0, 0, 0}, {1, 4})), tf::ShapeError);  // too wide off axis
  EXPECT_THROW(tf::gather(x, 2, i64({0}, {1, 1})), tf::IndexError);           // axis
  Tensor index = i64({0, 1}, {1, 2});
  EXPECT_THROW(tf::scatter(x, 0, index, f32({1}, {1, 1})), tf::ShapeError);  // src too small
  EXPECT_THROW(tf::scatter(x, 0, index, f32({1, 2}, {2})), tf::ShapeError);  // src rank
  EXPECT_THROW(tf::scatter(x, 0, i64({0, 1}, {2}), x), tf::ShapeError);      // index rank
  EXPECT_THROW(tf::scatter_add(x, 0, index, x.cast(DType::F64)), tf::DTypeError);
  EXPECT_THROW(tf::index_select(x, 0, index), tf::ShapeError);  // 2-d index
  EXPECT_THROW(tf::index_select(Tensor::from_scalar(1.f), 0, i64({0}, {1})), tf::ShapeError);
  EXPECT_THROW(tf::index_select(x, -3, i64({0}, {1})), tf::IndexError);
}

TEST(Index, OneHotDepthMustBePositive) {
  EXPECT_THROW(tf::one_hot(i64({0}, {1}), 0), tf::InvalidArgument);
  EXPECT_THROW(tf::one_hot(i64({0}, {1}), -2), tf::InvalidArgument);
}

TEST(Index, MaskErrors) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  for (DType bad : {DType::U8, DType::F32, DType::I64}) {
    Tensor mask = i64({1, 0, 1}, {3}).cast(bad);
    EXPECT_THROW(tf::masked_fill(x, mask, 0.0), tf::DTypeError);
    EXPECT_THROW(tf::masked_select(x, mask), tf::DTypeError);
  }
  // masked_fill's mask must broadcast to x itself, not to a larger shape.
  EXPECT_THROW(tf::masked_fill(f32({1, 2, 3}, {3}),
                               bools({true, false, true, true, false, true}, {2, 3}), 0.0),
               tf::ShapeError);
  EXPECT_THROW(tf::masked_select(x, bools({true, false}, {2})), tf::ShapeError);
}

// ---- empty and 0-d ------------------------------------------------------------------------

TEST(Index, EmptyIndexTensors) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor none = Tensor::from_vec(std::vector<int64_t>{}, {0, 3});
  EXPECT_EQ(tf::gather(x, 0, none).shape(), tf::Dims({0, 3}));
  EXPECT_EQ(tf::scatter(x, 0, none, x).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(tf::scatter_add(x, 0, none, x).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(tf::take(x, none).shape(), tf::Dims({0, 3}));
  Tensor none1 = Tensor::from_vec(std::vector<int32_t>{}, {0});
  EXPECT_EQ(tf::index_select(x, 1, none1).shape(), tf::Dims({2, 0}));
  EXPECT_EQ(tf::one_hot(none, 4).shape(), tf::Dims({0, 3, 4}));
  EXPECT_EQ(tf::masked_select(x, bools({false, false, false}, {3})).shape(), tf::Dims({0}));
  // An empty x: any index is out of range, but no index at all is fine.
  Tensor empty = Tensor::from_vec(std::vector<float>{}, {2, 0});
  EXPECT_EQ(tf::index_select(empty, 1, none1).shape(), tf::Dims({2, 0}));
  EXPECT_EQ(tf::take(empty, none1).shape(), tf::Dims({0}));
  const std::string msg = error_message<tf::IndexError>([&] { tf::take(empty, i64({0}, {1})); });
  EXPECT_TRUE(contains(msg, "no index is valid")) << msg;
  EXPECT_THROW(tf::index_select(empty, 1, i64({0}, {1})), tf::IndexError);
  EXPECT_EQ(tf::masked_fill(empty, bools({true}, {1}), 1.0).shape(), tf::Dims({2, 0}));
  EXPECT_EQ(tf::masked_select(empty, bools({true}, {1})).shape(), tf::Dims({0}));
}

TEST(Index, ZeroDimensional) {
  Tensor x = Tensor::from_scalar(5.f);
  Tensor zero = Tensor::from_scalar<int64_t>(0);
  Tensor minus_one = Tensor::from_scalar<int32_t>(-1);
  EXPECT_EQ(tf::gather(x, 0, zero).shape(), tf::Dims());
  EXPECT_EQ(tf::gather(x, -1, minus_one).item<float>(), 5.f);
  EXPECT_THROW(tf::gather(x, 1, zero), tf::IndexError);
  EXPECT_THROW(tf::gather(x, 0, Tensor::from_scalar<int64_t>(1)), tf::IndexError);
  EXPECT_EQ(tf::scatter(x, 0, zero, Tensor::from_scalar(7.f)).item<float>(), 7.f);
  EXPECT_EQ(tf::scatter_add(x, 0, minus_one, Tensor::from_scalar(7.f)).item<float>(), 12.f);
  EXPECT_EQ(tf::take(x, minus_one).item<float>(), 5.f);
  EXPECT_EQ(tf::take(f32({1, 2, 3}, {3}), minus_one).shape(), tf::Dims());
  Tensor hot = tf::one_hot(Tensor::from_scalar<int64_t>(1), 3);
  EXPECT_EQ(hot.shape(), tf::Dims({3}));
  EXPECT_EQ(hot.to_vector<float>(), (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(tf::masked_fill(x, Tensor::from_scalar(true), 2.0).item<float>(), 2.f);
  EXPECT_EQ(tf::masked_select(x, Tensor::from_scalar(true)).to_vector<float>(),
            (std::vector<float>{5}));
  EXPECT_EQ(tf::masked_select(x, Tensor::from_scalar(false)).shape(), tf::Dims({0}));
}

// ---- large tensors under threads ----------------------------------------------------------

TEST(Index, ParallelGatherMatchesLoop) {
  ThreadCount threads(4);
  std::mt19937_64 engine(7);
  const int64_t rows = 300, cols = 257, picks = 1000;
  std::vector<float> xs(static_cast<size_t>(rows * cols));
  for (auto& v : xs) v = std::uniform_real_distribution<float>(-1, 1)(engine);
  std::vector<int64_t> is(static_cast<size_t>(picks * cols));
  for (auto& v : is) v = std::uniform_int_distribution<int64_t>(-rows, rows - 1)(engine);
  Tensor x = Tensor::from_vec(xs, {rows, cols});
  // The index is stored transposed, so the kernel reads it strided.
  Tensor index = Tensor::from_vec(is, {cols, picks}).t();
  const std::vector<float> got = tf::gather(x, 0, index).to_vector<float>();
  for (int64_t i = 0; i < picks; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      int64_t k = is[static_cast<size_t>(j * picks + i)];
      if (k < 0) k += rows;
      ASSERT_EQ(got[static_cast<size_t>(i * cols + j)], xs[static_cast<size_t>(k * cols + j)]);
    }
  }
}

TEST(Index, ScatterAddIsDeterministicUnderThreads) {
  std::mt19937_64 engine(11);
  const int64_t rows = 64, cols = 300, updates = 2048;
  std::vector<float> xs(static_cast<size_t>(rows * cols)), src(static_cast<size_t>(updates * cols));
  for (auto& v : xs) v = std::uniform_real_distribution<float>(-1, 1)(engine);
  for (auto& v : src) v = std::uniform_real_distribution<float>(-1, 1)(engine);
  std::vector<int64_t> is(src.size());
  for (auto& v : is) v = std::uniform_int_distribution<int64_t>(0, rows - 1)(engine);
  Tensor x = Tensor::from_vec(xs, {rows, cols});
  Tensor index = Tensor::from_vec(is, {updates, cols});
  Tensor s = Tensor::from_vec(src, {updates, cols});
  // Additions in index order along the axis, in float, give the exact same bits.
  std::vector<float> expected = xs;
  for (int64_t i = 0; i < updates; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const auto at = static_cast<size_t>(i * cols + j);
      expected[static_cast<size_t>(is[at] * cols + j)] += src[at];
    }
  }
  for (int threads : {1, 4}) {
    ThreadCount count(threads);
    EXPECT_EQ(tf::scatter_add(x, 0, index, s).to_vector<float>(), expected)
        << threads << " threads";
    // The same along axis 1 of the transposed problem, with transposed (strided) operands.
    EXPECT_EQ(tf::scatter_add(x.t(), 1, index.t(), s.t()).t().to_vector<float>(), expected)
        << threads << " threads, transposed";
  }
}

}  // namespace
