// Mean, the running weighted mean, and the metrics built on it (the accuracies).
#include "src/nn/metrics/weights.hpp"
#include "src/nn/targets.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/metrics.hpp"

namespace tenflowers::nn {

Tensor ScalarMetric::result_tensor() const {
  return Tensor::from_scalar(result());
}

namespace metrics {

void Mean::update_state(const Tensor& values, const Tensor& sample_weight) {
  TF_CHECK(
      values.dtype() == DType::Bool || is_integral(values.dtype()) || is_floating(values.dtype()),
      DTypeError, name_, ": values must be numeric, got ", dtype_name(values.dtype()));
  const Tensor w = detail::broadcastable_weights(sample_weight, values.shape(), name_);
  const double total = sum(detail::weighted(values, w)).item<double>();
  const double count = detail::total_weight(values, w);
  total_ += total;
  count_ += count;
}

void MeanOfValues::update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  mean_.update_state(values(y_true, y_pred), sample_weight);
}

namespace {

void check_scores(const Tensor& y_pred, const std::string& who) {
  TF_CHECK(y_pred.dtype() != DType::Bool, DTypeError, who, ": y_pred must be numeric, got bool");
  nn::detail::check_min_rank(y_pred, 1, who, "y_pred");
}

// TensorFlow's in_top_k: fewer than k scores above the target's, and every score finite.
Tensor in_top_k(const Tensor& y_pred, const Tensor& labels, int64_t k) {
  const Tensor target_score = gather(y_pred, -1, labels.unsqueeze(-1));
  const Tensor higher = sum(gt(y_pred, target_score).cast(DType::I64), {-1});
  return logical_and(lt(higher, Tensor::scalar(static_cast<double>(k), DType::I64)),
                     all(isfinite(y_pred), {-1}));
}

int64_t checked_k(int64_t k, const char* who) {
  TF_CHECK(k >= 1, InvalidArgument, who, ": k must be at least 1, got ", k);
  return k;
}

Dims batch_shape_of(const Tensor& y_pred) {
  return Dims(y_pred.shape().begin(), y_pred.shape().end() - 1);
}

}  // namespace

Tensor BinaryAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  TF_CHECK(y_pred.dtype() != DType::Bool, DTypeError, name(), ": y_pred must be numeric, got bool");
  const Tensor target = nn::detail::aligned_targets(y_true, y_pred, name());
  const Tensor decided = gt(y_pred, Tensor::scalar(threshold_, DType::F64, y_pred.device()));
  return eq(decided.cast(DType::F64), target.cast(DType::F64));
}

Tensor CategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  check_scores(y_pred, name());
  const Tensor target = nn::detail::aligned_targets(y_true, y_pred, name());
  return eq(argmax(target, -1), argmax(y_pred, -1));
}

Tensor SparseCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  check_scores(y_pred, name());
  const Tensor labels =
      nn::detail::class_labels(y_true, batch_shape_of(y_pred), y_pred.size(-1), name());
  return eq(labels.cast(DType::I64), argmax(y_pred, -1));
}

TopKCategoricalAccuracy::TopKCategoricalAccuracy(int64_t k)
    : k_(checked_k(k, "top_k_categorical_accuracy")) {}

Tensor TopKCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  check_scores(y_pred, name());
  const Tensor target = nn::detail::aligned_targets(y_true, y_pred, name());
  return in_top_k(y_pred, argmax(target, -1), k_);
}

SparseTopKCategoricalAccuracy::SparseTopKCategoricalAccuracy(int64_t k)
    : k_(checked_k(k, "sparse_top_k_categorical_accuracy")) {}

Tensor SparseTopKCategoricalAccuracy::values(const Tensor& y_true, const Tensor& y_pred) const {
  check_scores(y_pred, name());
  const Tensor labels =
      nn::detail::class_labels(y_true, batch_shape_of(y_pred), y_pred.size(-1), name());
  return in_top_k(y_pred, labels, k_);
}

}  // namespace metrics
}  // namespace tenflowers::nn
