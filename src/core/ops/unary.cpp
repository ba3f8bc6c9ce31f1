// Elementwise one-input ops. Floating-point math on integer or bool inputs computes in f32;
// sign-like ops keep integer dtypes; floor, ceil and round leave integers as they are.
//
// Their Jacobians are diagonal, so one function per op applies it to a cotangent (reverse mode)
// or a tangent (forward mode) alike: J g = f'(x) * g, written in tensor ops so higher orders come
// free.
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "src/core/ops/derivatives.hpp"
#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

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

// f'(x) * g for an op with input x and output y; g has the shape of both.
using ApplyDerivative = Tensor (*)(const Tensor& g, const Tensor& x, const Tensor& y,
                                   const Attrs& attrs);

// Gives the op its gradient and forward-mode rules from f'. Integer and bool inputs carry no
// gradient; an undefined output gradient or input tangent means zero, so nothing flows.
OpBuilder& elementwise_derivative(OpBuilder& def, ApplyDerivative apply) {
  return def
      .grad([apply](const GradContext& c) {
        const Tensor& x = c.inputs[0];
        const Tensor& g = c.output_grads[0];
        if (!c.needs_input_grad[0] || !is_floating(x.dtype()) || !g.defined()) {
          return std::vector<Tensor>(1);
        }
        return std::vector{apply(g, x, c.outputs[0], c.attrs)};
      })
      .jvp([apply](const JvpContext& c) {
        const Tensor& x = c.inputs[0];
        const Tensor& t = c.input_tangents[0];
        if (!is_floating(x.dtype()) || !t.defined()) return std::vector<Tensor>(1);
        return std::vector{apply(t, x, c.outputs[0], c.attrs)};
      });
}

// Piecewise-constant ops (sign, floor, ceil, round): zero almost everywhere, as PyTorch.
Tensor zero_derivative(const Tensor& g, const Tensor&, const Tensor&, const Attrs&) {
  return zeros_like(g);
}

// d/dx 0.5 x (1 + erf(x / sqrt 2)) = Phi(x) + x phi(x).
Tensor gelu_derivative(const Tensor& x) {
  const double inv_sqrt_2pi = 0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2;
  const Tensor cdf = 0.5 * (1.0 + erf(x * (1.0 / std::numbers::sqrt2)));
  return cdf + x * (inv_sqrt_2pi * exp(-0.5 * square(x)));
}

// d/dx 0.5 x (1 + tanh(u)), u = k (x + c x^3): 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2).
Tensor gelu_tanh_derivative(const Tensor& x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  const double c = 0.044715;
  const Tensor x2 = square(x);
  const Tensor t = tanh(k * (x + c * x * x2));
  return 0.5 * (1.0 + t) + (0.5 * k) * x * (1.0 - square(t)) * (1.0 + (3.0 * c) * x2);
}

}  // namespace

void register_unary_ops(OpRegistry& r) {
  using X = const Tensor&;
  using A = const Attrs&;
  elementwise_derivative(r.def("neg").infer(same_numeric), [](X g, X, X, A) {
    return neg(g);
  }).onnx("Neg");
  elementwise_derivative(r.def("abs").infer(same_numeric), [](X g, X x, X, A) {
    return g * sign(x);
  }).onnx("Abs");
  elementwise_derivative(r.def("sign").infer(same_numeric), zero_derivative).onnx("Sign");
  elementwise_derivative(r.def("square").infer(same_numeric),
                         [](X g, X x, X, A) { return g * (2.0 * x); });
  elementwise_derivative(r.def("relu").infer(same_numeric), [](X g, X x, X, A) {
    return relu_grad_of(x, g);
  }).onnx("Relu");
  elementwise_derivative(r.def("floor").infer(infer::same_as_input), zero_derivative).onnx("Floor");
  elementwise_derivative(r.def("ceil").infer(infer::same_as_input), zero_derivative).onnx("Ceil");
  elementwise_derivative(r.def("round").infer(infer::same_as_input), zero_derivative).onnx("Round");

  elementwise_derivative(r.def("exp").infer(infer::same_shape_floating), [](X g, X, X y, A) {
    return g * y;
  }).onnx("Exp");
  elementwise_derivative(r.def("expm1").infer(infer::same_shape_floating),
                         [](X g, X, X y, A) { return g * (y + 1.0); });
  elementwise_derivative(r.def("log").infer(infer::same_shape_floating), [](X g, X x, X, A) {
    return g / x;
  }).onnx("Log");
  elementwise_derivative(r.def("log1p").infer(infer::same_shape_floating),
                         [](X g, X x, X, A) { return g / (x + 1.0); });
  elementwise_derivative(r.def("sqrt").infer(infer::same_shape_floating), [](X g, X, X y, A) {
    return g / (2.0 * y);
  }).onnx("Sqrt");
  // d/dx x^-1/2 = -x^-3/2 / 2 = -y / (2 x).
  elementwise_derivative(r.def("rsqrt").infer(infer::same_shape_floating),
                         [](X g, X x, X y, A) { return g * (y / (-2.0 * x)); });
  elementwise_derivative(r.def("reciprocal").infer(infer::same_shape_floating), [](X g, X, X y, A) {
    return -(g * square(y));
  }).onnx("Reciprocal");
  elementwise_derivative(r.def("sin").infer(infer::same_shape_floating), [](X g, X x, X, A) {
    return g * cos(x);
  }).onnx("Sin");
  elementwise_derivative(r.def("cos").infer(infer::same_shape_floating), [](X g, X x, X, A) {
    return -(g * sin(x));
  }).onnx("Cos");
  elementwise_derivative(r.def("tan").infer(infer::same_shape_floating), [](X g, X, X y, A) {
    return g * (1.0 + square(y));
  }).onnx("Tan");
  elementwise_derivative(r.def("tanh").infer(infer::same_shape_floating), [](X g, X, X y, A) {
    return g * (1.0 - square(y));
  }).onnx("Tanh");
  elementwise_derivative(r.def("sigmoid").infer(infer::same_shape_floating), [](X g, X, X y, A) {
    return g * (y * (1.0 - y));
  }).onnx("Sigmoid");
  elementwise_derivative(r.def("erf").infer(infer::same_shape_floating), [](X g, X x, X, A) {
    return g * (2.0 * std::numbers::inv_sqrtpi * exp(-square(x)));
  }).onnx("Erf");
  // silu' = s + x s (1 - s) = s + y (1 - s), with s = sigmoid(x).
  elementwise_derivative(r.def("silu").infer(infer::same_shape_floating), [](X g, X x, X y, A) {
    const Tensor s = sigmoid(x);
    return g * (s + y * (1.0 - s));
  });
  // Attributes: negative_slope; alpha; tanh_approximation; beta and threshold.
  elementwise_derivative(r.def("leaky_relu").infer(infer::same_shape_floating), [](X g, X x, X,
                                                                                   A attrs) {
    return where(x < scalar_like(x, 0.0), g * attrs.get_float("negative_slope"), g);
  }).onnx("LeakyRelu");
  // Below 0, elu = alpha (e^x - 1), whose derivative alpha e^x is y + alpha.
  elementwise_derivative(r.def("elu").infer(infer::same_shape_floating), [](X g, X x, X y,
                                                                            A attrs) {
    return where(x > scalar_like(x, 0.0), g, g * (y + attrs.get_float("alpha")));
  }).onnx("Elu");
  elementwise_derivative(r.def("gelu").infer(infer::same_shape_floating), [](X g, X x, X, A attrs) {
    return g *
           (attrs.get_bool("tanh_approximation") ? gelu_tanh_derivative(x) : gelu_derivative(x));
  }).onnx("Gelu");
  // log(1 + e^(beta x)) / beta has derivative sigmoid(beta x); linear above the threshold.
  elementwise_derivative(r.def("softplus").infer([](InferContext& ctx) {
    TF_CHECK(ctx.attrs.get_float("beta") != 0.0, InvalidArgument, "softplus: beta must not be 0");
    infer::same_shape_floating(ctx);
  }),
                         [](X g, X x, X, A attrs) {
                           const Tensor bx = x * attrs.get_float("beta");
                           return where(bx > scalar_like(x, attrs.get_float("threshold")), g,
                                        g * sigmoid(bx));
                         })
      .onnx("Softplus");

  r.def("logical_not").infer(same_shape_bool).not_differentiable().onnx("Not");
  r.def("isnan").infer(same_shape_bool).not_differentiable().onnx("IsNaN");
  r.def("isfinite").infer(same_shape_bool).not_differentiable();
}

}  // namespace tenflowers
