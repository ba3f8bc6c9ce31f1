#pragma once
// The CUDA backend's entry point and the per-family kernel registration it calls.
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers::cuda {

// Registers the backend and its kernels when a GPU is present; returns whether it did.
bool register_cuda_backend(OpRegistry& r);

void register_cuda_elementwise_kernels(OpRegistry& r);    // elementwise.cpp
void register_cuda_linalg_kernels(OpRegistry& r);         // linalg.cpp
void register_cuda_linear_kernels(OpRegistry& r);         // linear.cpp
void register_cuda_optimizer_kernels(OpRegistry& r);      // optimizer.cpp
void register_cuda_conv_kernels(OpRegistry& r);           // conv.cpp
void register_cuda_pool_kernels(OpRegistry& r);           // pool.cpp
void register_cuda_fused_kernels(OpRegistry& r);          // fused.cpp
void register_cuda_reduction_kernels(OpRegistry& r);      // reduction.cpp
void register_cuda_index_kernels(OpRegistry& r);          // index.cpp
void register_cuda_shape_kernels(OpRegistry& r);          // shape.cpp
void register_cuda_creation_kernels(OpRegistry& r);       // creation.cpp
void register_cuda_random_kernels(OpRegistry& r);         // random.cpp
void register_cuda_normalization_kernels(OpRegistry& r);  // normalization.cpp
void register_cuda_batch_norm_kernels(OpRegistry& r);     // batch_norm.cpp

}  // namespace tenflowers::cuda
