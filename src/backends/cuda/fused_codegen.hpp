#pragma once
// The CUDA C++ source of the kernel that runs one fused_elementwise program, compiled at run
// time with NVRTC (rtc.hpp). Each step calls the functor of its op from unary_ops.cuh or
// binary_ops.cuh, the same code the precompiled elementwise kernels run, on values held in
// named registers of the compute type.
#include <compare>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "src/backends/cuda/kernels/launch.hpp"
#include "tenflowers/core/dtype.hpp"
#include "tenflowers/core/fused_elementwise.hpp"

namespace tenflowers::cuda {

// Values 0..num_inputs-1 are the inputs; step j computes value num_inputs + j from value lhs
// (and rhs, for a BinaryOp). The last value is the output.
struct FusedKernelStep {
  std::variant<UnaryOp, BinaryOp> op;
  int lhs = 0, rhs = -1;
  auto operator<=>(const FusedKernelStep&) const = default;
};

// What a generated kernel depends on; equal specs give the same source.
struct FusedKernelSpec {
  DType dtype = DType::F32;
  int num_inputs = 0;
  uint32_t single_mask = 0;  // bit k: input k is one value, broadcast to every element
  std::vector<FusedKernelStep> steps;
  auto operator<=>(const FusedKernelSpec&) const = default;
};

// Throws UnsupportedError for a step whose op has no CUDA code, DTypeError for a dtype other
// than the floating ones.
FusedKernelSpec fused_kernel_spec(const FusedProgram& program, DType dtype, uint32_t single_mask);

// The generated kernel's name and signature:
//   kFusedKernelName(const T* in0, ..., const T* in<n-1>, T* out, long long numel, bool aligned)
// launched with kThreads threads a block. Each thread takes fused_elements_per_thread(dtype)
// consecutive elements, kFusedAccessBytes of every operand, in one access each when `aligned`:
// when out and every input that is not a single value are aligned to kFusedAccessBytes.
inline constexpr const char* kFusedKernelName = "tf_fused_elementwise";
inline constexpr int kFusedAccessBytes = 16;
inline int fused_elements_per_thread(DType dtype) {
  return kFusedAccessBytes / static_cast<int>(dtype_size(dtype));
}
std::string fused_kernel_source(const FusedKernelSpec& spec);

}  // namespace tenflowers::cuda
