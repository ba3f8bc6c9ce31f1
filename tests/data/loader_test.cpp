#include "tenflowers/data/loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <random>
#include <set>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/parallel.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

// A source with distinct rows: x[i] = random floats, y[i] = i * 3 + 1.
struct Source {
  std::vector<float> x;
  std::vector<int64_t> y;
  int64_t rows, width;
  Source(int64_t rows_, int64_t width_, uint32_t seed) : rows(rows_), width(width_) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-5, 5);
    x.resize(static_cast<size_t>(rows * width));
    for (float& v : x) v = dist(gen);
    for (int64_t i = 0; i < rows; ++i) y.push_back(i * 3 + 1);
  }
  std::vector<Tensor> tensors() const {
    return {Tensor::from_vec(x, {rows, width}), Tensor::from_vec(y, {rows})};
  }
};

std::vector<Element> epoch_batches(const DataLoader& loader, int64_t epoch) {
  return test::drain(loader.epoch(epoch));
}

// Checks every batch against rows gathered by hand from the sample order.
void expect_batches_follow_order(const Source& src, const DataLoader& loader, int64_t epoch) {
  const std::vector<int64_t> order = loader.sample_order(epoch).to_vector<int64_t>();
  const std::vector<Element> batches = epoch_batches(loader, epoch);
  ASSERT_EQ(static_cast<int64_t>(batches.size()), loader.size());
  const int64_t bs = loader.options().batch_size;
  for (size_t b = 0; b < batches.size(); ++b) {
    const int64_t start = static_cast<int64_t>(b) * bs;
    const int64_t rows = std::min(bs, src.rows - start);
    ASSERT_EQ(batches[b][0].shape(), Dims({rows, src.width}));
    std::vector<float> expected_x;
    std::vector<int64_t> expected_y;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t sample = order[static_cast<size_t>(start + r)];
      for (int64_t c = 0; c < src.width; ++c) {
        expected_x.push_back(src.x[static_cast<size_t>(sample * src.width + c)]);
      }
      expected_y.push_back(src.y[static_cast<size_t>(sample)]);
    }
    EXPECT_EQ(batches[b][0].to_vector<float>(), expected_x) << "batch " << b;
    EXPECT_EQ(batches[b][1].to_vector<int64_t>(), expected_y) << "batch " << b;
  }
}

TEST(DataLoader, SequentialBatchesAndSize) {
  const Source src(23, 4, 1);
  for (bool drop_last : {false, true}) {
    const DataLoader loader(src.tensors(), {.batch_size = 5, .drop_last = drop_last});
    EXPECT_EQ(loader.size(), drop_last ? 4 : 5);
    EXPECT_EQ(loader.num_samples(), 23);
    std::vector<int64_t> identity(23);
    std::iota(identity.begin(), identity.end(), 0);
    EXPECT_EQ(loader.sample_order(3).to_vector<int64_t>(), identity);
    expect_batches_follow_order(src, loader, 0);
  }
}

TEST(DataLoader, ShuffleIsAPermutationPerEpochDerivedFromTheSeed) {
  const Source src(40, 3, 2);
  const DataLoader loader(src.tensors(), {.batch_size = 8, .shuffle = true, .seed = 11});
  std::set<std::vector<int64_t>> orders;
  for (int64_t epoch = 0; epoch < 4; ++epoch) {
    std::vector<int64_t> order = loader.sample_order(epoch).to_vector<int64_t>();
    orders.insert(order);
    EXPECT_EQ(order, loader.sample_order(epoch).to_vector<int64_t>());
    std::sort(order.begin(), order.end());
    for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
    expect_batches_follow_order(src, loader, epoch);
  }
  EXPECT_EQ(orders.size(), 4u);
  const DataLoader same(src.tensors(), {.batch_size = 8, .shuffle = true, .seed = 11});
  EXPECT_EQ(same.sample_order(2).to_vector<int64_t>(), loader.sample_order(2).to_vector<int64_t>());
  const DataLoader other(src.tensors(), {.batch_size = 8, .shuffle = true, .seed = 12});
  EXPECT_NE(other.sample_order(0).to_vector<int64_t>(),
            loader.sample_order(0).to_vector<int64_t>());
}

TEST(DataLoader, BatchesAreIdenticalForAnyWorkerCount) {
  const Source src(101, 6, 3);
  std::vector<std::vector<Element>> runs;
  for (int workers : {0, 1, 3}) {
    const DataLoader loader(
        src.tensors(),
        {.batch_size = 7, .shuffle = true, .seed = 5, .drop_last = false, .num_workers = workers});
    runs.push_back(epoch_batches(loader, 1));
    expect_batches_follow_order(src, loader, 1);
  }
  for (size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), runs[0].size());
    for (size_t b = 0; b < runs[0].size(); ++b) {
      for (size_t c = 0; c < 2; ++c) {
        EXPECT_EQ(runs[r][b][c].shape(), runs[0][b][c].shape());
        EXPECT_EQ(runs[r][b][c].to_vector<double>(), runs[0][b][c].to_vector<double>());
      }
    }
  }
}

TEST(DataLoader, ThreadLimitScopeNestsAndRestores) {
  // Loader workers share their pool with parallel map, whose test observes the cap from inside
  // a worker; here the scope's own rules.
  const int previous = get_num_threads();
  set_num_threads(6);
  {
    const ThreadLimitScope limit(2);
    EXPECT_EQ(get_num_threads(), 2);
    {
      const ThreadLimitScope looser(4);
      EXPECT_EQ(get_num_threads(), 2);  // the tighter cap wins
    }
    {
      const ThreadLimitScope tighter(1);
      EXPECT_EQ(get_num_threads(), 1);
    }
    EXPECT_EQ(get_num_threads(), 2);
  }
  EXPECT_EQ(get_num_threads(), 6);
  EXPECT_THROW(ThreadLimitScope(0), InvalidArgument);
  set_num_threads(previous);
}

TEST(DataLoader, EarlyStopJoinsWorkers) {
  const Source src(500, 8, 4);
  const DataLoader loader(src.tensors(), {.batch_size = 4, .num_workers = 3});
  for (int round = 0; round < 10; ++round) {
    Iterator epoch = loader.epoch(round);
    ASSERT_TRUE(epoch.next().has_value());
  }
  // Range-for over an epoch; the loader may go away while the epoch runs.
  Iterator epoch = DataLoader(src.tensors(), {.batch_size = 100, .num_workers = 2}).epoch(0);
  int64_t batches = 0;
  for (const Element& b : epoch) {
    EXPECT_EQ(b[0].size(0), 100);
    ++batches;
  }
  EXPECT_EQ(batches, 5);
}

TEST(DataLoader, FromAFiniteDataset) {
  const Source src(17, 2, 5);
  const Dataset ds = Dataset::from_tensors(src.tensors()).map([](Element e) { return e; });
  const DataLoader loader(ds, {.batch_size = 4, .shuffle = true, .seed = 1, .num_workers = 2});
  EXPECT_EQ(loader.num_samples(), 17);
  EXPECT_EQ(loader.size(), 5);
  expect_batches_follow_order(src, loader, 0);
  EXPECT_THROW(DataLoader(ds.repeat(), {}), InvalidArgument);
  EXPECT_THROW(DataLoader(ds.take(0), {}), InvalidArgument);
  const Dataset ragged = Dataset::range(5).map(
      [](Element e) { return Element{zeros({e[0].item<int64_t>() == 3 ? 2 : 1})}; });
  try {
    DataLoader bad(ragged, {});
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("element 3"), std::string::npos) << e.what();
  }
}

TEST(DataLoader, ValidatesItsArguments) {
  EXPECT_THROW(DataLoader({zeros({4, 2}), zeros({5})}, {}), ShapeError);
  EXPECT_THROW(DataLoader({Tensor::from_scalar(1.0f)}, {}), ShapeError);
  EXPECT_THROW(DataLoader(std::vector<Tensor>{}, {}), InvalidArgument);
  EXPECT_THROW(DataLoader({zeros({4})}, {.batch_size = 0}), InvalidArgument);
  EXPECT_THROW(DataLoader({zeros({4})}, {.num_workers = -1}), InvalidArgument);
  const DataLoader loader({zeros({4})}, {.batch_size = 8, .drop_last = true});
  EXPECT_EQ(loader.size(), 0);
  EXPECT_FALSE(loader.epoch(0).next().has_value());
  EXPECT_THROW(loader.epoch(-1), InvalidArgument);
  const DataLoader empty({zeros({0, 3})}, {.batch_size = 2, .num_workers = 2});
  EXPECT_EQ(empty.size(), 0);
  EXPECT_FALSE(empty.epoch(0).next().has_value());
}

// Without a CUDA device (CI), asking for pinned batches fails at construction, not at the first
// batch. With one, cuda_tests check the pinned batches themselves.
TEST(DataLoader, PinMemoryWithoutCudaIsADeviceErrorAtConstruction) {
  if (has_backend(DeviceType::CUDA)) GTEST_SKIP() << "a CUDA device is present";
  const Source src(10, 3, 5);
  try {
    DataLoader(src.tensors(), {.batch_size = 4, .num_workers = 2, .pin_memory = true});
    FAIL() << "a loader with pin_memory was built without a CUDA device";
  } catch (const DeviceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("pin_memory"), std::string::npos) << message;
    EXPECT_NE(message.find("needs a CUDA device"), std::string::npos) << message;
  }
  const Dataset rows = Dataset::from_tensors(src.tensors());
  EXPECT_THROW(DataLoader(rows, {.pin_memory = true}), DeviceError);
  EXPECT_NO_THROW(DataLoader(src.tensors(), {.batch_size = 4, .pin_memory = false}));
}

}  // namespace
}  // namespace tenflowers::data
