#include "src/core/api/op_call.hpp"
#include "src/nn/optimizers/validate.hpp"
#include "tenflowers/nn/optimizers.hpp"

namespace tenflowers::nn {
namespace {

std::vector<std::string> sgd_slots(const SGDOptions& o) {
  detail::check_non_negative(o.momentum, "SGD momentum");
  detail::check_range(o.dampening, 0.0, 1.0, true, "SGD dampening");
  TF_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0), InvalidArgument,
           "Nesterov momentum needs momentum > 0 and dampening = 0, got momentum ", o.momentum,
           " and dampening ", o.dampening);
  if (o.momentum == 0.0) return {};
  return {"momentum"};
}

}  // namespace

SGD::SGD(SGDOptions options)
    : Optimizer(options.learning_rate, options.common, sgd_slots(options)), options_(options) {}

const OpDef& SGD::update_op() const {
  return TF_OP("sgd_update");
}

void SGD::add_update_attrs(Attrs& attrs, const Step& step) const {
  attrs.set("momentum", options_.momentum)
      .set("dampening", options_.dampening)
      .set("nesterov", options_.nesterov)
      .set("initialize", step.new_slots);
}

}  // namespace tenflowers::nn
