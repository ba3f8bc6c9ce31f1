#pragma once
// What every loss does before and after its formula: input checks and the reduction.
#include <string_view>

#include "tenflowers/core/tensor.hpp"
#include "tenflowers/nn/losses.hpp"

namespace tenflowers::nn::losses::detail {

// Keras' backend epsilon: probabilities are clamped to [kEpsilon, 1 - kEpsilon].
inline constexpr double kEpsilon = 1e-7;

// y_pred in the dtype the loss computes in (f16 and bf16 compute in f32); DTypeError unless it
// is floating, ShapeError if it has no axis to reduce.
Tensor predictions(const Tensor& y_pred, std::string_view loss);

struct Operands {
  Tensor y_true, y_pred;
};
// Both in y_pred's compute dtype, y_true aligned to y_pred's shape (see losses.hpp).
Operands dense_operands(const Tensor& y_true, const Tensor& y_pred, std::string_view loss);

Tensor reduce(const Tensor& per_sample, Reduction reduction);

}  // namespace tenflowers::nn::losses::detail
