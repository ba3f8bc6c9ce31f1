#pragma once
// Helpers of the layer tests: f64 weights for a scope, and a finite-difference check of a
// layer's gradients with respect to its inputs and its trainable weights.
#include <vector>

#include "tenflowers/nn/layer.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {

// Layers created while it lives get f64 weights.
class F64Weights {
 public:
  F64Weights() : saved_(nn::default_weight_dtype()) { nn::set_default_weight_dtype(DType::F64); }
  ~F64Weights() { nn::set_default_weight_dtype(saved_); }

 private:
  DType saved_;
};

// Compares the tape's gradients of sum(layer(inputs) * cotangent) with respect to each input
// (where differentiable[i]) and each trainable weight with central differences in f64.
void expect_layer_gradients_match(nn::Layer& layer, const std::vector<Tensor>& inputs,
                                  const std::vector<bool>& differentiable, Rng& rng);

}  // namespace tenflowers::testing
