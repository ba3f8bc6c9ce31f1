#include "src/core/api/op_call.hpp"
#include "src/nn/optimizers/validate.hpp"
#include "tenflowers/nn/optimizers.hpp"

namespace tenflowers::nn {
namespace {

std::vector<std::string> rmsprop_slots(const RMSpropOptions& o) {
  detail::check_range(o.rho, 0.0, 1.0, false, "RMSprop rho");
  detail::check_non_negative(o.epsilon, "RMSprop epsilon");
  detail::check_non_negative(o.momentum, "RMSprop momentum");
  std::vector<std::string> slots{"square_avg"};
  if (o.centered) slots.emplace_back("grad_avg");
  if (o.momentum != 0.0) slots.emplace_back("momentum");
  return slots;
}

}  // namespace

RMSprop::RMSprop(RMSpropOptions options)
    : Optimizer(options.learning_rate, options.common, rmsprop_slots(options)),
      options_(std::move(options)) {}

const OpDef& RMSprop::update_op() const {
  return TF_OP("rmsprop_update");
}

void RMSprop::add_update_attrs(Attrs& attrs, const Step&) const {
  attrs.set("rho", options_.rho)
      .set("epsilon", options_.epsilon)
      .set("momentum", options_.momentum)
      .set("centered", options_.centered);
}

}  // namespace tenflowers::nn
