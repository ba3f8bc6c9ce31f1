// Cross-entropy losses (binary, categorical, sparse categorical) and KL divergence.
#include "src/nn/losses/loss_support.hpp"
#include "src/nn/targets.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/losses.hpp"

namespace tenflowers::nn::losses {

namespace {

Tensor clamp_probabilities(const Tensor& p) {
  return clamp(p, detail::kEpsilon, 1.0 - detail::kEpsilon);
}

// log of the class distribution along the last axis: log_softmax of logits, or the log of
// probabilities renormalized to sum 1 and clamped (Keras).
Tensor class_log_probabilities(const Tensor& y_pred, bool from_logits) {
  if (from_logits) return log_softmax(y_pred, -1);
  return log(clamp_probabilities(y_pred / sum(y_pred, {-1}, true)));
}

// max(x, 0) - x z + log1p(exp(-|x|)). Both |x| and max(x, 0) take the x >= 0 branch at 0, as
// TensorFlow does, so the gradient at x = 0 is sigmoid(0) - z.
Tensor binary_crossentropy_with_logits(const Tensor& z, const Tensor& x) {
  const Tensor nonnegative = ge(x, scalar_like(x, 0.0));
  const Tensor positive_part = where(nonnegative, x, scalar_like(x, 0.0));
  const Tensor negative_abs = where(nonnegative, -x, x);
  return positive_part - x * z + log1p(exp(negative_abs));
}

}  // namespace

Tensor binary_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                           Reduction reduction) {
  const auto [z, x] = detail::dense_operands(y_true, y_pred, "binary_crossentropy");
  Tensor elementwise;
  if (from_logits) {
    elementwise = binary_crossentropy_with_logits(z, x);
  } else {
    const Tensor p = clamp_probabilities(x);
    elementwise = -(z * log(p) + (1.0 - z) * log(1.0 - p));
  }
  return detail::reduce(mean(elementwise, {-1}), reduction);
}

Tensor categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                                Reduction reduction) {
  const auto [t, x] = detail::dense_operands(y_true, y_pred, "categorical_crossentropy");
  return detail::reduce(-sum(t * class_log_probabilities(x, from_logits), {-1}), reduction);
}

Tensor sparse_categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits,
                                       Reduction reduction) {
  constexpr std::string_view kName = "sparse_categorical_crossentropy";
  const Tensor x = detail::predictions(y_pred, kName);
  const Dims batch_shape(x.shape().begin(), x.shape().end() - 1);
  const Tensor labels = nn::detail::class_labels(y_true, batch_shape, x.size(-1), kName);
  // gather reads one log-probability per sample: O(batch) after the log_softmax.
  const Tensor picked = gather(class_log_probabilities(x, from_logits), -1, labels.unsqueeze(-1));
  return detail::reduce(-picked.squeeze(std::vector<int64_t>{-1}), reduction);
}

Tensor kl_divergence(const Tensor& y_true, const Tensor& y_pred, Reduction reduction) {
  const auto [t, p] = detail::dense_operands(y_true, y_pred, "kl_divergence");
  const Tensor target = clamp(t, detail::kEpsilon, 1.0);
  const Tensor predicted = clamp(p, detail::kEpsilon, 1.0);
  return detail::reduce(sum(target * log(target / predicted), {-1}), reduction);
}

Tensor BinaryCrossentropy::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return binary_crossentropy(y_true, y_pred, from_logits_, reduction_);
}

Tensor CategoricalCrossentropy::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return categorical_crossentropy(y_true, y_pred, from_logits_, reduction_);
}

Tensor SparseCategoricalCrossentropy::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return sparse_categorical_crossentropy(y_true, y_pred, from_logits_, reduction_);
}

Tensor KLDivergence::operator()(const Tensor& y_true, const Tensor& y_pred) const {
  return kl_divergence(y_true, y_pred, reduction_);
}

}  // namespace tenflowers::nn::losses
