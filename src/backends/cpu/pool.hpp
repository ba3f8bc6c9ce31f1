#pragma once
// Pooling kernels and their gradients (pool.cpp), registered with the convolution family.
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers::cpu {

void register_cpu_pool_kernels(OpRegistry& r);  // max_pool2d, avg_pool2d and their gradients

}  // namespace tenflowers::cpu
