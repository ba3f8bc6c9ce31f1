#pragma once
// Derivative ops that gradient rules in several op families call.
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// g where x > 0, else 0 (the op relu_grad, defined in binary.cpp): ReLU's gradient in one pass.
Tensor relu_grad_of(const Tensor& x, const Tensor& g);

// a + b where an undefined tensor stands for zero (a gradient or tangent nothing contributed to).
Tensor add_defined(const Tensor& a, const Tensor& b);

}  // namespace tenflowers
