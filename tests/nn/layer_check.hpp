#pragma once
// Helpers of the layer tests: f64 weights for a scope (F64Weights), and a finite-difference
// check of a layer's gradients with respect to its inputs and its trainable weights.
#include <vector>

#include "tenflowers/nn/layer.hpp"
#include "tests/support/f64_weights.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {

// Compares the tape's gradients of sum(layer(inputs) * cotangent) with respect to each input
// (where differentiable[i]) and each trainable weight with central differences in f64.
void expect_layer_gradients_match(nn::Layer& layer, const std::vector<Tensor>& inputs,
                                  const std::vector<bool>& differentiable, Rng& rng);

}  // namespace tenflowers::testing
