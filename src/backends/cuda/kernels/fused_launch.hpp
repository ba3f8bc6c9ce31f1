#pragma once
// fused_elementwise on the GPU: a program of elementwise steps interpreted per element, so the
// intermediates stay in registers (plain structs only; fused.cpp is the host side).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "src/backends/cuda/kernels/launch.hpp"

namespace tenflowers::cuda {

inline constexpr int kMaxFusedValues = 40;  // kMaxFusedInputs + kMaxFusedSteps

// Values 0..num_inputs-1 are the inputs (contiguous in the output's order, or single values:
// bit k of single_mask); step j computes value num_inputs + j from values lhs[j] (and rhs[j]
// for a binary step). The last value is the output.
struct FusedArgs {
  int num_inputs = 0, num_steps = 0;
  const void* in[8] = {};
  uint32_t single_mask = 0;
  bool binary[32] = {};
  uint8_t code[32] = {};  // a UnaryOp or BinaryOp
  int8_t lhs[32] = {}, rhs[32] = {};
  void* out = nullptr;
  int64_t numel = 0;
  cudaStream_t stream = nullptr;
};
const char* launch_fused(DType type, const FusedArgs& args);

}  // namespace tenflowers::cuda
