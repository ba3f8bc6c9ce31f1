#pragma once
// Losses with Keras semantics, built only from registered ops (so they are differentiable on
// every device). Each loss computes one value per sample by reducing the last axis of
// y_pred (sparse categorical: the class axis), then applies a Reduction.
//
// Inputs: y_pred is floating (f16/bf16 compute and return f32); y_true is cast to the compute
// dtype. As in Keras, a y_true with one axis less than y_pred where y_pred's last extent is 1
// (or one axis more, of extent 1) is aligned to y_pred; otherwise the shapes must be equal
// (ShapeError), never broadcast. Probabilities are clamped to [1e-7, 1 - 1e-7] (Keras' epsilon).
#include <string>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn {

// None: the per-sample losses (y_pred's shape without its last axis). Sum: their sum. Mean:
// their sum divided by their count (Keras' "sum_over_batch_size"; 0 for an empty batch).
enum class Reduction { None, Sum, Mean };

// What Model::compile takes: a loss with its options bound.
class Loss {
 public:
  virtual ~Loss() = default;
  virtual Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const = 0;
  virtual std::string name() const = 0;
};

namespace losses {

using nn::Reduction;  // also spelled nn::losses::Reduction

// mean((y_pred - y_true)^2) over the last axis.
Tensor mse(const Tensor& y_true, const Tensor& y_pred, Reduction reduction = Reduction::Mean);
// mean(|y_pred - y_true|) over the last axis.
Tensor mae(const Tensor& y_true, const Tensor& y_pred, Reduction reduction = Reduction::Mean);
// mean over the last axis of e^2 / 2 where |e| <= delta, else delta * (|e| - delta / 2), with
// e = y_pred - y_true. delta must be positive and finite (InvalidArgument).
Tensor huber(const Tensor& y_true, const Tensor& y_pred, double delta = 1.0,
             Reduction reduction = Reduction::Mean);
// Mean over the last axis of -(z log p + (1 - z) log(1 - p)), p clamped to [eps, 1 - eps];
// from_logits: max(x, 0) - x z + log1p(exp(-|x|)), stable for any logit x.
Tensor binary_crossentropy(const Tensor& y_true, const Tensor& y_pred, bool from_logits = false,
                           Reduction reduction = Reduction::Mean);
// -sum(y_true * log p) over the last axis, where p is y_pred normalized to sum 1 along it and
// clamped (Keras), or log_softmax(y_pred) when from_logits. y_true is one-hot or probabilities.
Tensor categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred,
                                bool from_logits = false, Reduction reduction = Reduction::Mean);
// As categorical_crossentropy with y_true holding class indices (an integer tensor of y_pred's
// shape without its last axis, or with a last axis of 1). A label outside [0, classes) throws
// IndexError naming it and its position; a floating label tensor throws DTypeError.
Tensor sparse_categorical_crossentropy(const Tensor& y_true, const Tensor& y_pred,
                                       bool from_logits = false,
                                       Reduction reduction = Reduction::Mean);
// sum(t log(t / p)) over the last axis, with t and p clamped to [eps, 1] (Keras).
Tensor kl_divergence(const Tensor& y_true, const Tensor& y_pred,
                     Reduction reduction = Reduction::Mean);

// ---- the same losses as objects (Keras' names) --------------------------------------------

class MeanSquaredError final : public Loss {
 public:
  explicit MeanSquaredError(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "mean_squared_error"; }

 private:
  Reduction reduction_;
};

class MeanAbsoluteError final : public Loss {
 public:
  explicit MeanAbsoluteError(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "mean_absolute_error"; }

 private:
  Reduction reduction_;
};

class Huber final : public Loss {
 public:
  // InvalidArgument unless delta is positive and finite.
  explicit Huber(double delta = 1.0, Reduction reduction = Reduction::Mean);
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "huber_loss"; }

 private:
  double delta_;
  Reduction reduction_;
};

class BinaryCrossentropy final : public Loss {
 public:
  explicit BinaryCrossentropy(bool from_logits = false, Reduction reduction = Reduction::Mean)
      : from_logits_(from_logits), reduction_(reduction) {}
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "binary_crossentropy"; }

 private:
  bool from_logits_;
  Reduction reduction_;
};

class CategoricalCrossentropy final : public Loss {
 public:
  explicit CategoricalCrossentropy(bool from_logits = false, Reduction reduction = Reduction::Mean)
      : from_logits_(from_logits), reduction_(reduction) {}
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "categorical_crossentropy"; }

 private:
  bool from_logits_;
  Reduction reduction_;
};

class SparseCategoricalCrossentropy final : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(bool from_logits = false,
                                         Reduction reduction = Reduction::Mean)
      : from_logits_(from_logits), reduction_(reduction) {}
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "sparse_categorical_crossentropy"; }

 private:
  bool from_logits_;
  Reduction reduction_;
};

class KLDivergence final : public Loss {
 public:
  explicit KLDivergence(Reduction reduction = Reduction::Mean) : reduction_(reduction) {}
  Tensor operator()(const Tensor& y_true, const Tensor& y_pred) const override;
  std::string name() const override { return "kl_divergence"; }

 private:
  Reduction reduction_;
};

}  // namespace losses
}  // namespace tenflowers::nn
