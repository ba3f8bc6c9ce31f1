#pragma once
// 2-d pooling and its gradients on the GPU: plain structs only (pool.cpp is the host side).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

// Contiguous NCHW planes (N * C of them) of in_h x in_w inputs and out_h x out_w windows. Each
// window is clipped to the image: padding never wins a max, and counts in an average only with
// count_include_pad.
struct PoolArgs {
  const void* x = nullptr;  // input-shaped (max pooling's input)
  const void* g = nullptr;  // the tensor a gradient kernel reads
  void* out = nullptr;
  int64_t planes = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0;
  bool count_include_pad = false;
  cudaStream_t stream = nullptr;
};

const char* launch_max_pool(DType type, const PoolArgs& args);  // out: pooled x
const char* launch_avg_pool(DType type, const PoolArgs& args);  // out: pooled x
// out (input-shaped, zeroed by the caller) += g (pool-shaped) at each window's argmax of x.
const char* launch_max_pool_grad(DType type, const PoolArgs& args);
// out (pool-shaped) = g (input-shaped) read at each window's argmax of x.
const char* launch_max_pool_gather(DType type, const PoolArgs& args);
// out (input-shaped) = sum over the windows holding each element of g / count.
const char* launch_avg_pool_grad(DType type, const PoolArgs& args);

}  // namespace tenflowers::cuda
