// ConfusionMatrix: integer counts of (true class, predicted class) pairs.
#include "src/nn/targets.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/metrics.hpp"

namespace tenflowers::nn::metrics {

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) : num_classes_(num_classes) {
  TF_CHECK(num_classes >= 1, InvalidArgument,
           "confusion_matrix: num_classes must be at least 1, got ", num_classes);
  reset_state();
}

void ConfusionMatrix::reset_state() {
  counts_.assign(static_cast<size_t>(num_classes_ * num_classes_), 0);
}

Tensor ConfusionMatrix::result() const {
  return Tensor::from_vec(counts_, {num_classes_, num_classes_});
}

void ConfusionMatrix::update(const Tensor& y_true, const Tensor& y_pred,
                             const Tensor& sample_weight) {
  TF_CHECK(!sample_weight.defined(), InvalidArgument,
           "confusion_matrix: sample_weight is not supported (the counts are integers)");
  Tensor predicted = y_pred;
  if (is_floating(y_pred.dtype())) {
    nn::detail::check_min_rank(y_pred, 1, name(), "y_pred scores");
    TF_CHECK(y_pred.size(-1) == num_classes_, ShapeError, name(), ": y_pred scores of shape ",
             y_pred.shape(), " need a last axis of ", num_classes_, " classes");
    predicted = argmax(y_pred, -1);
  }
  predicted = nn::detail::class_labels(predicted, predicted.shape(), num_classes_, name());
  const Tensor actual = nn::detail::class_labels(y_true, predicted.shape(), num_classes_, name());
  const int64_t n = actual.numel();
  if (n == 0) return;
  const Tensor cell =
      (actual.cast(DType::I64) * Tensor::scalar(static_cast<double>(num_classes_), DType::I64) +
       predicted.cast(DType::I64))
          .reshape({n});
  const Tensor batch =
      scatter_add(zeros({num_classes_ * num_classes_}, DType::I64), 0, cell, ones({n}, DType::I64));
  const auto added = batch.to_vector<int64_t>();
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += added[i];
}

}  // namespace tenflowers::nn::metrics
