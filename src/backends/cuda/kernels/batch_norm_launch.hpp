#pragma once
// The interface between the host code of batch normalization (batch_norm.cpp) and its kernels
// (batch_norm.cu). x, dy and the outputs are contiguous [outer, channels, inner]; the per-channel
// vectors are contiguous [channels]; every operand has one floating dtype.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

struct ChannelView {
  int64_t outer = 1, channels = 1, inner = 1;
};

struct BatchNormArgs {
  ChannelView view;
  const void* x = nullptr;
  const void* dy = nullptr;  // batch_norm_grad
  const void* gamma = nullptr;
  const void* beta = nullptr;  // batch_norm, batch_norm_inference
  const void* mean = nullptr;  // batch_norm_inference, batch_norm_grad
  const void* var = nullptr;   // batch_norm_inference, batch_norm_grad
  void* out = nullptr;         // y, or dx
  void* stat0 = nullptr;       // batch_norm: mean; batch_norm_grad: dgamma
  void* stat1 = nullptr;       // batch_norm: var; batch_norm_grad: dbeta
  void* workspace = nullptr;   // batch_norm_workspace_bytes of device memory
  double epsilon = 0;
  cudaStream_t stream = nullptr;
};

// Workspace of batch_norm and batch_norm_grad (per-block partial statistics); inference needs
// none.
size_t batch_norm_workspace_bytes(DType type, const ChannelView& view);

// Each returns the first kernel's name, or nullptr when `type` is not floating.
const char* launch_batch_norm(DType type, const BatchNormArgs& args);
const char* launch_batch_norm_inference(DType type, const BatchNormArgs& args);
const char* launch_batch_norm_grad(DType type, const BatchNormArgs& args);

}  // namespace tenflowers::cuda
