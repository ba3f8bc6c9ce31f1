#pragma once
// The interface between the host side of layer_norm and layer_norm_backward (normalization.cpp)
// and their kernels (layer_norm.cu). Every operand is dense: `rows` rows of `size` elements, the
// per-row mean and rstd in the compute type (f32 for the 16-bit floats). Launchers return the
// kernel's name, or nullptr for a dtype without kernels, as in launch.hpp.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

struct LayerNormArgs {
  int64_t rows = 0, size = 0;
  const void* x = nullptr;
  const void* gamma = nullptr;  // null: no scale
  const void* beta = nullptr;   // null: no shift
  void* y = nullptr;
  void* mean = nullptr;
  void* rstd = nullptr;
  double epsilon = 0;
  cudaStream_t stream = nullptr;
};

const char* launch_layer_norm(DType type, const LayerNormArgs& args);

struct LayerNormBackwardArgs {
  int64_t rows = 0, size = 0;
  const void* dy = nullptr;
  const void* x = nullptr;
  const void* mean = nullptr;
  const void* rstd = nullptr;
  const void* gamma = nullptr;  // null: no scale
  void* dx = nullptr;
  void* dgamma = nullptr;  // null (with dbeta): no parameter gradients
  void* dbeta = nullptr;
  void* workspace = nullptr;  // layer_norm_backward_workspace_bytes(...) bytes
  cudaStream_t stream = nullptr;
};

// Scratch for the partial column sums of the parameter gradients (0 when none are needed).
size_t layer_norm_backward_workspace_bytes(DType type, int64_t rows, int64_t size,
                                           bool param_grads);
const char* launch_layer_norm_backward(DType type, const LayerNormBackwardArgs& args);

}  // namespace tenflowers::cuda
