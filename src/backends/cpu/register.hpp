#pragma once
// The CPU backend's entry point and the per-family kernel registration it calls.
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers::cpu {

void register_cpu_backend(OpRegistry& r);

void register_cpu_copy_kernels(OpRegistry& r);           // copy.cpp
void register_cpu_creation_kernels(OpRegistry& r);       // creation.cpp
void register_cpu_unary_kernels(OpRegistry& r);          // unary.cpp
void register_cpu_binary_kernels(OpRegistry& r);         // binary.cpp
void register_cpu_reduction_kernels(OpRegistry& r);      // reduction.cpp
void register_cpu_linalg_kernels(OpRegistry& r);         // linalg.cpp
void register_cpu_conv_kernels(OpRegistry& r);           // conv.cpp
void register_cpu_index_kernels(OpRegistry& r);          // index.cpp
void register_cpu_shape_kernels(OpRegistry& r);          // shape.cpp
void register_cpu_optimizer_kernels(OpRegistry& r);      // optimizer.cpp
void register_cpu_fused_kernels(OpRegistry& r);          // fused.cpp
void register_cpu_normalization_kernels(OpRegistry& r);  // normalization.cpp
void register_cpu_batch_norm_kernels(OpRegistry& r);     // batch_norm.cpp

}  // namespace tenflowers::cpu
