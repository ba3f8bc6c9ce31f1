#pragma once
// Derivative ops and helpers that gradient rules in several op families call.
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// g where x > 0, else 0 (the op relu_grad, defined in binary.cpp): ReLU's gradient in one pass.
Tensor relu_grad_of(const Tensor& x, const Tensor& g);

// a + b where an undefined tensor stands for zero (tangents and gradients that may be absent).
inline Tensor add_defined(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}

}  // namespace tenflowers
