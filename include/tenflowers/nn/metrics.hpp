#pragma once
// Stateful metrics with Keras semantics: update_state() accumulates a batch (on the host, in
// double or int64, from a few reductions computed by registered ops), result() reads the value
// and reset_state() starts over.
//
// sample_weight, where accepted, weighs each prediction: its shape is y_pred's (after the
// metric's own reduction, e.g. per sample for the categorical accuracies) or a prefix of it
// ([B] for [B, C] predictions), or it is 0-d; anything else is a ShapeError. Targets are
// aligned to predictions as the losses do (see losses.hpp), never broadcast.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn {

class Metric {
 public:
  virtual ~Metric() = default;
  void update_state(const Tensor& y_true, const Tensor& y_pred,
                    const Tensor& sample_weight = Tensor()) {
    update(y_true, y_pred, sample_weight);
  }
  virtual void reset_state() = 0;
  virtual std::string name() const = 0;
  // The value as a tensor: 0-d f64 for scalar metrics, [C, C] i64 for ConfusionMatrix.
  virtual Tensor result_tensor() const = 0;

 protected:
  // sample_weight is undefined when none was given.
  virtual void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) = 0;
};

class ScalarMetric : public Metric {
 public:
  virtual double result() const = 0;
  Tensor result_tensor() const final;
};

namespace metrics {

// Running weighted mean of values (e.g. the loss): sum(w v) / sum(w), 0 before any weight.
// It tracks values rather than predictions, so it is not a Metric.
class Mean {
 public:
  explicit Mean(std::string name = "mean") : name_(std::move(name)) {}
  void update_state(const Tensor& values, const Tensor& sample_weight = Tensor());
  double result() const { return count_ != 0 ? total_ / count_ : 0.0; }
  void reset_state() { total_ = count_ = 0; }
  const std::string& name() const { return name_; }

 private:
  double total_ = 0, count_ = 0;
  std::string name_;
};

// A metric that is the weighted mean of one value per prediction (the accuracies).
class MeanOfValues : public ScalarMetric {
 public:
  double result() const final { return mean_.result(); }
  void reset_state() final { mean_.reset_state(); }

 protected:
  // 1 for each correct prediction, 0 otherwise.
  virtual Tensor values(const Tensor& y_true, const Tensor& y_pred) const = 0;

 private:
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) final;
  Mean mean_;
};

// Elementwise: (y_pred > threshold) == y_true.
class BinaryAccuracy final : public MeanOfValues {
 public:
  explicit BinaryAccuracy(double threshold = 0.5) : threshold_(threshold) {}
  std::string name() const override { return "binary_accuracy"; }

 private:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
  double threshold_;
};

// Per sample: argmax(y_true) == argmax(y_pred) along the last axis (first maximum on ties).
class CategoricalAccuracy final : public MeanOfValues {
 public:
  std::string name() const override { return "categorical_accuracy"; }

 private:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

// Per sample: label == argmax(y_pred); integer labels as in sparse_categorical_crossentropy.
class SparseCategoricalAccuracy final : public MeanOfValues {
 public:
  std::string name() const override { return "sparse_categorical_accuracy"; }

 private:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
};

// Per sample: the target class (argmax of y_true) is in the top k of y_pred, with TensorFlow's
// in_top_k rule: fewer than k classes score strictly higher (so ties at the boundary count as
// in), and a row with a non-finite score is never in. k >= 1 (InvalidArgument).
class TopKCategoricalAccuracy final : public MeanOfValues {
 public:
  explicit TopKCategoricalAccuracy(int64_t k = 5);
  std::string name() const override { return "top_k_categorical_accuracy"; }

 private:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
  int64_t k_;
};

// TopKCategoricalAccuracy with integer labels.
class SparseTopKCategoricalAccuracy final : public MeanOfValues {
 public:
  explicit SparseTopKCategoricalAccuracy(int64_t k = 5);
  std::string name() const override { return "sparse_top_k_categorical_accuracy"; }

 private:
  Tensor values(const Tensor& y_true, const Tensor& y_pred) const override;
  int64_t k_;
};

// Weighted true positive, false positive and false negative counts of elementwise binary
// decisions: predicted positive when y_pred > threshold, actually positive when y_true != 0.
struct BinaryCounts {
  double true_positives = 0, false_positives = 0, false_negatives = 0;
  void add(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight,
           double threshold, const std::string& who);
  double precision() const;  // tp / (tp + fp), 0 when nothing was predicted positive
  double recall() const;     // tp / (tp + fn), 0 when nothing was positive
  double f1() const;         // 2 tp / (2 tp + fp + fn), 0 when undefined
};

class Precision final : public ScalarMetric {
 public:
  explicit Precision(double threshold = 0.5) : threshold_(threshold) {}
  double result() const override { return counts_.precision(); }
  void reset_state() override { counts_ = {}; }
  std::string name() const override { return "precision"; }

 private:
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) override;
  double threshold_;
  BinaryCounts counts_;
};

class Recall final : public ScalarMetric {
 public:
  explicit Recall(double threshold = 0.5) : threshold_(threshold) {}
  double result() const override { return counts_.recall(); }
  void reset_state() override { counts_ = {}; }
  std::string name() const override { return "recall"; }

 private:
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) override;
  double threshold_;
  BinaryCounts counts_;
};

// Binary: the F1 score of elementwise decisions y_pred > threshold (0.5 when not given).
// Micro and Macro: y_true is one-hot (or multi-hot) over the last axis; a class is predicted
// where y_pred > threshold, or, without a threshold, where y_pred equals the row's maximum
// (Keras). Micro pools the per-class counts; Macro averages the per-class F1 scores (a class
// never seen nor predicted scores 0). Scores are exact: Keras adds 1e-7 to the denominator.
enum class F1Average { Binary, Micro, Macro };

class F1Score final : public ScalarMetric {
 public:
  explicit F1Score(F1Average average = F1Average::Binary,
                   std::optional<double> threshold = std::nullopt)
      : average_(average), threshold_(threshold) {}
  double result() const override;
  void reset_state() override { per_class_.clear(); }
  std::string name() const override { return "f1_score"; }

 private:
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) override;
  F1Average average_;
  std::optional<double> threshold_;
  std::vector<BinaryCounts> per_class_;  // one entry for Binary
};

// Area under the ROC or precision-recall curve, computed as Keras does from confusion counts at
// num_thresholds thresholds: -1e-7, i / (num_thresholds - 1) for 0 < i < num_thresholds - 1,
// and 1 + 1e-7; a prediction is positive at threshold t when y_pred > t. Interpolation is the
// trapezoidal rule for ROC and Davis & Goadrich's interpolation for PR; Minoring and Majoring
// are the lower and upper Riemann sums. Predictions must lie in [0, 1] (InvalidArgument);
// y_true != 0 is positive. num_thresholds >= 2 (InvalidArgument).
enum class AucCurve { ROC, PR };
enum class AucSummation { Interpolation, Minoring, Majoring };

class AUC final : public ScalarMetric {
 public:
  explicit AUC(int64_t num_thresholds = 200, AucCurve curve = AucCurve::ROC,
               AucSummation summation = AucSummation::Interpolation);
  double result() const override;
  void reset_state() override;
  std::string name() const override { return "auc"; }
  const std::vector<double>& thresholds() const { return thresholds_; }
  // Weighted counts per threshold.
  const std::vector<double>& true_positives() const { return true_positives_; }
  const std::vector<double>& false_positives() const { return false_positives_; }
  double positives() const { return positives_; }
  double negatives() const { return negatives_; }

 private:
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) override;
  AucCurve curve_;
  AucSummation summation_;
  std::vector<double> thresholds_;
  Tensor threshold_row_;  // thresholds_ as a [1, T] f64 tensor
  std::vector<double> true_positives_, false_positives_;
  double positives_ = 0, negatives_ = 0;
};

// Counts of (true class, predicted class) pairs: result()[i][j] is the number of samples of
// class i predicted as j. y_true holds integer labels; y_pred holds integer labels of the same
// shape or scores with a last axis of num_classes (argmax). Labels outside [0, num_classes)
// throw IndexError; sample_weight is not accepted (InvalidArgument): the counts are integers.
class ConfusionMatrix final : public Metric {
 public:
  explicit ConfusionMatrix(int64_t num_classes);
  Tensor result() const;  // i64 [num_classes, num_classes]
  Tensor result_tensor() const override { return result(); }
  void reset_state() override;
  std::string name() const override { return "confusion_matrix"; }

 private:
  void update(const Tensor& y_true, const Tensor& y_pred, const Tensor& sample_weight) override;
  int64_t num_classes_;
  std::vector<int64_t> counts_;
};

}  // namespace metrics
}  // namespace tenflowers::nn
