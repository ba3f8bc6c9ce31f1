// copy (to contiguous), cast (between dtypes) and to_device (between devices).
#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

std::vector<Tensor> to_device(std::span<const Tensor> in, const Attrs& attrs) {
  const Device target = attrs.get_device("device");
  const Tensor src = in[0].contiguous();
  Tensor dst = Tensor::empty(src.shape(), src.dtype(), target);
  Backend& backend = target.is_cpu() ? backend_for(src.device()) : backend_for(target);
  if (src.nbytes() == 0) return {dst};
  // Only an opted-in copy from pinned memory may return before the device has read its source;
  // every other copy leaves the source free to change once it returns. A graph capture records
  // copies from snapshots of the source (a replay must not read a block freed since).
  PinnedMemory* pinned = target.is_cpu() ? nullptr : backend.pinned_memory();
  if (pinned && src.is_pinned() && attrs.get_bool_or("non_blocking", false) &&
      !backend.capturing(target.index)) {
    pinned->copy_to_device_async(dst.data_ptr(), target, *src.storage(), src.data_ptr(),
                                 src.nbytes());
  } else {
    backend.copy_bytes(dst.data_ptr(), target, src.data_ptr(), src.device(), src.nbytes());
  }
  return {dst};
}

}  // namespace

void register_copy_ops(OpRegistry& r) {
  r.def("copy")
      .infer(infer::same_as_input)
      .grad([](const GradContext& c) { return std::vector{c.output_grads[0]}; })
      .jvp([](const JvpContext& c) { return std::vector{c.input_tangents[0]}; })
      .onnx("Identity");
  r.def("cast")
      .infer([](InferContext& ctx) {
        ctx.add_output(ctx.attrs.get_dtype("dtype"), ctx.inputs[0].shape());
      })
      .grad([](const GradContext& c) {
        // Only a floating-point result carries a gradient back to a floating-point input.
        return std::vector{c.output_grads[0].cast(c.inputs[0].dtype())};
      })
      .jvp([](const JvpContext& c) {
        return std::vector{c.input_tangents[0].cast(c.outputs[0].dtype())};
      })
      .onnx("Cast");
  r.def("to_device")
      .direct(to_device)
      .grad([](const GradContext& c) {
        return std::vector{c.output_grads[0].to(c.inputs[0].device())};
      })
      .jvp([](const JvpContext& c) {
        return std::vector{c.input_tangents[0].to(c.outputs[0].device())};
      });
}

}  // namespace tenflowers
