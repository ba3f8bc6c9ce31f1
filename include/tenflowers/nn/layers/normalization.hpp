#pragma once
// BatchNormalization and LayerNormalization (Keras semantics and defaults).
#include <string>
#include <vector>

#include "tenflowers/nn/layer.hpp"

namespace tenflowers::nn {

struct BatchNormOptions {
  int64_t axis = 1;        // the feature axis: 1 for [N, C, ...] (channels first)
  double momentum = 0.99;  // moving = moving * momentum + batch * (1 - momentum)
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  std::string name;
};

// Training: normalizes with the batch's mean and (biased) variance over every axis but `axis`
// and updates the moving statistics from them (the fused batch_norm op); inference: uses the
// moving statistics (batch_norm_inference).
class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(BatchNormOptions options = {});
  const Variable& moving_mean() const { return moving_mean_; }
  const Variable& moving_variance() const { return moving_variance_; }

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  BatchNormOptions options_;
  int64_t axis_ = 1;  // resolved against the rank at build
  Variable gamma_, beta_, moving_mean_, moving_variance_;
};

struct LayerNormOptions {
  std::vector<int64_t> axes{-1};  // normalized axes, trailing
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  std::string name;
};

// Normalizes each sample over `axes` with its own mean and variance, then scales and shifts
// with gamma and beta of the normalized shape.
class LayerNormalization : public Layer {
 public:
  explicit LayerNormalization(LayerNormOptions options = {});

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  LayerNormOptions options_;
  std::vector<int64_t> axes_;
  Variable gamma_, beta_;
};

}  // namespace tenflowers::nn
