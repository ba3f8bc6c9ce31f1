// fused_elementwise on the GPU, whose kernels are generated per program and compiled at run
// time: values against the same ops run one by one, on an odd length (the tail each thread
// takes element by element) and on a view offset by one element (no 16-byte accesses). Each
// test skips when no CUDA device is present.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>

#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/backends/cuda/fused_program.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

class CudaFused : public CudaTest {};

TEST_F(CudaFused, MatchesTheUnfusedOpsOnOddLengthsAndMisalignedViews) {
  Rng rng = Rng::for_test();
  constexpr int64_t n = 1'000'003;
  // relu(x * a + b), with a and b single values
  const FusedProgram scale_shift_relu =
      program_of(3, {{"mul", 0, 1}, {"add", 3, 2}, {"relu", 4, -1}});
  // sigmoid(x) * tanh(y) - a
  const FusedProgram gate =
      program_of(3, {{"sigmoid", 0, -1}, {"tanh", 1, -1}, {"mul", 3, 4}, {"sub", 5, 2}});
  for (DType dtype : {DType::F32, DType::BF16}) {
    // The fused kernel keeps every value in f32, where the separate ops round each to the dtype
    // (and may contract a multiply and an add into one rounding).
    const double tol = dtype == DType::F32 ? 1e-6 : 2e-2;
    const Tensor x = random_tensor(rng, {n + 1}, dtype, -3, 3).to(gpu);
    const Tensor y = random_tensor(rng, {n + 1}, dtype, -3, 3).to(gpu);
    const Tensor a = Tensor::scalar(1.5, dtype, gpu), b = Tensor::scalar(0.25, dtype, gpu);
    for (int64_t offset : {0, 1}) {
      SCOPED_TRACE(std::string(dtype_name(dtype)) + " offset " + std::to_string(offset));
      const Tensor xv = x.slice(0, offset, n + offset), yv = y.slice(0, offset, n + offset);
      const Tensor fused = fused_elementwise(std::vector<Tensor>{xv, a, b}, scale_shift_relu);
      EXPECT_TRUE(allclose(fused.cpu(), relu(xv * a + b).cpu(), tol, tol));
      const Tensor gated = fused_elementwise(std::vector<Tensor>{xv, yv, a}, gate);
      EXPECT_TRUE(allclose(gated.cpu(), (sigmoid(xv) * tanh(yv) - a).cpu(), tol, tol));
    }
  }
}

}  // namespace
}  // namespace tenflowers::testing
