#include "src/core/api/op_call.hpp"
#include "src/nn/optimizers/validate.hpp"
#include "tenflowers/nn/optimizers.hpp"

namespace tenflowers::nn {
namespace {

std::vector<std::string> adagrad_slots(const AdagradOptions& o) {
  detail::check_non_negative(o.initial_accumulator_value, "Adagrad initial_accumulator_value");
  detail::check_non_negative(o.epsilon, "Adagrad epsilon");
  return {"accumulator"};
}

}  // namespace

Adagrad::Adagrad(AdagradOptions options)
    : Optimizer(options.learning_rate, options.common, adagrad_slots(options),
                options.initial_accumulator_value),
      options_(std::move(options)) {}

const OpDef& Adagrad::update_op() const {
  return TF_OP("adagrad_update");
}

void Adagrad::add_update_attrs(Attrs& attrs, const Step&) const {
  attrs.set("epsilon", options_.epsilon);
}

}  // namespace tenflowers::nn
