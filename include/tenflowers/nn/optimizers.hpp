#pragma once
// The optimizers, with torch.optim's update formulas (defaults are torch's too). Each step runs
// one fused op per variable (src/core/ops/optimizer.cpp). Notation: p the parameter, g its
// gradient after clipping plus the coupled decay `options.weight_decay * p` (all but AdamW),
// lr the learning rate of this step, t the step count (1 for the first step).
//
//   nn::Adam adam({.learning_rate = 1e-3, .common = {.clip_norm = 1.0}});
//   adam.apply_gradients(tape.gradient(loss, vars), vars);
#include "tenflowers/nn/optimizer.hpp"

namespace tenflowers::nn {

// torch.optim.SGD. With momentum, slot "momentum" b: b = g on a variable's first step, later
// b = momentum * b + (1 - dampening) * g; then p -= lr * (nesterov ? g + momentum * b : b).
// Without momentum: p -= lr * g.
struct SGDOptions {
  LearningRate learning_rate = 1e-2;
  double momentum = 0.0;   // >= 0
  double dampening = 0.0;  // in [0, 1]
  bool nesterov = false;   // needs momentum > 0 and dampening = 0
  OptimizerOptions common{};
};

class SGD final : public Optimizer {
 public:
  explicit SGD(SGDOptions options = {});

 private:
  const OpDef& update_op() const override;
  void add_update_attrs(Attrs& attrs, const Step& step) const override;
  SGDOptions options_;
};

// torch.optim.Adam. Slots "m", "v" (and "v_max" with amsgrad):
//   m = beta1 * m + (1 - beta1) * g,  v = beta2 * v + (1 - beta2) * g^2
//   v_hat = amsgrad ? (v_max = max(v_max, v)) : v
//   p -= lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + epsilon)
// epsilon sits outside the square root, after the bias correction (torch; Keras puts it
// before). t counts the optimizer's steps (Keras' iterations + 1), so a variable whose
// gradient was undefined on some steps is corrected with the optimizer's count, not its own.
struct AdamOptions {
  LearningRate learning_rate = 1e-3;
  double beta1 = 0.9;     // in [0, 1)
  double beta2 = 0.999;   // in [0, 1)
  double epsilon = 1e-8;  // >= 0
  bool amsgrad = false;
  OptimizerOptions common{};
};

class Adam : public Optimizer {
 public:
  explicit Adam(AdamOptions options = {});

 protected:
  // AdamW: the weight decay is decoupled (p *= 1 - lr * weight_decay, then Adam without L2).
  Adam(AdamOptions options, bool decoupled_weight_decay);

 private:
  const OpDef& update_op() const override;
  void add_update_attrs(Attrs& attrs, const Step& step) const override;
  std::pair<double, double> bias_correction_betas() const override;
  AdamOptions options_;
  bool decoupled_;
};

// torch.optim.AdamW: p *= 1 - lr * weight_decay, then Adam's update without the coupled L2
// term. weight_decay defaults to torch's 1e-2; assigning `.common = {...}` replaces the whole
// struct, so spell weight_decay there too.
struct AdamWOptions {
  LearningRate learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  bool amsgrad = false;
  OptimizerOptions common{.weight_decay = 1e-2};
};

class AdamW final : public Adam {
 public:
  explicit AdamW(AdamWOptions options = {});
};

// torch.optim.RMSprop (torch calls rho alpha). Slots "square_avg" s, "grad_avg" a (centered),
// "momentum" b (momentum > 0):
//   s = rho * s + (1 - rho) * g^2,  a = rho * a + (1 - rho) * g
//   d = sqrt(centered ? s - a^2 : s) + epsilon
//   momentum > 0: b = momentum * b + g / d, p -= lr * b;  else p -= lr * g / d
struct RMSpropOptions {
  LearningRate learning_rate = 1e-2;
  double rho = 0.99;      // in [0, 1)
  double epsilon = 1e-8;  // >= 0
  double momentum = 0.0;  // >= 0
  bool centered = false;
  OptimizerOptions common{};
};

class RMSprop final : public Optimizer {
 public:
  explicit RMSprop(RMSpropOptions options = {});

 private:
  const OpDef& update_op() const override;
  void add_update_attrs(Attrs& attrs, const Step& step) const override;
  RMSpropOptions options_;
};

// torch.optim.Adagrad (without lr_decay: use a schedule). Slot "accumulator" s, starting at
// initial_accumulator_value: s += g^2, p -= lr * g / (sqrt(s) + epsilon).
struct AdagradOptions {
  LearningRate learning_rate = 1e-2;
  double initial_accumulator_value = 0.0;  // >= 0
  double epsilon = 1e-10;                  // >= 0
  OptimizerOptions common{};
};

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(AdagradOptions options = {});

 private:
  const OpDef& update_op() const override;
  void add_update_attrs(Attrs& attrs, const Step& step) const override;
  AdagradOptions options_;
};

}  // namespace tenflowers::nn
