// IdSet: membership, duplicates, growth, the id 0 and clearing, against std::unordered_set.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_set>

#include <tenflowers/core/id_set.hpp>

using tenflowers::IdSet;

TEST(IdSet, InsertsOnceAndFindsWhatItHolds) {
  IdSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.contains(7));
  EXPECT_TRUE(set.insert(7));
  EXPECT_FALSE(set.insert(7));
  EXPECT_TRUE(set.contains(7));
  EXPECT_EQ(set.count(7), 1u);
  EXPECT_EQ(set.count(8), 0u);
  EXPECT_EQ(set.size(), 1u);
}

TEST(IdSet, HoldsZeroLikeAnyOtherId) {
  IdSet set;
  EXPECT_FALSE(set.contains(0));
  EXPECT_TRUE(set.insert(0));
  EXPECT_FALSE(set.insert(0));
  EXPECT_TRUE(set.contains(0));
  EXPECT_EQ(set.size(), 1u);
  set.insert(1);
  EXPECT_EQ(set.size(), 2u);
  set.clear();
  EXPECT_FALSE(set.contains(0));
  EXPECT_FALSE(set.contains(1));
  EXPECT_TRUE(set.empty());
}

TEST(IdSet, GrowsThroughConsecutiveAndScatteredIdsLikeUnorderedSet) {
  IdSet set;
  std::unordered_set<uint64_t> reference;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    // Consecutive ids (as TensorImpl::next_id hands out) mixed with arbitrary ones.
    const uint64_t id = i % 3 == 0 ? rng() : static_cast<uint64_t>(i) + 1000;
    EXPECT_EQ(set.insert(id), reference.insert(id).second);
  }
  EXPECT_EQ(set.size(), reference.size());
  for (uint64_t id : reference) ASSERT_TRUE(set.contains(id)) << id;
  for (uint64_t id = 21000; id < 22000; ++id) EXPECT_FALSE(set.contains(id));
  set.clear();
  EXPECT_EQ(set.size(), 0u);
  for (uint64_t id : reference) ASSERT_FALSE(set.contains(id));
  EXPECT_TRUE(set.insert(1000));  // usable again after clear
  EXPECT_TRUE(set.contains(1000));
}
