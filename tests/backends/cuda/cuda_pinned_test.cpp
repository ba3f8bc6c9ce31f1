// Pinned host tensors and asynchronous host-to-device copies: values, the safety of the default
// copy, the pinned pool's fences (a block freed while its copy is queued is not handed out
// again until the copy has run) and pinned loader batches. Each test skips without a CUDA
// device; tests/core/pinned_test.cpp covers the error there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

class CudaPinned : public CudaTest {};

bool same_bytes(const Tensor& a, const Tensor& b) {
  const Tensor x = a.cpu().contiguous(), y = b.cpu().contiguous();
  return x.dtype() == y.dtype() && x.shape() == y.shape() &&
         std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

// Keeps the GPU's stream busy for tens of milliseconds (an 8192^3 f32 product), so that copies
// queued after it are still pending while the host goes on.
void queue_long_work(const Tensor& square) {
  matmul(square, square);
}

TEST_F(CudaPinned, PinMemoryCopiesIntoPinnedStorageAndIsAnOrdinaryCpuTensor) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::U8, DType::I64, DType::BF16, DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor host = random_tensor(rng, {9, 13}, dtype, -50.0, 50.0);
    const Tensor pinned = host.pin_memory();
    EXPECT_TRUE(pinned.is_pinned());
    EXPECT_FALSE(host.is_pinned());
    EXPECT_FALSE(pinned.shares_storage(host));
    EXPECT_EQ(pinned.device(), Device::cpu());
    EXPECT_TRUE(same_bytes(pinned, host));
    EXPECT_TRUE(pinned.pin_memory().shares_storage(pinned));  // already pinned: itself
    EXPECT_TRUE(pinned.t().is_pinned());                      // views share the pinned storage
  }
  // A strided view pins as a contiguous copy; ops on pinned tensors give ordinary CPU results.
  const Tensor x = random_tensor(rng, {6, 8}, DType::F32, -1.0, 1.0);
  const Tensor pinned_t = x.t().pin_memory();
  EXPECT_TRUE(pinned_t.is_contiguous());
  EXPECT_TRUE(same_bytes(pinned_t, x.t().contiguous()));
  const Tensor sum = pinned_t + pinned_t;
  EXPECT_FALSE(sum.is_pinned());
  EXPECT_TRUE(same_bytes(sum, x.t() + x.t()));
}

TEST_F(CudaPinned, PinMemoryOfAGpuTensorIsADeviceError) {
  const Tensor on_gpu = Tensor::from_vec({1.f, 2.f}, {2}, gpu);
  EXPECT_THROW(on_gpu.pin_memory(), DeviceError);
  EXPECT_FALSE(on_gpu.is_pinned());
}

TEST_F(CudaPinned, RoundTripsFromPinnedMemoryKeepTheBytes) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::Bool, DType::I8, DType::I32, DType::F16, DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor host = random_tensor(rng, {37, 5}, dtype, -100.0, 100.0);
    const Tensor pinned = host.pin_memory();
    EXPECT_TRUE(same_bytes(pinned.to(gpu), host));
    EXPECT_TRUE(same_bytes(pinned.to(gpu, true), host));
    EXPECT_TRUE(same_bytes(pinned.slice(0, 3, 30, 2).to(gpu, true), host.slice(0, 3, 30, 2)));
  }
  // Empty tensors and a non-blocking copy from pageable memory (an ordinary, safe copy).
  EXPECT_EQ(Tensor::empty({0, 4}).pin_memory().to(gpu, true).shape(), Dims({0, 4}));
  Tensor pageable = arange(0.0, 1000.0, 1.0, DType::F32);
  const Tensor copied = pageable.to(gpu, true);
  std::memset(pageable.data_ptr(), 0, pageable.nbytes());
  EXPECT_EQ(copied.to_vector<float>(), arange(0.0, 1000.0, 1.0, DType::F32).to_vector<float>());
}

// The default copy keeps its contract for pinned sources too: the source may change as soon as
// to() returns, even with the device busy and the copy still queued.
TEST_F(CudaPinned, DefaultCopyFromPinnedLeavesTheSourceFreeToChange) {
  const Tensor square = uniform({8192, 8192}, -1.0, 1.0, DType::F32, 5, gpu);
  const int64_t n = 5'000'011;  // several staging chunks
  Tensor pinned = arange(0.0, static_cast<double>(n), 1.0, DType::F32).pin_memory();
  queue_long_work(square);
  const Tensor copied = pinned.to(gpu);
  std::memset(pinned.data_ptr(), 0, pinned.nbytes());
  EXPECT_TRUE(same_bytes(copied, arange(0.0, static_cast<double>(n), 1.0, DType::F32)));
}

// A pinned block freed while its copy is still queued must not come back from the pool (where
// the next pin_memory() would overwrite it) until the copy has run; afterwards it is reused.
TEST_F(CudaPinned, AFreedBlockIsHeldUntilItsCopyHasRunThenReused) {
  const Tensor square = uniform({8192, 8192}, -1.0, 1.0, DType::F32, 6, gpu);
  const int64_t n = 3 << 18;
  const Tensor values = full({n}, 7.0, DType::F32);
  values.pin_memory().to(gpu, true);  // warms the device pool, so nothing below synchronizes
  synchronize(gpu);
  queue_long_work(square);
  Tensor copied;
  const void* first_block = nullptr;
  {
    const Tensor pinned = values.pin_memory();
    first_block = pinned.data_ptr();
    copied = pinned.to(gpu, true);
  }
  const Tensor next = full({n}, -1.0, DType::F32).pin_memory();
  EXPECT_NE(next.data_ptr(), first_block) << "a block was reused while its copy was queued";
  EXPECT_TRUE(same_bytes(copied, values));
  synchronize(gpu);
  const MemoryStats before = pinned_memory_stats();  // the fenced block is back in the cache
  EXPECT_GT(before.cached_bytes, 0u);
  { const Tensor again = values.pin_memory(); }
  const MemoryStats after = pinned_memory_stats();
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
  EXPECT_EQ(after.device_allocations, before.device_allocations);
  release_cached_pinned_memory();
  EXPECT_EQ(pinned_memory_stats().cached_bytes, 0u);
}

// Many asynchronous copies from pinned blocks that are freed, recycled and rewritten right away
// (by the next source and by scribbles), from two threads: every copy keeps its own values.
TEST_F(CudaPinned, RecycledPinnedSourcesNeverCorruptQueuedCopies) {
  const Tensor square = uniform({4096, 4096}, -1.0, 1.0, DType::F32, 8, gpu);
  const size_t in_use_before = pinned_memory_stats().in_use_bytes;
  constexpr int kCopies = 160;
  auto run = [&](int first, std::vector<Tensor>& copies) {
    for (int i = first; i < first + kCopies; ++i) {
      if (first == 0 && i % 40 == 0) queue_long_work(square);  // one thread drives cuBLAS
      const int64_t n = (1 << 16) + (i % 3) * 4096;  // three sizes share the pool's blocks
      copies.push_back(full({n}, static_cast<double>(i), DType::F32).pin_memory().to(gpu, true));
      Tensor scribble = Tensor::empty({n}, DType::F32).pin_memory();
      std::fill_n(scribble.data<float>(), n, -1.0f);
    }
  };
  std::vector<Tensor> first, second;
  std::thread other([&] { run(kCopies, second); });
  run(0, first);
  other.join();
  for (int i = 0; i < 2 * kCopies; ++i) {
    const Tensor& copy =
        i < kCopies ? first[static_cast<size_t>(i)] : second[static_cast<size_t>(i - kCopies)];
    const std::vector<float> got = copy.to_vector<float>();
    const bool all_equal =
        std::all_of(got.begin(), got.end(), [&](float v) { return v == static_cast<float>(i); });
    EXPECT_TRUE(all_equal) << "copy " << i << " was corrupted";
  }
  synchronize(gpu);
  EXPECT_EQ(pinned_memory_stats().in_use_bytes, in_use_before);  // every fence has passed
}

TEST_F(CudaPinned, LoaderWithPinMemoryYieldsPinnedBatchesEqualToUnpinnedOnes) {
  Rng rng = Rng::for_test();
  const Tensor x = random_tensor(rng, {103, 7}, DType::F32, -1.0, 1.0);
  const Tensor y = arange(103);
  for (int workers : {0, 2}) {
    SCOPED_TRACE(workers);
    const data::DataLoaderOptions options{
        .batch_size = 16, .shuffle = true, .seed = 3, .num_workers = workers};
    data::DataLoaderOptions pinned_options = options;
    pinned_options.pin_memory = true;
    const data::DataLoader plain({x, y}, options), pinned({x, y}, pinned_options);
    std::vector<data::Element> expected, got;
    for (const data::Element& batch : plain.epoch(1)) expected.push_back(batch);
    for (const data::Element& batch : pinned.epoch(1)) got.push_back(batch);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t b = 0; b < got.size(); ++b) {
      for (size_t c = 0; c < 2; ++c) {
        EXPECT_TRUE(got[b][c].is_pinned()) << "batch " << b;
        EXPECT_FALSE(expected[b][c].is_pinned()) << "batch " << b;
        EXPECT_TRUE(same_bytes(got[b][c], expected[b][c])) << "batch " << b;
        EXPECT_TRUE(same_bytes(got[b][c].to(gpu, true), expected[b][c])) << "batch " << b;
      }
    }
  }
  const Tensor on_gpu = x.to(gpu);
  EXPECT_THROW(data::DataLoader({on_gpu}, {.pin_memory = true}), DeviceError);
}

}  // namespace
}  // namespace tenflowers::testing
