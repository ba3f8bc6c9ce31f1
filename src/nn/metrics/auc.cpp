// AUC: confusion counts at fixed thresholds, then Keras' Riemann sums over the curve.
#include <cmath>

#include "src/nn/metrics/weights.hpp"
#include "src/nn/targets.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/metrics.hpp"

namespace tenflowers::nn::metrics {

namespace {

constexpr double kEpsilon = 1e-7;  // Keras' backend epsilon

double divide_or_zero(double numerator, double denominator) {
  return denominator != 0 ? numerator / denominator : 0.0;
}

// Davis & Goadrich's interpolation of precision between thresholds, as Keras computes it.
double interpolated_pr_auc(const std::vector<double>& tp, const std::vector<double>& fp,
                           const std::vector<double>& fn) {
  double area = 0;
  for (size_t i = 0; i + 1 < tp.size(); ++i) {
    const double dtp = tp[i] - tp[i + 1];
    const double p = tp[i] + fp[i], p_next = tp[i + 1] + fp[i + 1];
    const double slope = divide_or_zero(dtp, std::max(p - p_next, 0.0));
    const double intercept = tp[i + 1] - slope * p_next;
    const double ratio = p > 0 && p_next > 0 ? divide_or_zero(p, std::max(p_next, 0.0)) : 1.0;
    area += divide_or_zero(slope * (dtp + intercept * std::log(ratio)),
                           std::max(tp[i + 1] + fn[i + 1], 0.0));
  }
  return area;
}

}  // namespace

AUC::AUC(int64_t num_thresholds, AucCurve curve, AucSummation summation)
    : curve_(curve), summation_(summation) {
  TF_CHECK(num_thresholds >= 2, InvalidArgument, "auc: num_thresholds must be at least 2, got ",
           num_thresholds);
  thresholds_.resize(static_cast<size_t>(num_thresholds));
  thresholds_.front() = -kEpsilon;
  for (int64_t i = 1; i + 1 < num_thresholds; ++i) {
    thresholds_[static_cast<size_t>(i)] =
        static_cast<double>(i) / static_cast<double>(num_thresholds - 1);
  }
  thresholds_.back() = 1 + kEpsilon;
  threshold_row_ = Tensor::from_vec(thresholds_, {1, num_thresholds});
  reset_state();
}

void AUC::reset_state() {
  true_positives_.assign(thresholds_.size(), 0.0);
  false_positives_.assign(thresholds_.size(), 0.0);
  positives_ = negatives_ = 0;
}

void AUC::update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) {
  TF_CHECK(y_pred.dtype() != DType::Bool, DTypeError, "auc: y_pred must be numeric, got bool");
  const Tensor target = nn::detail::aligned_targets(y_true, y_pred, "auc");
  const Tensor w = detail::broadcastable_weights(sample_weight, y_pred.shape(), "auc");
  const int64_t n = y_pred.numel();
  if (n == 0) return;
  const Tensor scores = y_pred.cast(DType::F64).reshape({n, 1});
  const double lowest = min(scores).item<double>(), highest = max(scores).item<double>();
  TF_CHECK(lowest >= 0 && highest <= 1, InvalidArgument,
           "auc: predictions must lie in [0, 1], got values in [", lowest, ", ", highest, "]");

  // Row 0 weighs the positives, row 1 the negatives; one matmul with the [n, T] matrix of
  // "score above threshold" gives both rows of counts at every threshold.
  const Tensor weight = w.defined() ? w.broadcast_to(y_pred.shape()).reshape({n})
                                    : ones({n}, DType::F64, y_pred.device());
  const Tensor positive =
      ne(target, Tensor::scalar(0, DType::F64, target.device())).cast(DType::F64).reshape({n});
  const Tensor weighted_positive = weight * positive;
  const Tensor rows = stack({weighted_positive, weight - weighted_positive});
  const Tensor above = gt(scores, threshold_row_.to(scores.device())).cast(DType::F64);
  const auto counts = matmul(rows, above).to_vector<double>();
  const size_t t = thresholds_.size();
  for (size_t i = 0; i < t; ++i) {
    true_positives_[i] += counts[i];
    false_positives_[i] += counts[t + i];
  }
  const auto totals = sum(rows, {1}).to_vector<double>();
  positives_ += totals[0];
  negatives_ += totals[1];
}

double AUC::result() const {
  const size_t t = thresholds_.size();
  std::vector<double> fn(t), x(t), y(t);
  for (size_t i = 0; i < t; ++i) fn[i] = positives_ - true_positives_[i];
  if (curve_ == AucCurve::PR && summation_ == AucSummation::Interpolation) {
    return interpolated_pr_auc(true_positives_, false_positives_, fn);
  }
  for (size_t i = 0; i < t; ++i) {
    const double tp = true_positives_[i], fp = false_positives_[i];
    const double recall = divide_or_zero(tp, tp + fn[i]);
    if (curve_ == AucCurve::ROC) {
      x[i] = divide_or_zero(fp, fp + (negatives_ - fp));
      y[i] = recall;
    } else {
      x[i] = recall;
      y[i] = divide_or_zero(tp, tp + fp);
    }
  }
  double area = 0;
  for (size_t i = 0; i + 1 < t; ++i) {
    double height = (y[i] + y[i + 1]) / 2;
    if (summation_ == AucSummation::Minoring) height = std::min(y[i], y[i + 1]);
    if (summation_ == AucSummation::Majoring) height = std::max(y[i], y[i + 1]);
    area += (x[i] - x[i + 1]) * height;
  }
  return area;
}

}  // namespace tenflowers::nn::metrics
