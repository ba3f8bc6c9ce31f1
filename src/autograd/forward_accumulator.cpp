#include "tenflowers/autograd/forward_accumulator.hpp"

#include "tenflowers/core/ops.hpp"

namespace tenflowers {

ForwardAccumulator::ForwardAccumulator(const std::vector<Tensor>& primals,
                                       const std::vector<Tensor>& tangents) {
  TF_CHECK(primals.size() == tangents.size(), InvalidArgument,
           "ForwardAccumulator: ", primals.size(), " primals but ", tangents.size(), " tangents");
  for (size_t i = 0; i < primals.size(); ++i) {
    TF_CHECK(primals[i].defined() && tangents[i].defined(), InvalidArgument,
             "ForwardAccumulator: primal or tangent ", i, " is undefined");
    TF_CHECK(is_floating(primals[i].dtype()), DTypeError, "ForwardAccumulator: primal ", i,
             " has dtype ", dtype_name(primals[i].dtype()),
             "; only floating-point tensors have tangents");
    if (tangents[i].shape() != primals[i].shape()) {
      throw ShapeError(
          "ForwardAccumulator: tangent " + std::to_string(i) + " must have its primal's shape",
          primals[i].shape().vec(), tangents[i].shape().vec());
    }
    tangents_[primals[i].id()] = tangents[i].cast(primals[i].dtype());
  }
  hook_ = std::make_unique<ScopedHook>(this);
}

ForwardAccumulator::~ForwardAccumulator() = default;

Tensor ForwardAccumulator::jvp(const Tensor& t, Unconnected unconnected) const {
  TF_CHECK(t.defined(), InvalidArgument, "jvp: the tensor is undefined");
  auto it = tangents_.find(t.id());
  if (it != tangents_.end()) return it->second;
  return unconnected == Unconnected::Zero ? zeros_like(t) : Tensor();
}

void ForwardAccumulator::on_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                               std::span<const Tensor> outputs) {
  if (op.stops_gradient) return;
  std::vector<Tensor> in_tangents(inputs.size());
  bool any = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = tangents_.find(inputs[i].id());
    if (it != tangents_.end()) {
      in_tangents[i] = it->second;
      any = true;
    }
  }
  if (!any || !op.differentiable) return;
  TF_CHECK(static_cast<bool>(op.jvp), UnsupportedError, "op '", op.name,
           "' has no forward-mode rule");
  JvpContext ctx{op, inputs, outputs, in_tangents, attrs};
  std::vector<Tensor> out_tangents = op.jvp(ctx);
  TF_CHECK(out_tangents.size() == outputs.size(), InternalError, "the forward-mode rule of '",
           op.name, "' returned ", out_tangents.size(), " tangents for ", outputs.size(),
           " outputs");
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!out_tangents[k].defined() || !is_floating(outputs[k].dtype())) continue;
    TF_CHECK(out_tangents[k].shape() == outputs[k].shape(), InternalError,
             "the forward-mode rule of '", op.name, "' gave output ", k, " a tangent of shape ",
             out_tangents[k].shape(), ", expected ", outputs[k].shape());
    tangents_[outputs[k].id()] = out_tangents[k].cast(outputs[k].dtype());
  }
}

}  // namespace tenflowers
