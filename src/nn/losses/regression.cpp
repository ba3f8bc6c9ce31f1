// Regression losses: mean squared, mean absolute and Huber.
#include <cmath>

#include "src/nn/losses/loss_support.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/losses.hpp"

namespace tenflowers::nn::losses {

namespace {

void check_delta(double delta) {
  TF_CHECK(std::isfinite(delta) && delta > 0, InvalidArgument,
           "huber: delta must be positive and finite, got ", delta);
}

}  // namespace

Tensor mse(const Tensor& y_true, const Tensor& y_pred, Reduction reduction) {
  const auto [t, p] = detail::dense_operands(y_true, y_pred, "mean_squared_error");
  return detail::reduce(mean(square(p - t), {-1}), reduction);
}

Tensor mae(const Tensor& y_true, const Tensor& y_pred, Reduction reduction) {
  const auto [t, p] = detail::dense_operands(y_true, y_pred, "mean_absolute_error");
  return detail::reduce(mean(abs(p - t), {-1}), reduction);
}

Tensor huber(const Tensor& y_true, const Tensor& y_pred, double delta, Reduction reduction) {
  check_delta(delta);
  const auto [t, p] = detail::dense_operands(y_true, y_pred, "huber_loss");
  // With q = min(|e|, delta): q^2 / 2 + delta (|e| - q) is both branches at once, and its
  // gradient is continuous (no where() whose unselected branch would still be differentiated).
  const Tensor error = abs(p - t);
  const Tensor quadratic = minimum(error, scalar_like(error, delta));
  const Tensor per_sample = mean(square(quadratic) * 0.5 + (error - quadratic) * delta, {-1});
  return detail::reduce(per_sample, reduction);
}

Tensor MeanSquaredError::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return mse(y_true, y_pred, reduction_);
}

Tensor MeanAbsoluteError::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return mae(y_true, y_pred, reduction_);
}

Huber::Huber(double delta, Reduction reduction) : delta_(delta), reduction_(reduction) {
  check_delta(delta);
}

Tensor Huber::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return huber(y_true, y_pred, delta_, reduction_);
}

}  // namespace tenflowers::nn::losses
