// The CUDA backend: transfers, the caching allocator, errors and devices. Each test skips when
// no CUDA device is present (CI has none); tools/run_gpu_checks.sh runs them on a GPU machine.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

class Cuda : public CudaTest {};

Tensor random_cpu(Rng& rng, std::vector<int64_t> shape, DType dtype) {
  return random_tensor(rng, std::move(shape), dtype, -100.0, 100.0);
}

TEST_F(Cuda, RoundTripKeepsEveryDTypeBitExact) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::Bool, DType::U8, DType::I8, DType::I32, DType::I64, DType::F16,
                      DType::BF16, DType::F32, DType::F64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor host = random_cpu(rng, {37, 5}, dtype);
    const Tensor device = host.to(gpu);
    EXPECT_EQ(device.device(), gpu);
    EXPECT_EQ(device.dtype(), dtype);
    const Tensor back = device.cpu();
    ASSERT_EQ(back.nbytes(), host.nbytes());
    EXPECT_EQ(std::memcmp(back.data_ptr(), host.data_ptr(), host.nbytes()), 0);
  }
}

TEST_F(Cuda, LargeTransferIsIndependentOfTheHostBufferAfterwards) {
  // 80 MB: several staging chunks in turn.
  const int64_t n = 20'000'003;
  Tensor host = arange(0.0, static_cast<double>(n), 1.0, DType::F32);
  const Tensor device = host.to(gpu);
  std::memset(host.data_ptr(), 0, host.nbytes());  // the copy must not read it any more
  const std::vector<float> back = device.to_vector<float>();
  ASSERT_EQ(static_cast<int64_t>(back.size()), n);
  for (int64_t i = 0; i < n; i += 999'983) EXPECT_EQ(back[static_cast<size_t>(i)], float(i));
  EXPECT_EQ(back.back(), float(n - 1));
}

TEST_F(Cuda, StridedViewsCopyOnTheDevice) {
  Rng rng = Rng::for_test();
  const Tensor host = random_cpu(rng, {6, 7, 8}, DType::F32);
  const Tensor on_gpu = host.to(gpu).permute({2, 0, 1}).slice(1, 1, 6, 2).contiguous();
  EXPECT_EQ(on_gpu.device(), gpu);
  const Tensor expected = host.permute({2, 0, 1}).slice(1, 1, 6, 2).contiguous();
  EXPECT_EQ(on_gpu.cpu().to_vector<float>(), expected.to_vector<float>());
}

TEST_F(Cuda, ElementwiseMatchesTheCpuOnLargeAndOddSizes) {
  Rng rng = Rng::for_test();
  for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{1'000'003}}) {
    const Tensor x = random_cpu(rng, {n}, DType::F32);
    const Tensor y = random_cpu(rng, {n}, DType::F32);
    const Tensor gx = x.to(gpu), gy = y.to(gpu);
    EXPECT_EQ((gx * gy + gx).relu().cpu().to_vector<float>(),
              (x * y + x).relu().to_vector<float>());
    // A misaligned view (offset 1) takes the unvectorized path.
    if (n > 1) {
      EXPECT_EQ(gx.slice(0, 1, n).neg().cpu().to_vector<float>(),
                x.slice(0, 1, n).neg().to_vector<float>());
    }
  }
}

// matmul reads permuted batches (attention's heads) through entry addresses, and folds a batch
// against one shared matrix into a single product; both must equal the CPU's result.
TEST_F(Cuda, MatmulOfPermutedAndSharedOperandsMatchesTheCpu) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::F64, DType::F32}) {
    SCOPED_TRACE(dtype_name(dtype));
    // Sums of 5 or 7 products of values in [-1, 1] can cancel to near zero, so the bound has an
    // absolute part: a few units of rounding of the terms' magnitude.
    const double rtol = dtype == DType::F64 ? 1e-12 : 1e-5;
    const double atol = dtype == DType::F64 ? 1e-14 : 1e-6;
    auto check = [&](const Tensor& a, const Tensor& b, auto view_a, auto view_b) {
      const Tensor expected = matmul(view_a(a), view_b(b));
      const Tensor got = matmul(view_a(a.to(gpu)), view_b(b.to(gpu))).cpu();
      ASSERT_EQ(got.shape(), expected.shape());
      EXPECT_TRUE(allclose(got, expected, rtol, atol));
    };
    const auto heads = [](const Tensor& t) { return t.permute({0, 2, 1, 3}); };
    const auto heads_t = [](const Tensor& t) { return t.permute({0, 2, 3, 1}); };
    const auto same = [](const Tensor& t) { return t; };
    const Tensor q = random_tensor(rng, {2, 7, 3, 5}, dtype, -1.0, 1.0);
    const Tensor k = random_tensor(rng, {2, 7, 3, 5}, dtype, -1.0, 1.0);
    check(q, k, heads, heads_t);  // [2, 3, 7, 5] @ [2, 3, 5, 7]
    const Tensor shared = random_tensor(rng, {5, 6}, dtype, -1.0, 1.0);
    check(q, shared, heads, same);  // scattered left entries, shared right
    check(q, shared, same, same);   // folds into one [42, 5] @ [5, 6] product
    const Tensor rows = random_tensor(rng, {4, 3, 5}, dtype, -1.0, 1.0);
    check(
        rows, shared, [](const Tensor& t) { return t.slice(1, 1, 2); }, same);  // m = 1
  }
}

// A configuration the conformance harness drew: cuDNN measures its backward-data algorithm
// without tensor cores, and the call must then use the same math.
TEST_F(Cuda, GroupedDilatedHalfTransposedConvolutionMatchesTheCpu) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::F16, DType::BF16, DType::F32}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor x = random_tensor(rng, {1, 6, 1, 4}, dtype, -1.0, 1.0);
    const Tensor w = random_tensor(rng, {6, 2, 2, 1}, dtype, -1.0, 1.0);
    auto run = [](const Tensor& a, const Tensor& b) {
      return conv_transpose2d(a, b, {}, {2, 2}, {1, 0}, {0, 1}, {2, 2}, 3).cast(DType::F32);
    };
    const Tensor expected = run(x, w);
    const Tensor got = run(x.to(gpu), w.to(gpu)).cpu();
    ASSERT_EQ(got.shape(), expected.shape());
    EXPECT_TRUE(allclose(got, expected, 1e-2, 1e-2));
  }
}

TEST_F(Cuda, CachingAllocatorReusesFreedBlocks) {
  release_cached_memory(gpu);
  { const Tensor a = Tensor::empty({1 << 20}, DType::F32, gpu); }
  const MemoryStats before = memory_stats(gpu);
  { const Tensor b = Tensor::empty({1 << 20}, DType::F32, gpu); }
  const MemoryStats after = memory_stats(gpu);
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
  EXPECT_EQ(after.device_allocations, before.device_allocations);
  EXPECT_GT(after.cached_bytes, 0u);
  release_cached_memory(gpu);
  EXPECT_EQ(memory_stats(gpu).cached_bytes, 0u);
}

TEST_F(Cuda, OutOfMemoryIsATypedErrorAndTheDeviceStaysUsable) {
  EXPECT_THROW(Tensor::empty({int64_t{1} << 48}, DType::F32, gpu), OutOfMemoryError);
  EXPECT_EQ(ones({4}, DType::F32, gpu).cpu().to_vector<float>(), std::vector<float>(4, 1.0f));
}

TEST_F(Cuda, InputsOnDifferentDevicesAreRejected) {
  const Tensor a = ones({3});
  const Tensor b = ones({3}, DType::F32, gpu);
  EXPECT_THROW(a + b, DeviceError);
}

TEST_F(Cuda, DefaultDeviceAppliesToCreation) {
  set_default_device(gpu);
  const Tensor z = zeros({2, 2});
  set_default_device(Device::cpu());
  EXPECT_EQ(z.device(), gpu);
  EXPECT_EQ(z.cpu().to_vector<float>(), std::vector<float>(4, 0.0f));
}

TEST_F(Cuda, MissingDeviceIndexIsADeviceError) {
  EXPECT_THROW(ones({1}, DType::F32, Device::cuda(device_count(DeviceType::CUDA))), DeviceError);
}

TEST(CudaAvailability, DeviceCountMatchesTheBackend) {
  EXPECT_EQ(device_count(DeviceType::CUDA) > 0, has_backend(DeviceType::CUDA));
}

}  // namespace
}  // namespace tenflowers::testing
