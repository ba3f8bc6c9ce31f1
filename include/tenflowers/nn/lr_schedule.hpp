#pragma once
// Learning-rate schedules (Keras' LearningRateSchedule, torch.optim.lr_scheduler): a schedule
// maps the optimizer's step count (0 for the first update) to a rate. Pass one as an
// optimizer's learning_rate (a std::shared_ptr); ReduceLROnPlateau instead watches a metric and
// lowers the rate of the optimizer it is attached to. Constructors validate their arguments
// (negative or non-finite rates, zero step counts, ...) and throw InvalidArgument.
#include <cstdint>
#include <vector>

namespace tenflowers::nn {

class Optimizer;

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // The rate for `step` >= 0 (a negative step throws InvalidArgument).
  double operator()(int64_t step) const;

 protected:
  virtual double rate_at(int64_t step) const = 0;
};

// The same rate at every step.
class ConstantSchedule final : public LearningRateSchedule {
 public:
  explicit ConstantSchedule(double learning_rate);

 private:
  double rate_at(int64_t step) const override;
  double learning_rate_;
};

// learning_rate * gamma^floor(step / step_size) (torch's StepLR).
class StepDecay final : public LearningRateSchedule {
 public:
  StepDecay(double learning_rate, int64_t step_size, double gamma = 0.1);

 private:
  double rate_at(int64_t step) const override;
  double learning_rate_;
  int64_t step_size_;
  double gamma_;
};

// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
// boundaries[i], values.back() after the last boundary (Keras' PiecewiseConstantDecay).
// Boundaries strictly increase; values has one more entry than boundaries.
class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  PiecewiseConstantDecay(std::vector<int64_t> boundaries, std::vector<double> values);

 private:
  double rate_at(int64_t step) const override;
  std::vector<int64_t> boundaries_;
  std::vector<double> values_;
};

// learning_rate * decay_rate^(step / decay_steps), the exponent floored when staircase
// (Keras' ExponentialDecay).
class ExponentialDecay final : public LearningRateSchedule {
 public:
  ExponentialDecay(double learning_rate, int64_t decay_steps, double decay_rate,
                   bool staircase = false);

 private:
  double rate_at(int64_t step) const override;
  double learning_rate_;
  int64_t decay_steps_;
  double decay_rate_;
  bool staircase_;
};

// Linear warm-up from warmup_initial to learning_rate over warmup_steps, then cosine decay to
// alpha * learning_rate over decay_steps, constant afterwards (Keras' CosineDecay with
// warmup_target = learning_rate):
//   step < warmup_steps: warmup_initial + (learning_rate - warmup_initial) * step / warmup_steps
//   else: t = min(step - warmup_steps, decay_steps),
//         learning_rate * ((1 - alpha) * (1 + cos(pi * t / decay_steps)) / 2 + alpha)
class CosineDecay final : public LearningRateSchedule {
 public:
  CosineDecay(double learning_rate, int64_t decay_steps, double alpha = 0.0,
              int64_t warmup_steps = 0, double warmup_initial = 0.0);

 private:
  double rate_at(int64_t step) const override;
  double learning_rate_;
  int64_t decay_steps_;
  double alpha_;
  int64_t warmup_steps_;
  double warmup_initial_;
};

struct ReduceLROnPlateauOptions {
  enum class Mode { Min, Max };
  Mode mode = Mode::Min;    // Min: lower metric values are better (a loss); Max: accuracy
  double factor = 0.1;      // new rate = max(rate * factor, min_lr); 0 < factor < 1
  int64_t patience = 10;    // reduce at this many epochs without improvement (>= 0)
  double min_delta = 1e-4;  // an improvement must beat the best value by more than this (>= 0)
  int64_t cooldown = 0;     // epochs after a reduction that never count as bad (>= 0)
  double min_lr = 0.0;      // the rate never goes below this (>= 0)
};

// Lowers an optimizer's constant learning rate when a metric stops improving (Keras'
// ReduceLROnPlateau callback: a bad epoch is one that does not beat the best value by more than
// min_delta; the rate drops when `patience` bad epochs have passed since the last improvement
// or reduction). Unlike Keras, and as torch does, `cooldown` epochs are skipped in full (Keras
// skips one fewer). The optimizer must outlive this object and use a constant rate (a
// scheduled rate cannot be set: InvalidArgument).
class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  // Feeds the epoch's metric; returns true when the rate was reduced. A NaN metric counts as no
  // improvement.
  bool update(double metric);
  double best() const { return best_; }

 private:
  bool improves(double metric) const;
  Optimizer* optimizer_;
  ReduceLROnPlateauOptions options_;
  double best_;
  int64_t wait_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace tenflowers::nn
