// Precision, Recall and F1Score from weighted true/false positive and false negative counts.
#include "src/nn/metrics/weights.hpp"
#include "src/nn/targets.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/metrics.hpp"

namespace tenflowers::nn::metrics {

namespace {

double divide_or_zero(double numerator, double denominator) {
  return denominator != 0 ? numerator / denominator : 0.0;
}

// Weighted counts per class of decisions laid out [..., classes] (classes = 1 with a flattened
// layout counts the whole tensor as one class).
std::vector<BinaryCounts> count(const Tensor& predicted, const Tensor& actual,
                                const Tensor& weights, int64_t classes) {
  const auto per_class = [&](const Tensor& decisions) {
    const Tensor w = detail::weighted(decisions, weights).broadcast_to(predicted.shape());
    return sum(w.reshape({-1, classes}), {0}).to_vector<double>();
  };
  const auto hits = per_class(logical_and(predicted, actual));
  const auto predicted_positive = per_class(predicted);
  const auto actual_positive = per_class(actual);
  std::vector<BinaryCounts> counts(static_cast<size_t>(classes));
  for (size_t c = 0; c < counts.size(); ++c) {
    counts[c] = {hits[c], predicted_positive[c] - hits[c], actual_positive[c] - hits[c]};
  }
  return counts;
}

void accumulate(std::vector<BinaryCounts>& into, const std::vector<BinaryCounts>& batch) {
  for (size_t c = 0; c < into.size(); ++c) {
    into[c].true_positives += batch[c].true_positives;
    into[c].false_positives += batch[c].false_positives;
    into[c].false_negatives += batch[c].false_negatives;
  }
}

Tensor positive_where_above(const Tensor& y_pred, double threshold, const std::string& who) {
  TF_CHECK(y_pred.dtype() != DType::Bool, DTypeError, who, ": y_pred must be numeric, got bool");
  return gt(y_pred, Tensor::scalar(threshold, DType::F64, y_pred.device()));
}

Tensor nonzero(const Tensor& t) {
  return ne(t, Tensor::scalar(0, t.dtype() == DType::Bool ? DType::Bool : DType::F64, t.device()));
}

}  // namespace

void BinaryCounts::add(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight,
                       double threshold, const std::string& who) {
  const Tensor predicted = positive_where_above(y_pred, threshold, who);
  const Tensor actual = nonzero(nn::detail::aligned_targets(y_true, y_pred, who));
  const Tensor w = detail::broadcastable_weights(sample_weight, y_pred.shape(), who);
  const BinaryCounts batch = count(predicted, actual, w, 1)[0];
  true_positives += batch.true_positives;
  false_positives += batch.false_positives;
  false_negatives += batch.false_negatives;
}

double BinaryCounts::precision() const {
  return divide_or_zero(true_positives, true_positives + false_positives);
}

double BinaryCounts::recall() const {
  return divide_or_zero(true_positives, true_positives + false_negatives);
}

double BinaryCounts::f1() const {
  return divide_or_zero(2 * true_positives, 2 * true_positives + false_positives + false_negatives);
}

void Precision::update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  counts_.add(y_true, y_pred, sample_weight, threshold_, name());
}

void Recall::update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  counts_.add(y_true, y_pred, sample_weight, threshold_, name());
}

void F1Score::update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  if (average_ == F1Average::Binary) {
    if (per_class_.empty()) per_class_.resize(1);
    per_class_[0].add(y_true, y_pred, sample_weight, threshold_.value_or(0.5), name());
    return;
  }
  TF_CHECK(y_pred.dtype() != DType::Bool, DTypeError, name(), ": y_pred must be numeric, got bool");
  nn::detail::check_min_rank(y_pred, 1, name(), "y_pred");
  const int64_t classes = y_pred.size(-1);
  TF_CHECK(classes > 0, ShapeError, name(), ": y_pred of shape ", y_pred.shape(),
           " has no classes along its last axis");
  TF_CHECK(per_class_.empty() || static_cast<int64_t>(per_class_.size()) == classes, ShapeError,
           name(), ": y_pred has ", classes, " classes but earlier batches had ",
           per_class_.size());
  const Tensor actual = nonzero(nn::detail::aligned_targets(y_true, y_pred, name()));
  const Tensor predicted = threshold_ ? positive_where_above(y_pred, *threshold_, name())
                                      : eq(y_pred, max(y_pred, {-1}, true));
  const Tensor w = detail::broadcastable_weights(sample_weight, y_pred.shape(), name());
  const auto batch = count(predicted, actual, w, classes);
  if (per_class_.empty()) per_class_.resize(static_cast<size_t>(classes));
  accumulate(per_class_, batch);
}

double F1Score::result() const {
  if (per_class_.empty()) return 0.0;
  switch (average_) {
    case F1Average::Binary:
      return per_class_[0].f1();
    case F1Average::Micro: {
      std::vector<BinaryCounts> pooled(1);
      for (const BinaryCounts& c : per_class_) accumulate(pooled, {c});
      return pooled[0].f1();
    }
    case F1Average::Macro: {
      double total = 0;
      for (const BinaryCounts& c : per_class_) total += c.f1();
      return total / static_cast<double>(per_class_.size());
    }
  }
  throw InvalidArgument("f1_score: unknown average");
}

}  // namespace tenflowers::nn::metrics
