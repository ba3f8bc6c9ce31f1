#pragma once
// Kernel registration of the linalg family, split by file.
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers::cpu {

void register_cpu_matmul_kernels(OpRegistry& r);   // linalg_matmul.cpp
void register_cpu_softmax_kernels(OpRegistry& r);  // linalg_softmax.cpp
void register_cpu_linear_kernels(OpRegistry& r);   // linalg_linear.cpp

}  // namespace tenflowers::cpu
