// The CUDA reductions, softmax (and its gradient ops) and scans against the CPU kernels on what the
// conformance checks' small random shapes do not reach: lanes long enough to be split across
// blocks, empty slices, NaN and tie rules, and integer wraparound. Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

class CudaReduction : public CudaTest {
 protected:
  // f(inputs) on the GPU (inputs keeping their layouts) matches f(inputs) on the CPU in dtype,
  // shape and values.
  void expect_matches_cpu(const std::vector<Tensor>& inputs,
                          const std::function<Tensor(const std::vector<Tensor>&)>& f, Tolerance tol,
                          const std::string& what) {
    SCOPED_TRACE(what + " of " + std::string(dtype_name(inputs[0].dtype())) + " " +
                 format_dims(inputs[0].shape().vec()));
    std::vector<Tensor> on_gpu;
    for (const Tensor& t : inputs) on_gpu.push_back(to_device_keeping_layout(t, gpu));
    const Tensor expected = f(inputs);
    const Tensor actual = f(on_gpu);
    EXPECT_EQ(actual.device(), gpu);
    EXPECT_EQ(actual.dtype(), expected.dtype());
    EXPECT_CLOSE_TO_REF(actual, to_ref(expected), tol);
  }
  void expect_matches_cpu(const Tensor& x, const std::function<Tensor(const Tensor&)>& f,
                          Tolerance tol, const std::string& what) {
    expect_matches_cpu(
        {x}, [&](const std::vector<Tensor>& in) { return f(in[0]); }, tol, what);
  }
};

const Tolerance kExact{0.0, 0.0};

// Small integers stored as `dtype`: sums of them are exact in any order, and ties are common.
Tensor small_integers(Rng& rng, std::vector<int64_t> shape, DType dtype, int64_t lo = -5,
                      int64_t hi = 5) {
  return random_tensor(rng, std::move(shape), DType::I64, static_cast<double>(lo),
                       static_cast<double>(hi))
      .cast(dtype);
}

TEST_F(CudaReduction, LongLanesSplitAcrossBlocksMatchTheCpu) {
  Rng rng = Rng::for_test();
  struct Shape {
    std::vector<int64_t> shape, axes;
  };
  // Few long rows, few long columns, one long vector, and a transposed view.
  const Shape shapes[] = {
      {{3, 300001}, {1}}, {{200003, 3}, {0}}, {{1000003}, {}}, {{70, 9000}, {0}}};
  for (DType dtype : {DType::F32, DType::F64}) {
    for (const auto& [shape, axes] : shapes) {
      const Tensor x = small_integers(rng, shape, dtype);
      const Tolerance close{dtype == DType::F32 ? 1e-5 : 1e-12, 0.0};
      expect_matches_cpu(
          x, [&](const Tensor& t) { return sum(t, axes); }, kExact, "sum");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return mean(t, axes, true); }, close, "mean");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return max(t, axes); }, kExact, "max");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return min(t, axes); }, kExact, "min");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return var(t, axes, 1); }, close, "var");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return tenflowers::std(t, axes, 0); }, close, "std");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return logsumexp(t, axes); }, close, "logsumexp");
      for (double p : {2.0, 1.0, 3.0, std::numeric_limits<double>::infinity()}) {
        expect_matches_cpu(
            x, [&](const Tensor& t) { return norm(t, p, axes); }, close,
            "norm p=" + std::to_string(p));
      }
      // Products of -1 and 1 are exact.
      const Tensor signs = small_integers(rng, shape, dtype, 0, 1) * 2.0 - 1.0;
      expect_matches_cpu(
          signs, [&](const Tensor& t) { return prod(t, axes); }, kExact, "prod");
      // Ties everywhere: the first index wins, also across blocks.
      const std::optional<int64_t> axis =
          axes.empty() ? std::nullopt : std::optional<int64_t>(axes[0]);
      expect_matches_cpu(
          x, [&](const Tensor& t) { return argmax(t, axis); }, kExact, "argmax");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return argmin(t, axis); }, kExact, "argmin");
    }
  }
  const Tensor x = small_integers(rng, {40, 30, 50}, DType::F32).permute({2, 0, 1});
  expect_matches_cpu(
      x, [](const Tensor& t) { return argmax(t); }, kExact, "flat argmax");
  expect_matches_cpu(
      x,
      [](const Tensor& t) {
        return sum(t, {0, 2});
      },
      kExact, "sum");
}

// t's values in a fresh contiguous buffer that starts `offset` elements before them: offset 1
// misaligns every row for 16-byte vector loads.
Tensor at_offset(const Tensor& t, int64_t offset) {
  const Tensor flat = t.reshape({-1});
  return concat({zeros({offset}, t.dtype()), flat})
      .narrow(0, offset, flat.size(0))
      .reshape(t.shape());
}

// The row kernels hold rows of up to 1024 elements (512 in f64) in registers, with vector
// loads where every row starts aligned: lengths around their group widths, chunk counts and
// that limit, odd lengths (scalar loads), misaligned views, and the same data as columns, for
// softmax, log_softmax and both gradient ops. y is the CPU's softmax of random logits, as in
// training.
TEST_F(CudaReduction, SoftmaxRowsAndGradientOpsMatchTheCpu) {
  Rng rng = Rng::for_test();
  const OpDef& softmax_grad = registry().get("softmax_grad");
  const OpDef& log_softmax_grad = registry().get("log_softmax_grad");
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
    const Tolerance tol = dtype == DType::BF16  ? Tolerance{2e-2, 1e-5}
                          : dtype == DType::F16 ? Tolerance{2e-3, 1e-6}
                          : dtype == DType::F64 ? Tolerance{1e-12, 1e-14}
                                                : Tolerance{1e-5, 1e-6};
    for (int64_t length :
         {1, 3, 8, 31, 32, 33, 129, 256, 511, 512, 513, 1000, 1023, 1024, 1025, 4099}) {
      const Tensor logits = random_tensor(rng, {37, length}, dtype, -8.0, 8.0);
      const Tensor dy = random_tensor(rng, {37, length}, dtype, -1.0, 1.0);
      for (int64_t axis : {1, 0}) {
        const Attrs attrs{{"axis", axis}};
        const Tensor y = softmax(logits, axis);
        const Tensor log_y = log_softmax(logits, axis);
        for (int64_t offset : {0, 1}) {
          const std::string what = " length " + std::to_string(length) + " axis " +
                                   std::to_string(axis) + " offset " + std::to_string(offset);
          expect_matches_cpu(
              at_offset(logits, offset), [axis](const Tensor& t) { return softmax(t, axis); }, tol,
              "softmax" + what);
          expect_matches_cpu(
              at_offset(logits, offset), [axis](const Tensor& t) { return log_softmax(t, axis); },
              tol, "log_softmax" + what);
          expect_matches_cpu(
              {at_offset(y, offset), at_offset(dy, offset)},
              [&](const std::vector<Tensor>& in) { return dispatch1(softmax_grad, in, attrs); },
              tol, "softmax_grad" + what);
          expect_matches_cpu(
              {at_offset(log_y, offset), at_offset(dy, offset)},
              [&](const std::vector<Tensor>& in) { return dispatch1(log_softmax_grad, in, attrs); },
              tol, "log_softmax_grad" + what);
        }
      }
    }
  }
}

TEST_F(CudaReduction, IntegerSumsAndProductsWrapAround) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::I64, DType::I32, DType::I8, DType::U8, DType::Bool}) {
    const Tensor big = random_tensor(rng, {7, 20000}, DType::I64, -1e9, 1e9).cast(dtype);
    expect_matches_cpu(
        big, [](const Tensor& t) { return sum(t, {1}); }, kExact, "sum");
    expect_matches_cpu(
        big, [](const Tensor& t) { return prod(t, {1}); }, kExact, "prod");
    expect_matches_cpu(
        big, [](const Tensor& t) { return cumsum(t, 1); }, kExact, "cumsum");
    expect_matches_cpu(
        big, [](const Tensor& t) { return cumprod(t, 1); }, kExact, "cumprod");
    expect_matches_cpu(
        big, [](const Tensor& t) { return max(t, {0}); }, kExact, "max");
    expect_matches_cpu(
        big, [](const Tensor& t) { return argmin(t, 0); }, kExact, "argmin");
    expect_matches_cpu(
        big, [](const Tensor& t) { return mean(t); }, {1e-6, 0.0}, "mean");
  }
}

TEST_F(CudaReduction, EmptySlicesAndOutputsMatchTheCpu) {
  const double inf = std::numeric_limits<double>::infinity();
  for (DType dtype : {DType::F32, DType::F16, DType::I32, DType::Bool}) {
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 0}, {0, 4}}) {
      const Tensor x = zeros(shape, dtype);
      const std::vector<int64_t> axes = {1};
      expect_matches_cpu(
          x, [&](const Tensor& t) { return sum(t, axes); }, kExact, "sum");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return prod(t, axes); }, kExact, "prod");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return mean(t, axes); }, kExact, "mean");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return all(t, axes); }, kExact, "all");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return any(t, axes); }, kExact, "any");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return var(t, axes); }, kExact, "var");
      expect_matches_cpu(
          x, [&](const Tensor& t) { return logsumexp(t, axes); }, kExact, "logsumexp");
      for (double p : {2.0, 0.5, inf, -inf}) {
        expect_matches_cpu(
            x, [&](const Tensor& t) { return norm(t, p, axes); }, kExact, "norm");
      }
      expect_matches_cpu(
          x, [](const Tensor& t) { return softmax(t, 0); }, kExact, "softmax");
      expect_matches_cpu(
          x, [](const Tensor& t) { return cumsum(t, 1); }, kExact, "cumsum");
    }
  }
}

TEST_F(CudaReduction, NanRulesMatchTheCpu) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Tolerance kClose{1e-6, 0.0};  // exp and log may round differently on the GPU
  std::vector<double> values(100000, 0.0);
  values[70001] = nan;
  values[90000] = nan;
  values[5] = inf;
  values[6] = -inf;
  for (DType dtype : {DType::F32, DType::F16, DType::F64}) {
    const Tensor x = Tensor::from_vec(values, {100000}).cast(dtype);
    for (const Tensor& t : {x, x.reshape({100, 1000}), x.slice(0, 0, 70000)}) {
      expect_matches_cpu(
          t, [](const Tensor& y) { return argmax(y); }, kExact, "argmax");
      expect_matches_cpu(
          t, [](const Tensor& y) { return argmin(y); }, kExact, "argmin");
      expect_matches_cpu(
          t, [](const Tensor& y) { return max(y, {0}); }, kExact, "max");
      expect_matches_cpu(
          t, [](const Tensor& y) { return min(y); }, kExact, "min");
      expect_matches_cpu(
          t, [](const Tensor& y) { return any(y, {0}); }, kExact, "any");
      expect_matches_cpu(
          t, [](const Tensor& y) { return logsumexp(y, {0}); }, kClose, "logsumexp");
      expect_matches_cpu(
          t, [inf](const Tensor& y) { return norm(y, inf); }, kExact, "norm");
      expect_matches_cpu(
          t, [](const Tensor& y) { return softmax(y, 0); }, kClose, "softmax");
      expect_matches_cpu(
          t, [](const Tensor& y) { return softmax(y, -1); }, kClose, "softmax of rows");
    }
  }
}

TEST_F(CudaReduction, SoftmaxAndScansOfLongLanesMatchTheCpu) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::F32, DType::BF16, DType::F64, DType::I32}) {
    const Tolerance tol = dtype == DType::BF16  ? Tolerance{1e-2, 1e-2}
                          : dtype == DType::F64 ? Tolerance{1e-12, 1e-10}
                                                : Tolerance{1e-5, 1e-6};
    for (const std::vector<int64_t>& shape :
         std::vector<std::vector<int64_t>>{{3, 20000}, {20000, 3}, {5, 300, 40}}) {
      const Tensor x = random_tensor(rng, shape, dtype, -20.0, 20.0);
      for (int64_t axis = 0; axis < x.rank(); ++axis) {
        expect_matches_cpu(
            x, [axis](const Tensor& t) { return softmax(t, axis); }, tol,
            "softmax axis " + std::to_string(axis));
        expect_matches_cpu(
            x, [axis](const Tensor& t) { return log_softmax(t, axis); }, tol,
            "log_softmax axis " + std::to_string(axis));
        // bf16 sums round in f32 in a different order than on the CPU.
        if (dtype == DType::BF16) continue;
        expect_matches_cpu(
            x, [axis](const Tensor& t) { return cumsum(t, axis); }, tol,
            "cumsum axis " + std::to_string(axis));
      }
    }
  }
  const Tensor x = random_tensor(rng, {4, 100000}, DType::F32, 0.99999, 1.00001);
  expect_matches_cpu(
      x, [](const Tensor& t) { return cumprod(t, 1); }, {1e-5, 0.0}, "cumprod");
}

}  // namespace
}  // namespace tenflowers::testing
