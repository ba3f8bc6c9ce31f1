// Elementwise one-input ops. Floating-point math on integer or bool inputs computes in f32;
// sign-like ops keep integer dtypes; floor, ceil and round leave integers as they are.
#include <string>

#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {

// Same shape and dtype, for numeric inputs (neg, abs, sign, square, relu).
void same_numeric(InferContext& ctx) {
  const DType dtype = ctx.inputs[0].dtype();
  TF_CHECK(dtype != DType::Bool, DTypeError, ctx.op.name,
           " is not defined for bool tensors; cast to a numeric dtype first");
  infer::same_as_input(ctx);
}

void same_shape_bool(InferContext& ctx) {
  ctx.add_output(DType::Bool, ctx.inputs[0].shape());
}

}  // namespace

void register_unary_ops(OpRegistry& r) {
  r.def("neg").infer(same_numeric).onnx("Neg");
  r.def("abs").infer(same_numeric).onnx("Abs");
  r.def("sign").infer(same_numeric).onnx("Sign");
  r.def("square").infer(same_numeric);
  r.def("relu").infer(same_numeric).onnx("Relu");
  r.def("floor").infer(infer::same_as_input).onnx("Floor");
  r.def("ceil").infer(infer::same_as_input).onnx("Ceil");
  r.def("round").infer(infer::same_as_input).onnx("Round");

  r.def("exp").infer(infer::same_shape_floating).onnx("Exp");
  r.def("expm1").infer(infer::same_shape_floating);
  r.def("log").infer(infer::same_shape_floating).onnx("Log");
  r.def("log1p").infer(infer::same_shape_floating);
  r.def("sqrt").infer(infer::same_shape_floating).onnx("Sqrt");
  r.def("rsqrt").infer(infer::same_shape_floating);
  r.def("reciprocal").infer(infer::same_shape_floating).onnx("Reciprocal");
  r.def("sin").infer(infer::same_shape_floating).onnx("Sin");
  r.def("cos").infer(infer::same_shape_floating).onnx("Cos");
  r.def("tan").infer(infer::same_shape_floating).onnx("Tan");
  r.def("tanh").infer(infer::same_shape_floating).onnx("Tanh");
  r.def("sigmoid").infer(infer::same_shape_floating).onnx("Sigmoid");
  r.def("erf").infer(infer::same_shape_floating).onnx("Erf");
  r.def("silu").infer(infer::same_shape_floating);
  // Attributes: negative_slope; alpha; tanh_approximation; beta and threshold.
  r.def("leaky_relu").infer(infer::same_shape_floating).onnx("LeakyRelu");
  r.def("elu").infer(infer::same_shape_floating).onnx("Elu");
  r.def("gelu").infer(infer::same_shape_floating).onnx("Gelu");
  r.def("softplus")
      .infer([](InferContext& ctx) {
        TF_CHECK(ctx.attrs.get_float("beta") != 0.0, InvalidArgument,
                 "softplus: beta must not be 0");
        infer::same_shape_floating(ctx);
      })
      .onnx("Softplus");

  r.def("logical_not").infer(same_shape_bool).not_differentiable().onnx("Not");
  r.def("isnan").infer(same_shape_bool).not_differentiable().onnx("IsNaN");
  r.def("isfinite").infer(same_shape_bool).not_differentiable();
}

}  // namespace tenflowers
