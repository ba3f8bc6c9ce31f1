// Fused optimizer updates (torch.optim's formulas). Each op takes (param, grad, slots...) and
// makes (param, slots...) of the same dtype and shape; optimizers run it with dispatch_into on
// the variable and its slots, so one pass over the elements reads the gradient and the slots
// and writes the parameter and the slots in place. Every op first prepares the gradient:
//   g = clamp(grad, -clip_value, clip_value) * grad_scale + weight_decay * param
// (clip_value = inf disables clipping; grad_scale comes from clipping by norm on the host).
//
// sgd_update, slots [momentum] when momentum != 0:
//   b = initialize ? g : momentum * b + (1 - dampening) * g
//   param -= learning_rate * (nesterov ? g + momentum * b : b)     (no slot: param -= lr * g)
// adam_update, slots m, v [, v_max when amsgrad]:
//   param *= 1 - decoupled_weight_decay (AdamW passes lr * wd)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
//   v_max = max(v_max, v)  (amsgrad; v_hat = v_max, else v_hat = v)
//   param -= learning_rate / bias_correction1 * m / (sqrt(v_hat / bias_correction2) + epsilon)
// rmsprop_update, slots square_avg [, grad_avg when centered] [, momentum when momentum != 0]:
//   s = rho * s + (1 - rho) * g^2;  a = rho * a + (1 - rho) * g  (centered)
//   d = sqrt(centered ? s - a^2 : s) + epsilon
//   momentum: b = momentum * b + g / d, param -= learning_rate * b; else param -= lr * g / d
// adagrad_update, slot accumulator:
//   s += g^2;  param -= learning_rate * g / (sqrt(s) + epsilon)
//
// Capturable optimizers (a CUDA graph replays the kernels with the attributes they were recorded
// with) set `step_on_device` and pass one more input, last: the f64 step state {t,
// learning_rate, bias_correction1, bias_correction2} kept in device memory. The update then
// reads learning_rate and the bias corrections from it (their attributes are ignored) and
// decoupled_weight_decay is a rate multiplied by that learning rate. optimizer_step(state, lr)
// advances the state in place, on the device, once per optimizer step:
//   t += 1, learning_rate = lr, bias_correction1 = 1 - beta1^t, bias_correction2 = 1 - beta2^t
#include <string>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

// The step state input: f64 of shape [4] (rules::kStepStateSize).
void check_step_state(const Tensor& state, const std::string& what) {
  TF_CHECK(state.dtype() == DType::F64, DTypeError, what, " must be f64, got ",
           dtype_name(state.dtype()));
  const std::vector<int64_t> expected{4};
  if (state.shape().vec() != expected) {
    throw ShapeError(what + " has shape " + format_dims(state.shape().vec()) +
                         " (expected [4]: t, learning_rate, bias_correction1, bias_correction2)",
                     expected, state.shape().vec());
  }
}

// Checks (param, grad, slots... [, step state]) and makes one output per state tensor (param
// and slots).
void infer_update(InferContext& ctx, int64_t slots) {
  const bool step_on_device = ctx.attrs.get_bool_or("step_on_device", false);
  const int64_t expected = 2 + slots + (step_on_device ? 1 : 0);
  TF_CHECK(static_cast<int64_t>(ctx.inputs.size()) == expected, InvalidArgument,
           "expected param, grad, ", slots, " slot tensor(s)",
           step_on_device ? " and the step state" : "", " for these attributes (", expected,
           " inputs), got ", ctx.inputs.size(), " inputs");
  const Tensor& param = ctx.inputs[0];
  TF_CHECK(is_floating(param.dtype()), DTypeError, "param must be floating, got ",
           dtype_name(param.dtype()));
  if (step_on_device) check_step_state(ctx.inputs.back(), "the step state (last input)");
  for (size_t i = 1; i < static_cast<size_t>(2 + slots); ++i) {
    const std::string what = i == 1 ? "grad" : "slot " + std::to_string(i - 2);
    const Tensor& t = ctx.inputs[i];
    TF_CHECK(t.dtype() == param.dtype(), DTypeError, what, " has dtype ", dtype_name(t.dtype()),
             " but param has dtype ", dtype_name(param.dtype()), " (expected equal dtypes)");
    if (t.shape() != param.shape()) {
      throw ShapeError(what + " has shape " + format_dims(t.shape().vec()) + " but param has " +
                           format_dims(param.shape().vec()) + " (expected equal shapes)",
                       param.shape().vec(), t.shape().vec());
    }
  }
  for (int64_t i = 0; i <= slots; ++i) ctx.add_output(param.dtype(), param.shape());
}

int64_t sgd_slots(const Attrs& a) {
  return a.get_float("momentum") != 0.0 ? 1 : 0;
}
int64_t adam_slots(const Attrs& a) {
  return a.get_bool("amsgrad") ? 3 : 2;
}
int64_t rmsprop_slots(const Attrs& a) {
  return 1 + (a.get_bool("centered") ? 1 : 0) + (a.get_float("momentum") != 0.0 ? 1 : 0);
}
int64_t adagrad_slots(const Attrs&) {
  return 1;
}

}  // namespace

void register_optimizer_ops(OpRegistry& r) {
  const auto define = [&r](std::string name, int64_t (*slots)(const Attrs&)) {
    r.def(std::move(name))
        .variadic()
        .infer([slots](InferContext& ctx) { infer_update(ctx, slots(ctx.attrs)); })
        .not_differentiable();
  };
  define("sgd_update", sgd_slots);
  define("adam_update", adam_slots);
  define("rmsprop_update", rmsprop_slots);
  define("adagrad_update", adagrad_slots);
  r.def("optimizer_step")
      .inputs(2)
      .infer([](InferContext& ctx) {
        check_step_state(ctx.inputs[0], "the step state");
        const Tensor& lr = ctx.inputs[1];
        TF_CHECK(lr.dtype() == DType::F64 && lr.numel() == 1, InvalidArgument,
                 "the learning rate must be one f64 element, got ", dtype_name(lr.dtype()),
                 format_dims(lr.shape().vec()));
        ctx.add_output(DType::F64, ctx.inputs[0].shape());
      })
      .not_differentiable();
}

}  // namespace tenflowers
