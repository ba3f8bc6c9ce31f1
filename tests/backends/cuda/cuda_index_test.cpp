// The CUDA indexing, shape, creation and random kernels against the CPU's on what the
// conformance checks leave out: inputs large enough for many blocks, long and many sort lines,
// many duplicate scatter targets, the IndexError of a bad index, and seeded random streams that
// match the CPU's. Each test skips when no CUDA device is present.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

class CudaKernels : public CudaTest {
 protected:
  // `t` on the GPU in the same layout, so the kernels meet the same strides as the CPU's.
  Tensor on_gpu(const Tensor& t) const { return to_device_keeping_layout(t, gpu); }
};

// Whether the GPU's result holds exactly the CPU's bytes (NaN payloads and -0 included).
::testing::AssertionResult same_bits(const Tensor& expected, const Tensor& actual) {
  if (expected.dtype() != actual.dtype() || !(expected.shape() == actual.shape())) {
    return ::testing::AssertionFailure()
           << "expected " << dtype_name(expected.dtype()) << expected.shape() << ", got "
           << dtype_name(actual.dtype()) << actual.shape();
  }
  const Tensor a = expected.cpu().contiguous(), b = actual.cpu().contiguous();
  const size_t size = dtype_size(a.dtype());
  const auto* pa = static_cast<const char*>(a.data_ptr());
  const auto* pb = static_cast<const char*>(b.data_ptr());
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + i * size, pb + i * size, size) != 0) {
      const Tensor flat_a = a.reshape({-1}), flat_b = b.reshape({-1});
      return ::testing::AssertionFailure()
             << "element " << i << " (" << dtype_name(a.dtype()) << "): expected "
             << flat_a.at<double>({i}) << ", got " << flat_b.at<double>({i});
    }
  }
  return ::testing::AssertionSuccess();
}

const DType kAllDTypes[] = {DType::Bool, DType::U8,   DType::I8,  DType::I32, DType::I64,
                            DType::F16,  DType::BF16, DType::F32, DType::F64};
const DType kFloatDTypes[] = {DType::F16, DType::BF16, DType::F32, DType::F64};

// Small integers (many ties) in `dtype`; floats also get -0 and about one NaN in ten.
Tensor tied_values(Rng& rng, std::vector<int64_t> shape, DType dtype) {
  Tensor x = random_tensor(rng, shape, DType::I32, dtype == DType::U8 ? 0 : -4, 4).cast(dtype);
  if (!is_floating(dtype)) return x;
  x = masked_fill(x, bernoulli(Dims(shape), 0.1, DType::Bool, rng.engine()()), NAN);
  return masked_fill(x, bernoulli(Dims(shape), 0.1, DType::Bool, rng.engine()()), -0.0);
}

TEST_F(CudaKernels, SortAndTopkMatchTheCpuOnLongAndManyLines) {
  Rng rng = Rng::for_test();
  // One huge line per row, many tiny lines, and lines along a strided outer axis.
  const std::vector<std::pair<std::vector<int64_t>, int64_t>> cases = {
      {{2, 100003}, -1}, {{40000, 3}, 1}, {{7, 3001}, 0}, {{300, 200}, 1}};
  for (DType dtype : kAllDTypes) {
    for (const auto& [shape, axis] : cases) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " " + format_dims(shape));
      const Tensor x = tied_values(rng, shape, dtype);
      const Tensor xt = x.transpose(0, 1).contiguous().transpose(0, 1);  // column-major copy
      for (bool descending : {false, true}) {
        for (const Tensor& input : {x, xt}) {
          const auto [values, indices] = sort(input, axis, descending);
          const auto [gpu_values, gpu_indices] = sort(on_gpu(input), axis, descending);
          EXPECT_TRUE(same_bits(values, gpu_values));
          EXPECT_TRUE(same_bits(indices, gpu_indices));
        }
        const int64_t length = x.size(axis);
        for (int64_t k : {int64_t{1}, int64_t{5}, length / 2}) {
          if (k > length) continue;
          const auto [values, indices] = topk(x, k, axis, descending);
          const auto [gpu_values, gpu_indices] = topk(on_gpu(x), k, axis, descending);
          EXPECT_TRUE(same_bits(values, gpu_values));
          EXPECT_TRUE(same_bits(indices, gpu_indices));
        }
      }
    }
  }
}

TEST_F(CudaKernels, ScatterKeepsTheLastWriteAlongTheAxis) {
  Rng rng = Rng::for_test();
  // Every row writes 3000 times into 5 elements; along axis 0, 40 rows write into 5. (Integer
  // ranges of random_tensor include both ends.)
  const Tensor index1 = random_tensor(rng, {8, 3000}, DType::I64, -5, 4);
  const Tensor index0 = random_tensor(rng, {40, 2000}, DType::I32, 0, 4, Layout::Transposed);
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor x1 = random_tensor(rng, {8, 5}, dtype, 0, 100);
    const Tensor src1 = random_tensor(rng, {8, 3000}, dtype, 0, 100, Layout::Strided);
    EXPECT_TRUE(same_bits(scatter(x1, 1, index1, src1),
                          scatter(on_gpu(x1), 1, on_gpu(index1), on_gpu(src1))));
    const Tensor x0 = random_tensor(rng, {5, 2000}, dtype, 0, 100);
    const Tensor src0 = random_tensor(rng, {41, 2001}, dtype, 0, 100);
    EXPECT_TRUE(same_bits(scatter(x0, 0, index0, src0),
                          scatter(on_gpu(x0), 0, on_gpu(index0), on_gpu(src0))));
  }
}

TEST_F(CudaKernels, ScatterAddOfSmallIntegersIsExactInEveryDType) {
  Rng rng = Rng::for_test();
  // Each element receives about 86 values in [-2, 2]: every partial sum, in whatever order the
  // (atomic) additions run, is an integer that each float dtype holds exactly (bf16 up to 256).
  // i8 and u8 wrap around as on the CPU.
  const Tensor index = random_tensor(rng, {600, 300}, DType::I64, 0, 6);
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const double lo = dtype == DType::U8 ? 0 : -2;
    // Integer values in every dtype (random_tensor draws reals for floating dtypes); src is a
    // transposed view.
    const Tensor x = random_tensor(rng, {7, 300}, DType::I32, lo, 2).cast(dtype);
    const Tensor src =
        random_tensor(rng, {300, 600}, DType::I32, lo, 2).cast(dtype).permute({1, 0});
    EXPECT_TRUE(same_bits(scatter_add(x, 0, index, src),
                          scatter_add(on_gpu(x), 0, on_gpu(index), on_gpu(src))));
  }
}

TEST_F(CudaKernels, LargeGathersAndMasksMatchTheCpu) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::Bool, DType::I8, DType::F16, DType::F32, DType::I64}) {
    SCOPED_TRACE(dtype_name(dtype));
    const Tensor x = random_tensor(rng, {300, 500}, dtype, -50, 50, Layout::Transposed);
    const Tensor index = random_tensor(rng, {300, 700}, DType::I32, -500, 499, Layout::Strided);
    EXPECT_TRUE(same_bits(gather(x, 1, index), gather(on_gpu(x), 1, on_gpu(index))));
    const Tensor flat = random_tensor(rng, {90000}, DType::I64, -150000, 149999);
    EXPECT_TRUE(same_bits(take(x, flat), take(on_gpu(x), on_gpu(flat))));
    const Tensor rows = random_tensor(rng, {10000}, DType::I64, -300, 299);
    EXPECT_TRUE(same_bits(index_select(x, 0, rows), index_select(on_gpu(x), 0, on_gpu(rows))));
    const Tensor mask = random_tensor(rng, {300, 1}, DType::Bool, 0, 2);
    EXPECT_TRUE(same_bits(masked_select(x, mask), masked_select(on_gpu(x), on_gpu(mask))));
    EXPECT_TRUE(same_bits(masked_fill(x, mask, -3.5), masked_fill(on_gpu(x), on_gpu(mask), -3.5)));
  }
  const Tensor labels = random_tensor(rng, {100, 100}, DType::I32, 0, 36);
  EXPECT_TRUE(
      same_bits(one_hot(labels, 37, DType::BF16), one_hot(on_gpu(labels), 37, DType::BF16)));
  const Tensor none = zeros({1000, 3}, DType::Bool);
  EXPECT_EQ(masked_select(ones({1000, 3}, DType::F32, gpu), on_gpu(none)).numel(), 0);
}

TEST_F(CudaKernels, OutOfRangeIndicesRaiseIndexErrorAsOnTheCpu) {
  const Tensor x = arange(0.0, 12.0, 1.0, DType::F32, gpu).reshape({3, 4});
  const Tensor bad = Tensor::from_vec<int64_t>({0, 1, 2, 3, -4, 9}, {2, 3}).to(gpu);
  auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const IndexError& e) {
      return e.what();
    }
    return "no IndexError";
  };
  const std::string message = message_of([&] { gather(x, 1, bad); });
  EXPECT_NE(message.find("index value 9 at position [1, 2] is out of range for axis 1 of extent 4 "
                         "(expected -4 <= index < 4)"),
            std::string::npos)
      << message;
  EXPECT_THROW(take(x, Tensor::from_vec<int32_t>({12}, {1}).to(gpu)), IndexError);
  EXPECT_THROW(index_select(x, 0, Tensor::from_vec<int64_t>({0, -4}, {2}).to(gpu)), IndexError);
  EXPECT_THROW(scatter(x, 1, bad, zeros({2, 3}, DType::F32, gpu)), IndexError);
  EXPECT_THROW(scatter_add(x, 1, bad, zeros({2, 3}, DType::F32, gpu)), IndexError);
  EXPECT_THROW(one_hot(Tensor::from_vec<int32_t>({0, -1}, {2}).to(gpu), 3), IndexError);
  // Nothing was launched through a bad index: the device is still usable.
  const Tensor good = Tensor::from_vec<int64_t>({3, -1}, {1, 2}).to(gpu);
  EXPECT_EQ(gather(x, 1, good).cpu().to_vector<float>(), (std::vector<float>{3, 3}));
}

TEST_F(CudaKernels, ConcatPadAndCreationMatchTheCpu) {
  Rng rng = Rng::for_test();
  const Tensor a = random_tensor(rng, {70, 30, 20}, DType::F16, -9, 9, Layout::Transposed);
  const Tensor b = random_tensor(rng, {70, 1, 20}, DType::I8, -9, 9);
  const Tensor c = random_tensor(rng, {70, 45, 20}, DType::F32, -9, 9, Layout::Strided);
  EXPECT_TRUE(same_bits(concat({a, b, c}, 1), concat({on_gpu(a), on_gpu(b), on_gpu(c)}, 1)));
  const Tensor x = random_tensor(rng, {60, 70, 80}, DType::BF16, -9, 9, Layout::Transposed);
  const std::vector<int64_t> pads = {5, 3, 0, 69, 79, 1};
  EXPECT_TRUE(same_bits(pad(x, pads, "reflect"), pad(on_gpu(x), pads, "reflect")));
  const std::vector<int64_t> crops = {-2, 3, 4, -5, 0, 7};
  EXPECT_TRUE(same_bits(pad(x, crops, "constant", 1.25), pad(on_gpu(x), crops, "constant", 1.25)));
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    EXPECT_TRUE(same_bits(arange(-7.3, 1e5, 0.37, dtype), arange(-7.3, 1e5, 0.37, dtype, gpu)));
    EXPECT_TRUE(
        same_bits(linspace(-3.1, 7.7, 100001, dtype), linspace(-3.1, 7.7, 100001, dtype, gpu)));
  }
  EXPECT_TRUE(same_bits(arange(-5e5, 5e5, 3, DType::I32), arange(-5e5, 5e5, 3, DType::I32, gpu)));
  EXPECT_TRUE(same_bits(eye(300, 500, DType::I64), eye(300, 500, DType::I64, gpu)));
}

TEST_F(CudaKernels, SeededUniformBernoulliAndPermutationMatchTheCpuBitForBit) {
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    // An odd count: the last element takes the first half of its pair.
    EXPECT_TRUE(same_bits(uniform({1001, 101}, -3.0, 5.0, dtype, 1234),
                          uniform({1001, 101}, -3.0, 5.0, dtype, 1234, gpu)));
    // A range whose top rounds onto `high` in the 16-bit dtypes.
    EXPECT_TRUE(same_bits(uniform({100001}, 0.0, 1.0, dtype, 99),
                          uniform({100001}, 0.0, 1.0, dtype, 99, gpu)));
  }
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    EXPECT_TRUE(
        same_bits(bernoulli({333, 301}, 0.3, dtype, 5), bernoulli({333, 301}, 0.3, dtype, 5, gpu)));
  }
  EXPECT_TRUE(same_bits(permutation(100001, 77), permutation(100001, 77, gpu)));
  // The global generator advances the same way whatever the device.
  manual_seed(2024);
  const Tensor cpu_draw = uniform({1000});
  manual_seed(2024);
  EXPECT_TRUE(same_bits(cpu_draw, uniform({1000}, 0.0, 1.0, DType::F32, {}, gpu)));
}

// CUDA's log, sqrt, sin and cos differ from the host's libm by a few units in the last place of
// the compute type (float for 16- and 32-bit outputs, double for f64); after scaling and rounding
// to the output dtype the GPU's normals stay that close to the CPU's.
TEST_F(CudaKernels, SeededNormalsMatchTheCpuWithinRounding) {
  const double mean = 1.5, stddev = 2.0;
  for (DType dtype : kFloatDTypes) {
    SCOPED_TRACE(dtype_name(dtype));
    const double compute_eps = dtype == DType::F64 ? std::ldexp(1.0, -48) : std::ldexp(1.0, -20);
    const double output_eps = dtype == DType::F16    ? std::ldexp(1.0, -10)
                              : dtype == DType::BF16 ? std::ldexp(1.0, -7)
                              : dtype == DType::F32  ? std::ldexp(1.0, -23)
                                                     : std::ldexp(1.0, -52);
    for (bool truncated : {false, true}) {
      const int64_t n = 100001;
      const Tensor cpu = truncated ? truncated_normal({n}, mean, stddev, dtype, 4321)
                                   : normal({n}, mean, stddev, dtype, 4321);
      const Tensor gpu_draw = truncated ? truncated_normal({n}, mean, stddev, dtype, 4321, gpu)
                                        : normal({n}, mean, stddev, dtype, 4321, gpu);
      const std::vector<double> expected = cpu.to_vector<double>();
      const std::vector<double> actual = gpu_draw.cpu().to_vector<double>();
      int64_t far = 0;
      for (size_t i = 0; i < expected.size(); ++i) {
        const double e = expected[i];
        const double bound = compute_eps * (std::abs(mean) + std::abs(e - mean)) +
                             2 * output_eps * std::abs(e) + std::ldexp(1.0, -24);
        far += !(std::abs(actual[i] - e) <= bound);
      }
      // truncated_normal resamples a value whose |z| lands within rounding of 2 differently on
      // the two devices: rare enough that a few in 10^4 would mean a real difference.
      EXPECT_LE(far, truncated ? n / 10000 : 0) << (truncated ? "truncated_normal" : "normal");
    }
  }
}

}  // namespace
}  // namespace tenflowers::testing
