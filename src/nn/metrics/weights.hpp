#pragma once
// Sample weights of metrics: checked against the values they weigh and summed with them.
#include <string_view>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn::metrics::detail {

// sample_weight as f64 with trailing unit axes, so it broadcasts against `values_shape`: its
// shape must be a prefix of values_shape (0-d included), or values_shape plus a last axis of 1
// (ShapeError otherwise; DTypeError unless numeric or bool). Undefined stays undefined.
Tensor broadcastable_weights(const Tensor& sample_weight, const Dims& values_shape,
                             std::string_view who);

// values * weights in f64 (values alone when weights is undefined).
Tensor weighted(const Tensor& values, const Tensor& weights);

// The sum of weights over values' elements (their count when weights is undefined).
double total_weight(const Tensor& values, const Tensor& weights);

}  // namespace tenflowers::nn::metrics::detail
