#include "tenflowers/nn/optimizer.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "src/nn/optimizers/device_step.hpp"
#include "src/nn/optimizers/validate.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

std::string describe(const Variable& v, size_t index) {
  if (v.name().empty()) return "variable " + std::to_string(index) + " (unnamed)";
  return "variable '" + v.name() + "'";
}

// L2 norm in float64 on the host; 16-bit gradients are summed in f32 so the norm cannot
// overflow their range.
double l2_norm(const Tensor& g) {
  const Tensor wide = g.dtype() == DType::F16 || g.dtype() == DType::BF16 ? g.cast(DType::F32) : g;
  return norm(wide).item<double>();
}

}  // namespace

LearningRate::LearningRate(double value) : value_(value) {
  detail::check_non_negative(value, "the learning rate");
}

LearningRate::LearningRate(std::shared_ptr<const LearningRateSchedule> schedule, int)
    : schedule_(std::move(schedule)) {
  TF_CHECK(schedule_, InvalidArgument, "the learning-rate schedule is null");
}

double LearningRate::at(int64_t step) const {
  return schedule_ ? (*schedule_)(step) : value_;
}

Optimizer::Optimizer(LearningRate learning_rate, OptimizerOptions options,
                     std::vector<std::string> slot_names, double initial_slot_value)
    : clock_(std::make_shared<Clock>(Clock{std::move(learning_rate)})),
      options_(options),
      slot_names_(std::move(slot_names)),
      initial_slot_value_(initial_slot_value) {
  detail::check_non_negative(options.weight_decay, "weight_decay");
  if (options.clip_value) detail::check_positive(*options.clip_value, "clip_value");
  if (options.clip_norm) detail::check_positive(*options.clip_norm, "clip_norm");
  if (options.global_clip_norm) {
    detail::check_positive(*options.global_clip_norm, "global_clip_norm");
  }
}

std::vector<double> Optimizer::clip_scales(const std::vector<Tensor>& grads) const {
  std::vector<double> scales(grads.size(), 1.0);
  if (!options_.clip_norm && !options_.global_clip_norm) return scales;
  double global_sq = 0.0;
  for (size_t i = 0; i < grads.size(); ++i) {
    const Tensor& g = grads[i];
    double n =
        l2_norm(options_.clip_value ? g.clamp(-*options_.clip_value, *options_.clip_value) : g);
    if (options_.clip_norm) {
      const double c = *options_.clip_norm;
      scales[i] = c / std::max(n, c);
      n *= scales[i];
    }
    global_sq += n * n;
  }
  if (options_.global_clip_norm) {
    const double c = *options_.global_clip_norm;
    const double global_scale = c / std::max(std::sqrt(global_sq), c);
    for (double& s : scales) s *= global_scale;
  }
  return scales;
}

Optimizer::Tracked& Optimizer::slots_for(const Variable& v, bool& created) {
  const auto it = index_.find(v.id());
  created = it == index_.end();
  if (!created) return tracked_[it->second];
  TF_CHECK(!capturing(v.device()), UnsupportedError, "variable '", v.name(),
           "' gets its first update during a CUDA graph capture, so every replay would reset its "
           "optimizer slots; run one step before capturing (warm-up)");
  Tracked t{v, {}};
  for (size_t k = 0; k < slot_names_.size(); ++k) {
    t.slots.push_back(full(v.shape(), initial_slot_value_, v.dtype(), v.device()));
  }
  index_.emplace(v.id(), tracked_.size());
  return tracked_.emplace_back(std::move(t));
}

void Optimizer::apply_gradients(std::span<const Tensor> grads, std::span<const Variable> vars) {
  TF_CHECK(grads.size() == vars.size(), InvalidArgument, "got ", grads.size(), " gradient(s) for ",
           vars.size(), " variable(s) (expected one gradient per variable)");
  HooksPaused paused;  // an update is not part of any differentiated computation
  std::set<uint64_t> seen;
  std::vector<Tensor> active_grads;
  std::vector<const Variable*> active_vars;
  for (size_t i = 0; i < vars.size(); ++i) {
    const Variable& v = vars[i];
    TF_CHECK(v.defined(), InvalidArgument, "variable ", i, " is undefined");
    const std::string what = describe(v, i);
    TF_CHECK(seen.insert(v.id()).second, InvalidArgument, what,
             " appears twice (expected each variable once per step)");
    const Tensor& g = grads[i];
    if (!g.defined()) continue;  // no gradient: the variable is not updated (torch, Keras)
    TF_CHECK(is_floating(v.dtype()), DTypeError, what, " has dtype ", dtype_name(v.dtype()),
             " (optimizers update floating variables)");
    TF_CHECK(is_floating(g.dtype()), DTypeError, "the gradient of ", what, " has dtype ",
             dtype_name(g.dtype()), " (expected a floating dtype)");
    if (g.shape() != v.shape()) {
      throw ShapeError("the gradient of " + what + " has shape " + format_dims(g.shape().vec()) +
                           " (expected the variable's shape " + format_dims(v.shape().vec()) + ")",
                       v.shape().vec(), g.shape().vec());
    }
    TF_CHECK(g.device() == v.device(), DeviceError, "the gradient of ", what, " is on ",
             g.device().str(), " but the variable is on ", v.device().str());
    active_grads.push_back(g.dtype() == v.dtype() ? g : g.cast(v.dtype()));
    active_vars.push_back(&v);
  }

  bool in_capture = device_step_ && capturing(device_step_->device());
  for (const Variable* v : active_vars) in_capture = in_capture || capturing(v->device());
  if (in_capture) {
    TF_CHECK(options_.capturable, UnsupportedError,
             "apply_gradients during a CUDA graph capture needs an optimizer made with "
             "common.capturable = true (otherwise every replay reuses this step's learning rate "
             "and bias corrections)");
    TF_CHECK(!options_.clip_norm && !options_.global_clip_norm, UnsupportedError,
             "clipping by norm during a CUDA graph capture (the norms are read on the host); "
             "clip by value, or clip outside the captured function");
  }
  const std::vector<double> scales = clip_scales(active_grads);
  const double clip_value = options_.clip_value.value_or(std::numeric_limits<double>::infinity());
  const double lr = learning_rate();
  const OpDef& op = update_op();
  // A capturable optimizer's device count advances even when every gradient is undefined.
  Tensor step_state;
  if (options_.capturable && (device_step_ || !active_vars.empty())) {
    const Device device = active_vars.empty() ? device_step_->device() : active_vars[0]->device();
    if (!device_step_) {
      const auto [beta1, beta2] = bias_correction_betas();
      device_step_ = std::make_shared<detail::DeviceStep>(device, clock_->iterations, beta1, beta2);
    }
    step_state = device_step_->advance(
        device, lr, [shared = clock_] { return shared->rate.at(shared->iterations++); });
  }
  for (size_t i = 0; i < active_vars.size(); ++i) {
    bool created = false;
    std::vector<Tensor> outputs{active_vars[i]->handle()};
    if (!slot_names_.empty()) {
      Tracked& t = slots_for(*active_vars[i], created);
      outputs.insert(outputs.end(), t.slots.begin(), t.slots.end());
    }
    std::vector<Tensor> inputs{outputs[0], active_grads[i]};
    inputs.insert(inputs.end(), outputs.begin() + 1, outputs.end());
    Attrs attrs{{"learning_rate", lr},
                {"weight_decay", options_.weight_decay},
                {"clip_value", clip_value},
                {"grad_scale", scales[i]}};
    const bool on_device = step_state.defined();
    add_update_attrs(attrs, Step{clock_->iterations + 1, lr, created, on_device});
    if (on_device) {
      attrs.set("step_on_device", true);
      inputs.push_back(step_state);
    }
    dispatch_into(op, inputs, attrs, outputs);
  }
  // A captured step is counted by each replay (the callback of DeviceStep::advance).
  if (!in_capture) ++clock_->iterations;
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::set<std::string> names;
  for (const Tracked& t : tracked_) {
    const std::string& name = t.variable.name();
    TF_CHECK(!name.empty(), InvalidArgument,
             "a variable with optimizer slots has an empty name (state() names slots "
             "'<variable name>/<slot>'; give every variable a unique name)");
    TF_CHECK(names.insert(name).second, InvalidArgument, "two variables with optimizer slots ",
             "are named '", name, "' (state() needs unique variable names)");
    for (size_t k = 0; k < slot_names_.size(); ++k) {
      out.emplace_back(name + "/" + slot_names_[k], t.slots[k]);
    }
  }
  out.emplace_back("iterations", Tensor::from_scalar<int64_t>(clock_->iterations));
  return out;
}

void Optimizer::load_state(std::span<const std::pair<std::string, Tensor>> named,
                           std::span<const Variable> vars) {
  std::vector<std::string> name_errors, shape_errors, dtype_errors;
  std::map<std::string, const Tensor*> entries;
  for (const auto& [name, value] : named) {
    if (!entries.emplace(name, &value).second) {
      name_errors.push_back("entry '" + name + "' appears twice");
    } else if (!value.defined()) {
      name_errors.push_back("entry '" + name + "' is an undefined tensor");
    }
  }
  const auto take = [&](const std::string& name) -> const Tensor* {
    auto it = entries.find(name);
    if (it == entries.end()) {
      name_errors.push_back("missing entry '" + name + "'");
      return nullptr;
    }
    const Tensor* t = it->second;
    entries.erase(it);
    return t->defined() ? t : nullptr;
  };

  int64_t iterations = 0;
  if (const Tensor* it = take("iterations")) {
    if (!is_integral(it->dtype()) || it->numel() != 1) {
      dtype_errors.push_back("'iterations' must be one integer, got " +
                             std::string(dtype_name(it->dtype())) + format_dims(it->shape().vec()));
    } else {
      iterations = it->item<int64_t>();
      if (iterations < 0) {
        name_errors.push_back("'iterations' is negative (" + std::to_string(iterations) + ")");
      }
    }
  }
  std::set<std::string> var_names;
  std::vector<std::vector<Tensor>> loaded(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    const Variable& v = vars[i];
    TF_CHECK(v.defined(), InvalidArgument, "variable ", i, " is undefined");
    if (slot_names_.empty()) continue;
    const std::string& name = v.name();
    TF_CHECK(!name.empty(), InvalidArgument, describe(v, i),
             " has an empty name (slots are restored by '<variable name>/<slot>')");
    TF_CHECK(var_names.insert(name).second, InvalidArgument, "two variables are named '", name,
             "' (slots are restored by variable name)");
    for (const std::string& slot : slot_names_) {
      const std::string key = name + "/" + slot;
      const Tensor* t = take(key);
      if (!t) continue;
      if (t->shape() != v.shape()) {
        shape_errors.push_back("'" + key + "' has shape " + format_dims(t->shape().vec()) +
                               ", expected " + format_dims(v.shape().vec()));
      }
      if (t->dtype() != v.dtype()) {
        dtype_errors.push_back("'" + key + "' has dtype " + std::string(dtype_name(t->dtype())) +
                               ", expected " + std::string(dtype_name(v.dtype())));
      }
      loaded[i].push_back(*t);
    }
  }
  for (const auto& [name, t] : entries) name_errors.push_back("unexpected entry '" + name + "'");

  std::string report;
  for (const auto* list : {&name_errors, &shape_errors, &dtype_errors}) {
    for (const std::string& e : *list) report += (report.empty() ? "" : "; ") + e;
  }
  if (!report.empty()) {
    report = "optimizer state does not match: " + report;
    if (!name_errors.empty()) throw InvalidArgument(report);
    if (!shape_errors.empty()) throw ShapeError(report);
    throw DTypeError(report);
  }

  HooksPaused paused;
  for (size_t i = 0; i < vars.size() && !slot_names_.empty(); ++i) {
    bool created = false;
    Tracked& t = slots_for(vars[i], created);
    for (size_t k = 0; k < slot_names_.size(); ++k) {
      t.slots[k] = loaded[i][k].to(vars[i].device()).copy();
    }
  }
  clock_->iterations = iterations;
  if (device_step_) device_step_->restart(iterations);
}

}  // namespace tenflowers::nn
