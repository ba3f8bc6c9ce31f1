// Elementwise ops of two or three inputs: NumPy broadcasting and type promotion (dtype.hpp).
// Arithmetic keeps the promoted dtype (integers wrap around); true division and atan2 compute
// in f32 for integer inputs; comparisons and logical ops give bool.
#include <cmath>
#include <string>

#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {

// Promoted arithmetic that has no meaning for bool (sub, mod, pow).
void broadcast_promote_numeric(InferContext& ctx) {
  infer::broadcast_promote(ctx);
  TF_CHECK(ctx.outputs[0].dtype != DType::Bool, DTypeError, ctx.op.name,
           " is not defined for bool tensors; use logical ops or cast to a numeric dtype");
}

void broadcast_floating(InferContext& ctx) {
  infer::broadcast_promote(ctx);
  ctx.outputs[0].dtype = to_floating(ctx.outputs[0].dtype);
}

// where(condition, a, b): the condition is read as truthy (any dtype), the values promote.
void where_rule(InferContext& ctx) {
  Dims shape = broadcast_shapes(ctx.inputs[0].shape(), ctx.inputs[1].shape());
  shape = broadcast_shapes(shape, ctx.inputs[2].shape());
  ctx.add_output(promote_types(ctx.inputs[1].dtype(), ctx.inputs[2].dtype()), std::move(shape));
}

// The dtype of clamp(x, min, max) with scalar bounds: x's dtype unless a bound has a
// fractional part and x holds integers (then f32), as scalar_like pairs a value with x.
DType clamp_result_dtype(DType x, const Attrs& attrs) {
  if (is_floating(x)) return x;
  for (const char* name : {"min", "max"}) {
    if (!attrs.has(name)) continue;
    const double bound = attrs.get_float(name);
    if (x == DType::Bool || !std::isfinite(bound) || bound != std::trunc(bound)) return DType::F32;
  }
  return x;
}

}  // namespace

void register_binary_ops(OpRegistry& r) {
  r.def("add").inputs(2).infer(infer::broadcast_promote).onnx("Add");
  r.def("sub").inputs(2).infer(broadcast_promote_numeric).onnx("Sub");
  r.def("mul").inputs(2).infer(infer::broadcast_promote).onnx("Mul");
  r.def("div").inputs(2).infer(broadcast_floating).onnx("Div");
  r.def("pow").inputs(2).infer(broadcast_promote_numeric).onnx("Pow");
  r.def("maximum").inputs(2).infer(infer::broadcast_promote).onnx("Max");
  r.def("minimum").inputs(2).infer(infer::broadcast_promote).onnx("Min");
  r.def("mod").inputs(2).infer(broadcast_promote_numeric).onnx("Mod");
  r.def("atan2").inputs(2).infer(broadcast_floating);

  r.def("eq").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Equal");
  r.def("ne").inputs(2).infer(infer::broadcast_bool).not_differentiable();
  r.def("lt").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Less");
  r.def("le").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("LessOrEqual");
  r.def("gt").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Greater");
  r.def("ge").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("GreaterOrEqual");
  r.def("logical_and").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("And");
  r.def("logical_or").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Or");
  r.def("logical_xor").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Xor");

  r.def("where").inputs(3).infer(where_rule).onnx("Where");
  // Attributes min and max (each optional, at least one): min(max(x, min), max).
  r.def("clamp")
      .infer([](InferContext& ctx) {
        TF_CHECK(ctx.attrs.has("min") || ctx.attrs.has("max"), InvalidArgument,
                 "clamp: expected a min or a max bound, got neither");
        ctx.add_output(clamp_result_dtype(ctx.inputs[0].dtype(), ctx.attrs), ctx.inputs[0].shape());
      })
      .onnx("Clip");
}

}  // namespace tenflowers
