#include "tenflowers/nn/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "src/nn/optimizers/validate.hpp"
#include "tenflowers/nn/optimizer.hpp"

namespace tenflowers::nn {

double LearningRateSchedule::operator()(int64_t step) const {
  TF_CHECK(step >= 0, InvalidArgument, "a learning-rate schedule needs a step >= 0, got ", step);
  return rate_at(step);
}

ConstantSchedule::ConstantSchedule(double learning_rate) : learning_rate_(learning_rate) {
  detail::check_non_negative(learning_rate, "learning_rate");
}

double ConstantSchedule::rate_at(int64_t) const {
  return learning_rate_;
}

StepDecay::StepDecay(double learning_rate, int64_t step_size, double gamma)
    : learning_rate_(learning_rate), step_size_(step_size), gamma_(gamma) {
  detail::check_non_negative(learning_rate, "learning_rate");
  TF_CHECK(step_size > 0, InvalidArgument, "step_size must be > 0, got ", step_size);
  detail::check_non_negative(gamma, "gamma");
}

double StepDecay::rate_at(int64_t step) const {
  return learning_rate_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

PiecewiseConstantDecay::PiecewiseConstantDecay(std::vector<int64_t> boundaries,
                                               std::vector<double> values)
    : boundaries_(std::move(boundaries)), values_(std::move(values)) {
  TF_CHECK(values_.size() == boundaries_.size() + 1, InvalidArgument, "got ", boundaries_.size(),
           " boundaries and ", values_.size(), " values (expected one value more than boundaries)");
  for (double v : values_) detail::check_non_negative(v, "every value");
  for (size_t i = 0; i < boundaries_.size(); ++i) {
    TF_CHECK(boundaries_[i] >= 0 && (i == 0 || boundaries_[i] > boundaries_[i - 1]),
             InvalidArgument, "boundaries must be >= 0 and strictly increasing, got ",
             boundaries_[i], " at position ", i);
  }
}

double PiecewiseConstantDecay::rate_at(int64_t step) const {
  // The first boundary >= step selects the value before it.
  const auto it = std::lower_bound(boundaries_.begin(), boundaries_.end(), step);
  return values_[static_cast<size_t>(it - boundaries_.begin())];
}

ExponentialDecay::ExponentialDecay(double learning_rate, int64_t decay_steps, double decay_rate,
                                   bool staircase)
    : learning_rate_(learning_rate),
      decay_steps_(decay_steps),
      decay_rate_(decay_rate),
      staircase_(staircase) {
  detail::check_non_negative(learning_rate, "learning_rate");
  TF_CHECK(decay_steps > 0, InvalidArgument, "decay_steps must be > 0, got ", decay_steps);
  detail::check_positive(decay_rate, "decay_rate");
}

double ExponentialDecay::rate_at(int64_t step) const {
  const double exponent = staircase_ ? static_cast<double>(step / decay_steps_)
                                     : static_cast<double>(step) / decay_steps_;
  return learning_rate_ * std::pow(decay_rate_, exponent);
}

CosineDecay::CosineDecay(double learning_rate, int64_t decay_steps, double alpha,
                         int64_t warmup_steps, double warmup_initial)
    : learning_rate_(learning_rate),
      decay_steps_(decay_steps),
      alpha_(alpha),
      warmup_steps_(warmup_steps),
      warmup_initial_(warmup_initial) {
  detail::check_non_negative(learning_rate, "learning_rate");
  TF_CHECK(decay_steps > 0, InvalidArgument, "decay_steps must be > 0, got ", decay_steps);
  detail::check_range(alpha, 0.0, 1.0, true, "alpha");
  TF_CHECK(warmup_steps >= 0, InvalidArgument, "warmup_steps must be >= 0, got ", warmup_steps);
  detail::check_non_negative(warmup_initial, "warmup_initial");
}

double CosineDecay::rate_at(int64_t step) const {
  if (step < warmup_steps_) {
    const double progress = static_cast<double>(step) / static_cast<double>(warmup_steps_);
    return warmup_initial_ + (learning_rate_ - warmup_initial_) * progress;
  }
  const double t = static_cast<double>(std::min(step - warmup_steps_, decay_steps_));
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * t / decay_steps_));
  return learning_rate_ * ((1.0 - alpha_) * cosine + alpha_);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(&optimizer),
      options_(options),
      best_(options.mode == ReduceLROnPlateauOptions::Mode::Min
                ? std::numeric_limits<double>::infinity()
                : -std::numeric_limits<double>::infinity()) {
  TF_CHECK(!optimizer.learning_rate_setting().schedule(), InvalidArgument,
           "ReduceLROnPlateau needs an optimizer with a constant learning rate, not a schedule");
  TF_CHECK(options.factor > 0.0 && options.factor < 1.0, InvalidArgument,
           "factor must be in (0, 1), got ", options.factor);
  TF_CHECK(options.patience >= 0, InvalidArgument, "patience must be >= 0, got ", options.patience);
  detail::check_non_negative(options.min_delta, "min_delta");
  TF_CHECK(options.cooldown >= 0, InvalidArgument, "cooldown must be >= 0, got ", options.cooldown);
  detail::check_non_negative(options.min_lr, "min_lr");
}

bool ReduceLROnPlateau::improves(double metric) const {
  return options_.mode == ReduceLROnPlateauOptions::Mode::Min ? metric < best_ - options_.min_delta
                                                              : metric > best_ + options_.min_delta;
}

bool ReduceLROnPlateau::update(double metric) {
  const bool in_cooldown = cooldown_counter_ > 0;
  if (in_cooldown) --cooldown_counter_;
  if (improves(metric)) {
    best_ = metric;
    wait_ = 0;
    return false;
  }
  if (in_cooldown || ++wait_ < options_.patience) return false;
  const double old_rate = optimizer_->learning_rate();
  if (old_rate <= options_.min_lr) return false;
  optimizer_->set_learning_rate(std::max(old_rate * options_.factor, options_.min_lr));
  cooldown_counter_ = options_.cooldown;
  wait_ = 0;
  return true;
}

}  // namespace tenflowers::nn
