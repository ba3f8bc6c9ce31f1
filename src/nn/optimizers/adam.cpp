#include <cmath>

#include "src/core/api/op_call.hpp"
#include "src/nn/optimizers/validate.hpp"
#include "tenflowers/nn/optimizers.hpp"

namespace tenflowers::nn {
namespace {

std::vector<std::string> adam_slots(const AdamOptions& o) {
  detail::check_range(o.beta1, 0.0, 1.0, false, "Adam beta1");
  detail::check_range(o.beta2, 0.0, 1.0, false, "Adam beta2");
  detail::check_non_negative(o.epsilon, "Adam epsilon");
  if (o.amsgrad) return {"m", "v", "v_max"};
  return {"m", "v"};
}

AdamOptions as_adam(const AdamWOptions& o) {
  return {o.learning_rate, o.beta1, o.beta2, o.epsilon, o.amsgrad, o.common};
}

}  // namespace

Adam::Adam(AdamOptions options) : Adam(std::move(options), false) {}

Adam::Adam(AdamOptions options, bool decoupled_weight_decay)
    : Optimizer(options.learning_rate, options.common, adam_slots(options)),
      options_(std::move(options)),
      decoupled_(decoupled_weight_decay) {}

const OpDef& Adam::update_op() const {
  return TF_OP("adam_update");
}

void Adam::add_update_attrs(Attrs& attrs, const Step& step) const {
  const double t = static_cast<double>(step.count);
  const double decay = options_.common.weight_decay;
  attrs.set("beta1", options_.beta1)
      .set("beta2", options_.beta2)
      .set("epsilon", options_.epsilon)
      .set("amsgrad", options_.amsgrad)
      .set("bias_correction1", 1.0 - std::pow(options_.beta1, t))
      .set("bias_correction2", 1.0 - std::pow(options_.beta2, t))
      .set("weight_decay", decoupled_ ? 0.0 : decay)
      .set("decoupled_weight_decay",
           decoupled_ ? (step.on_device ? decay : step.learning_rate * decay) : 0.0);
}

std::pair<double, double> Adam::bias_correction_betas() const {
  return {options_.beta1, options_.beta2};
}

AdamW::AdamW(AdamWOptions options) : Adam(as_adam(options), true) {}

}  // namespace tenflowers::nn
