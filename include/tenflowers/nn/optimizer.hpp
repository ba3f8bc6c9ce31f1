#pragma once
// nn::Optimizer: the base of the optimizers in optimizers.hpp. apply_gradients takes a
// gradient per variable (Keras' apply_gradients), prepares the gradients (clipping by value,
// by norm per variable, by global norm, in that order) and runs the optimizer's fused update
// op on each variable and its slots in place: one pass over each parameter. Slots (momentum,
// m, v, ...) are made lazily for each variable, in its dtype and on its device, and are keyed
// by the variable's identity, so the same Variable objects must be passed at every step.
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tenflowers/autograd/variable.hpp"
#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/nn/lr_schedule.hpp"

namespace tenflowers::nn {

namespace detail {
class DeviceStep;
}  // namespace detail

// A constant learning rate or a schedule evaluated at the optimizer's step count. Implicit, so
// options read `.learning_rate = 1e-3` or `.learning_rate = std::make_shared<CosineDecay>(...)`.
class LearningRate {
 public:
  LearningRate(double value);  // NOLINT(google-explicit-constructor); >= 0 and finite
  template <std::derived_from<LearningRateSchedule> S>
  LearningRate(std::shared_ptr<S> schedule)  // NOLINT(google-explicit-constructor); non-null
      : LearningRate(std::shared_ptr<const LearningRateSchedule>(std::move(schedule)), 0) {}

  double at(int64_t step) const;
  // The schedule, or null for a constant rate.
  const std::shared_ptr<const LearningRateSchedule>& schedule() const { return schedule_; }

 private:
  LearningRate(std::shared_ptr<const LearningRateSchedule> schedule, int);
  double value_ = 0.0;
  std::shared_ptr<const LearningRateSchedule> schedule_;
};

// Options every optimizer takes (Keras' weight_decay, clipvalue, clipnorm, global_clipnorm).
struct OptimizerOptions {
  // L2 penalty: added to the gradient as weight_decay * param (torch's coupled decay) by SGD,
  // Adam, RMSprop and Adagrad; AdamW decays the parameter directly (see AdamW). >= 0.
  double weight_decay = 0.0;
  std::optional<double> clip_value{};        // clamp gradient elements to [-v, v]; v > 0
  std::optional<double> clip_norm{};         // scale each gradient by c / max(||g||, c); c > 0
  std::optional<double> global_clip_norm{};  // scale all by c / max(sqrt(sum ||g_i||^2), c)
  // torch's capturable: the step count, learning rate and bias corrections live in device memory
  // (a step state advanced by the optimizer_step op), so that apply_gradients may run inside a
  // CUDA graph capture and every replay takes a step of its own; learning-rate schedules and
  // set_learning_rate keep working (a replay first refreshes the rate on the host, which also
  // counts the step in iterations()). Needed for apply_gradients inside a capture. Every variable
  // must be on one device; clipping by norm cannot be captured (norms are read on the host).
  bool capturable = false;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) = default;
  Optimizer& operator=(Optimizer&&) = default;

  // One step: updates vars[i] from grads[i]. An undefined gradient skips its variable. Throws
  // InvalidArgument for different counts, an undefined or repeated variable; DTypeError for a
  // non-floating gradient or variable; ShapeError (naming the variable) for a gradient of
  // another shape; DeviceError for a gradient on another device. Nothing changes on error.
  void apply_gradients(std::span<const Tensor> grads, std::span<const Variable> vars);

  int64_t iterations() const { return clock_->iterations; }  // steps taken (replays included)
  double learning_rate() const { return clock_->rate.at(clock_->iterations); }  // the next step's
  void set_learning_rate(LearningRate rate) { clock_->rate = std::move(rate); }
  const LearningRate& learning_rate_setting() const { return clock_->rate; }
  const OptimizerOptions& options() const { return options_; }
  // Slot names of this optimizer in its configuration ("m", "v", ...), in state() order.
  const std::vector<std::string>& slot_names() const { return slot_names_; }

  // For checkpoints: every slot of every variable updated so far, named "<variable>/<slot>",
  // then "iterations" (a 0-d i64 tensor). The slot tensors are the live slots (later steps
  // change them; copy() them for a snapshot). Throws InvalidArgument when two such variables
  // share a name or one has an empty name.
  std::vector<std::pair<std::string, Tensor>> state() const;
  // Restores the slots of `vars` and the step count from a list like state()'s (on any device;
  // values are copied to each variable's device). Every "<variable>/<slot>" entry of `vars` and
  // "iterations" must be present with the variable's shape and dtype, and no other entry may be;
  // every mismatch is reported in one error: InvalidArgument when names are missing or
  // unexpected, else ShapeError for shapes, else DTypeError. Nothing changes on error.
  void load_state(std::span<const std::pair<std::string, Tensor>> named,
                  std::span<const Variable> vars);

 protected:
  // What a fused update needs beyond the common attributes.
  struct Step {
    int64_t count;         // 1 for the first step (bias corrections use it)
    double learning_rate;  // for this step
    bool new_slots;        // the variable's slots were made for this step
    bool on_device;        // capturable: learning rate and bias corrections come from the device
  };
  Optimizer(LearningRate learning_rate, OptimizerOptions options,
            std::vector<std::string> slot_names, double initial_slot_value = 0.0);
  // The fused update op and its attributes; `attrs` already holds learning_rate, weight_decay,
  // clip_value and grad_scale.
  virtual const OpDef& update_op() const = 0;
  virtual void add_update_attrs(Attrs& attrs, const Step& step) const = 0;
  // The betas whose powers optimizer_step turns into bias corrections (Adam's); 0 gives 1.
  virtual std::pair<double, double> bias_correction_betas() const { return {0.0, 0.0}; }

 private:
  struct Tracked {
    Variable variable;
    std::vector<Tensor> slots;
  };
  // Shared with the replay callbacks of captured steps, which count each replay's step.
  struct Clock {
    LearningRate rate;
    int64_t iterations = 0;
  };
  // Each gradient's scale from clipping by norm and global norm (1 when neither is set).
  std::vector<double> clip_scales(const std::vector<Tensor>& grads) const;
  Tracked& slots_for(const Variable& v, bool& created);

  std::shared_ptr<Clock> clock_;
  OptimizerOptions options_;
  std::vector<std::string> slot_names_;
  double initial_slot_value_;
  std::shared_ptr<detail::DeviceStep> device_step_;  // capturable only, made on the first step
  std::vector<Tracked> tracked_;                     // in the order variables were first updated
  std::unordered_map<uint64_t, size_t> index_;       // Variable::id() -> position in tracked_
};

}  // namespace tenflowers::nn
