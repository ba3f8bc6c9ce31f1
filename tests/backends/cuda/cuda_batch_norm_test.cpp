// The CUDA batch normalization kernels against the CPU ones on what the conformance checks' small
// shapes do not reach: channels split into many chunks, NCHW planes with and without vector
// loads, channels last with several channel blocks (the last one partly used), one long
// channel, the 16-bit dtypes, an empty batch for the gradient, and run-to-run determinism.
// Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

class CudaBatchNorm : public CudaTest {};

struct Case {
  std::vector<int64_t> shape;
  int64_t axis;
};

const Case kCases[] = {
    {{64, 64, 16, 16}, 1},  // NCHW, vector loads, several chunks per channel
    {{32, 16, 7, 7}, 1},    // NCHW, odd planes
    {{8192, 100}, 1},       // channels last: four channel blocks, the last one partly used
    {{30000, 3}, -1},       // channels last, few channels
    {{2, 1, 50000}, 1},     // one long channel
    {{512, 24, 4, 4}, 1},   // short planes (ResNet's last stage)
};

int64_t count_of(const Case& c) {
  const auto rank = static_cast<int64_t>(c.shape.size());
  const int64_t axis = c.axis < 0 ? c.axis + rank : c.axis;
  return Dims(c.shape).numel() / c.shape[static_cast<size_t>(axis)];
}

// The GPU's float accumulation against the CPU's double: sums of `count` terms of size about 1.
Tolerance sum_tolerance(DType dtype, int64_t count) {
  const Tolerance stored = tolerance_for(dtype);
  return {std::max(stored.rtol, 1e-4), stored.atol + 4e-6 * static_cast<double>(count)};
}

Tolerance value_tolerance(DType dtype) {
  const Tolerance stored = tolerance_for(dtype);
  return {std::max(stored.rtol, 1e-4), std::max(stored.atol, 1e-4)};
}

void expect_close(const Tensor& gpu, const Tensor& cpu, Tolerance tol, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(gpu.device().type, DeviceType::CUDA);
  EXPECT_EQ(gpu.dtype(), cpu.dtype());
  EXPECT_CLOSE_TO_REF(gpu, to_ref(cpu), tol);
}

TEST_F(CudaBatchNorm, LargeShapesMatchTheCpu) {
  Rng rng = Rng::for_test();
  const OpDef& grad_op = registry().get("batch_norm_grad");
  for (DType dtype : {DType::F32, DType::F16, DType::BF16}) {
    for (const Case& c : kCases) {
      if (dtype != DType::F32 && c.shape.size() != 4) continue;
      SCOPED_TRACE(format_dims(c.shape) + " axis " + std::to_string(c.axis) + " " +
                   std::string(dtype_name(dtype)));
      const auto rank = static_cast<int64_t>(c.shape.size());
      const int64_t channels = c.shape[static_cast<size_t>(c.axis < 0 ? c.axis + rank : c.axis)];
      const Tensor x = random_tensor(rng, c.shape, dtype, 1, 3);
      const Tensor dy = random_tensor(rng, c.shape, dtype);
      const Tensor gamma = random_tensor(rng, {channels}, dtype, -2, 2);
      const Tensor beta = random_tensor(rng, {channels}, dtype, -2, 2);
      const double epsilon = 1e-5;
      const int64_t count = count_of(c);

      const BatchNormResult cpu = batch_norm(x, gamma, beta, c.axis, epsilon);
      const BatchNormResult device =
          batch_norm(x.to(gpu), gamma.to(gpu), beta.to(gpu), c.axis, epsilon);
      expect_close(device.mean, cpu.mean, value_tolerance(dtype), "mean");
      expect_close(device.var, cpu.var, value_tolerance(dtype), "var");
      expect_close(device.y, cpu.y, value_tolerance(dtype), "y");

      expect_close(batch_norm_inference(x.to(gpu), cpu.mean.to(gpu), cpu.var.to(gpu), gamma.to(gpu),
                                        beta.to(gpu), c.axis, epsilon),
                   batch_norm_inference(x, cpu.mean, cpu.var, gamma, beta, c.axis, epsilon),
                   value_tolerance(dtype), "inference");

      const Attrs attrs{{"axis", c.axis}, {"epsilon", epsilon}};
      const std::vector<Tensor> inputs{x, dy, gamma, cpu.mean, cpu.var};
      std::vector<Tensor> on_gpu;
      for (const Tensor& t : inputs) on_gpu.push_back(t.to(gpu));
      const std::vector<Tensor> grad_cpu = dispatch(grad_op, inputs, attrs);
      const std::vector<Tensor> grad_gpu = dispatch(grad_op, on_gpu, attrs);
      expect_close(grad_gpu[0], grad_cpu[0], value_tolerance(dtype), "dx");
      expect_close(grad_gpu[1], grad_cpu[1], sum_tolerance(dtype, count), "dgamma");
      expect_close(grad_gpu[2], grad_cpu[2], sum_tolerance(dtype, count), "dbeta");
    }
  }
}

TEST_F(CudaBatchNorm, RepeatedCallsGiveIdenticalResults) {
  Rng rng = Rng::for_test();
  const Tensor x = random_tensor(rng, {64, 32, 16, 16}, DType::F32).to(gpu);
  const Tensor gamma = random_tensor(rng, {32}, DType::F32).to(gpu);
  const Tensor beta = random_tensor(rng, {32}, DType::F32).to(gpu);
  const BatchNormResult first = batch_norm(x, gamma, beta);
  const BatchNormResult second = batch_norm(x, gamma, beta);
  EXPECT_TRUE(allclose(first.y, second.y, 0, 0));
  EXPECT_TRUE(allclose(first.mean, second.mean, 0, 0));
  EXPECT_TRUE(allclose(first.var, second.var, 0, 0));
}

TEST_F(CudaBatchNorm, GradientOfAnEmptyBatchIsZeroForGammaAndBeta) {
  const Tensor x = zeros({0, 3, 2, 2}, DType::F32, gpu);
  const Tensor c = ones({3}, DType::F32, gpu);
  const std::vector<Tensor> inputs{x, x, c, c, c};
  const std::vector<Tensor> out = dispatch(registry().get("batch_norm_grad"), inputs,
                                           Attrs{{"axis", int64_t{1}}, {"epsilon", 1e-5}});
  EXPECT_EQ(out[0].shape(), x.shape());
  EXPECT_CLOSE_TO_REF(out[1], Ref({3}), (Tolerance{0, 0}));
  EXPECT_CLOSE_TO_REF(out[2], Ref({3}), (Tolerance{0, 0}));
}

}  // namespace
}  // namespace tenflowers::testing
