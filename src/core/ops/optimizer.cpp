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
#include <string>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

// Checks (param, grad, slots...) and makes one output per state tensor (param and slots).
void infer_update(InferContext& ctx, int64_t slots) {
  TF_CHECK(static_cast<int64_t>(ctx.inputs.size()) == 2 + slots, InvalidArgument,
           "expected param, grad and ", slots, " slot tensor(s) for these attributes (", 2 + slots,
           " inputs), got ", ctx.inputs.size(), " inputs");
  const Tensor& param = ctx.inputs[0];
  TF_CHECK(is_floating(param.dtype()), DTypeError, "param must be floating, got ",
           dtype_name(param.dtype()));
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
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
}

}  // namespace tenflowers
