// Elementwise ops of two or three inputs: NumPy broadcasting and type promotion (dtype.hpp).
// Arithmetic keeps the promoted dtype (integers wrap around); true division and atan2 compute
// in f32 for integer inputs; comparisons and logical ops give bool.
#include <cmath>
#include <string>

#include "src/core/api/op_call.hpp"
#include "src/core/ops/derivatives.hpp"
#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

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

// ---- gradient and forward-mode rules, written in tensor ops so higher orders come free -------

bool wants_grad(const GradContext& c, size_t input) {
  return c.needs_input_grad[input] && is_floating(c.inputs[input].dtype());
}

Tensor zero_like(const Tensor& t) {
  return scalar_like(t, 0.0);
}

// Gradients of a two-input op: each partial maps the output gradient (of the output's shape) to
// the input's contribution, then broadcasting is undone with sum_to.
template <class PartialA, class PartialB>
std::vector<Tensor> binary_grads(const GradContext& c, PartialA partial_a, PartialB partial_b) {
  std::vector<Tensor> grads(2);
  const Tensor& g = c.output_grads[0];
  if (!g.defined()) return grads;
  if (wants_grad(c, 0)) grads[0] = sum_to(partial_a(g), c.inputs[0].shape());
  if (wants_grad(c, 1)) grads[1] = sum_to(partial_b(g), c.inputs[1].shape());
  return grads;
}

// The output tangent as the sum of each input's contribution (undefined tangents are zero),
// broadcast to the output's shape.
Tensor sum_of_tangents(const JvpContext& c, Tensor first, const Tensor& second) {
  if (!first.defined())
    first = second;
  else if (second.defined())
    first = first + second;
  const Dims& shape = c.outputs[0].shape();
  return first.defined() && first.shape() != shape ? first.expand(shape) : first;
}

template <class PartialA, class PartialB>
std::vector<Tensor> binary_jvp(const JvpContext& c, PartialA partial_a, PartialB partial_b) {
  const Tensor& ta = c.input_tangents[0];
  const Tensor& tb = c.input_tangents[1];
  return {sum_of_tangents(c, ta.defined() ? partial_a(ta) : Tensor(),
                          tb.defined() ? partial_b(tb) : Tensor())};
}

// d maximum / d a: 1 where a wins, 0 where b wins, 1/2 on ties (the gradient is split evenly,
// as PyTorch does); d / d b is 1 minus it. Minimum swaps the comparisons.
Tensor winner_weight(const Tensor& a, const Tensor& b, bool larger, DType dtype) {
  const Tensor strict = larger ? gt(a, b) : lt(a, b);
  const Tensor loose = larger ? ge(a, b) : le(a, b);
  return (strict.cast(dtype) + loose.cast(dtype)) * 0.5;
}

void def_extremum_rules(OpBuilder def, bool larger) {
  def.grad([larger](const GradContext& c) {
       const Tensor w = winner_weight(c.inputs[0], c.inputs[1], larger, c.outputs[0].dtype());
       return binary_grads(
           c, [&](const Tensor& g) { return g * w; }, [&](const Tensor& g) { return g - g * w; });
     })
      .jvp([larger](const JvpContext& c) {
        const Tensor w = winner_weight(c.inputs[0], c.inputs[1], larger, c.outputs[0].dtype());
        return binary_jvp(
            c, [&](const Tensor& t) { return t * w; }, [&](const Tensor& t) { return t - t * w; });
      });
}

// d pow(a, b) / d a = b a^(b-1), taken as 0 where b = 0 (so 0^0 has a finite slope).
Tensor pow_base_slope(const Tensor& a, const Tensor& b) {
  return where(eq(b, zero_like(b)), zero_like(a), b * pow(a, b - 1.0));
}

// d pow(a, b) / d b = a^b log(a), taken as 0 where a = 0 (the limit for b > 0); log reads 1 there
// so that no infinity leaks into higher derivatives.
Tensor pow_exponent_slope(const Tensor& a, const Tensor& out) {
  const Tensor a_is_zero = eq(a, zero_like(a));
  return out * log(where(a_is_zero, scalar_like(a, 1.0), a));
}

// Where clamp(x, min, max) passes x through (bounds inclusive, as PyTorch).
Tensor clamp_passes(const Tensor& x, const Attrs& attrs) {
  Tensor inside;
  if (attrs.has("min")) inside = ge(x, scalar_like(x, attrs.get_float("min")));
  if (attrs.has("max")) {
    const Tensor below_max = le(x, scalar_like(x, attrs.get_float("max")));
    inside = inside.defined() ? logical_and(inside, below_max) : below_max;
  }
  return inside;
}

}  // namespace

Tensor relu_grad_of(const Tensor& x, const Tensor& g) {
  return dispatch1(TF_OP("relu_grad"), {x, g});
}

Tensor add_defined(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}

void register_binary_ops(OpRegistry& r) {
  r.def("add")
      .inputs(2)
      .infer(infer::broadcast_promote)
      .grad([](const GradContext& c) {
        auto pass = [](const Tensor& g) { return g; };
        return binary_grads(c, pass, pass);
      })
      .jvp([](const JvpContext& c) {
        return std::vector{sum_of_tangents(c, c.input_tangents[0], c.input_tangents[1])};
      })
      .onnx("Add");
  r.def("sub")
      .inputs(2)
      .infer(broadcast_promote_numeric)
      .grad([](const GradContext& c) {
        return binary_grads(
            c, [](const Tensor& g) { return g; }, [](const Tensor& g) { return neg(g); });
      })
      .jvp([](const JvpContext& c) {
        return binary_jvp(
            c, [](const Tensor& t) { return t; }, [](const Tensor& t) { return neg(t); });
      })
      .onnx("Sub");
  r.def("mul")
      .inputs(2)
      .infer(infer::broadcast_promote)
      .grad([](const GradContext& c) {
        const Tensor &a = c.inputs[0], &b = c.inputs[1];
        return binary_grads(
            c, [&](const Tensor& g) { return g * b; }, [&](const Tensor& g) { return g * a; });
      })
      .jvp([](const JvpContext& c) {
        const Tensor &a = c.inputs[0], &b = c.inputs[1];
        return binary_jvp(
            c, [&](const Tensor& t) { return t * b; }, [&](const Tensor& t) { return a * t; });
      })
      .onnx("Mul");
  // d(a/b)/db = -out/b reuses the quotient.
  r.def("div")
      .inputs(2)
      .infer(broadcast_floating)
      .grad([](const GradContext& c) {
        const Tensor &b = c.inputs[1], &out = c.outputs[0];
        return binary_grads(
            c, [&](const Tensor& g) { return g / b; },
            [&](const Tensor& g) { return neg(g * out / b); });
      })
      .jvp([](const JvpContext& c) {
        const Tensor &b = c.inputs[1], &out = c.outputs[0];
        return binary_jvp(
            c, [&](const Tensor& t) { return t / b; },
            [&](const Tensor& t) { return neg(t * out / b); });
      })
      .onnx("Div");
  r.def("pow")
      .inputs(2)
      .infer(broadcast_promote_numeric)
      .grad([](const GradContext& c) {
        const Tensor &a = c.inputs[0], &b = c.inputs[1], &out = c.outputs[0];
        return binary_grads(
            c, [&](const Tensor& g) { return g * pow_base_slope(a, b); },
            [&](const Tensor& g) { return g * pow_exponent_slope(a, out); });
      })
      .jvp([](const JvpContext& c) {
        const Tensor &a = c.inputs[0], &b = c.inputs[1], &out = c.outputs[0];
        return binary_jvp(
            c, [&](const Tensor& t) { return t * pow_base_slope(a, b); },
            [&](const Tensor& t) { return t * pow_exponent_slope(a, out); });
      })
      .onnx("Pow");
  def_extremum_rules(r.def("maximum").inputs(2).infer(infer::broadcast_promote).onnx("Max"),
                     /*larger=*/true);
  def_extremum_rules(r.def("minimum").inputs(2).infer(infer::broadcast_promote).onnx("Min"),
                     /*larger=*/false);
  // mod(a, b) = a - floor(a / b) b: slopes 1 and -floor(a / b) away from the jumps.
  r.def("mod")
      .inputs(2)
      .infer(broadcast_promote_numeric)
      .grad([](const GradContext& c) {
        const Tensor &a = c.inputs[0], &b = c.inputs[1];
        return binary_grads(
            c, [](const Tensor& g) { return g; },
            [&](const Tensor& g) { return neg(g * floor(a / b)); });
      })
      .jvp([](const JvpContext& c) {
        const Tensor &a = c.inputs[0], &b = c.inputs[1];
        return binary_jvp(
            c, [](const Tensor& t) { return t; },
            [&](const Tensor& t) { return neg(t * floor(a / b)); });
      })
      .onnx("Mod");
  // relu_grad(x, g) = g where x > 0, else 0: ReLU's gradient in one pass. Linear in g; in x it
  // is piecewise constant, so its slope there is zero almost everywhere.
  r.def("relu_grad")
      .inputs(2)
      .infer(broadcast_floating)
      .grad([](const GradContext& c) {
        const Tensor& x = c.inputs[0];
        return binary_grads(
            c, [](const Tensor& g) { return zeros_like(g); },
            [&](const Tensor& g) { return relu_grad_of(x, g); });
      })
      .jvp([](const JvpContext& c) {
        const Tensor& x = c.inputs[0];
        return binary_jvp(
            c, [](const Tensor&) { return Tensor(); },
            [&](const Tensor& t) { return relu_grad_of(x, t); });
      });
  // atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2).
  r.def("atan2")
      .inputs(2)
      .infer(broadcast_floating)
      .grad([](const GradContext& c) {
        const Tensor &y = c.inputs[0], &x = c.inputs[1];
        const Tensor radius2 = x * x + y * y;
        return binary_grads(
            c, [&](const Tensor& g) { return g * x / radius2; },
            [&](const Tensor& g) { return neg(g * y / radius2); });
      })
      .jvp([](const JvpContext& c) {
        const Tensor &y = c.inputs[0], &x = c.inputs[1];
        const Tensor radius2 = x * x + y * y;
        return binary_jvp(
            c, [&](const Tensor& t) { return t * x / radius2; },
            [&](const Tensor& t) { return neg(t * y / radius2); });
      });

  r.def("eq").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Equal");
  r.def("ne").inputs(2).infer(infer::broadcast_bool).not_differentiable();
  r.def("lt").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Less");
  r.def("le").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("LessOrEqual");
  r.def("gt").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Greater");
  r.def("ge").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("GreaterOrEqual");
  r.def("logical_and").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("And");
  r.def("logical_or").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Or");
  r.def("logical_xor").inputs(2).infer(infer::broadcast_bool).not_differentiable().onnx("Xor");

  // The condition gets no gradient; a gets it where the condition holds, b elsewhere.
  r.def("where")
      .inputs(3)
      .infer(where_rule)
      .grad([](const GradContext& c) {
        std::vector<Tensor> grads(3);
        const Tensor &condition = c.inputs[0], &g = c.output_grads[0];
        if (!g.defined()) return grads;
        if (wants_grad(c, 1)) {
          grads[1] = sum_to(where(condition, g, zero_like(g)), c.inputs[1].shape());
        }
        if (wants_grad(c, 2)) {
          grads[2] = sum_to(where(condition, zero_like(g), g), c.inputs[2].shape());
        }
        return grads;
      })
      .jvp([](const JvpContext& c) {
        const Tensor &condition = c.inputs[0], &ta = c.input_tangents[1], &tb = c.input_tangents[2];
        if (!ta.defined() && !tb.defined()) return std::vector<Tensor>{Tensor()};
        const Tensor& like = ta.defined() ? ta : tb;
        return std::vector{sum_of_tangents(c,
                                           where(condition, ta.defined() ? ta : zero_like(like),
                                                 tb.defined() ? tb : zero_like(like)),
                                           Tensor())};
      })
      .onnx("Where");
  // Attributes min and max (each optional, at least one): min(max(x, min), max).
  r.def("clamp")
      .infer([](InferContext& ctx) {
        TF_CHECK(ctx.attrs.has("min") || ctx.attrs.has("max"), InvalidArgument,
                 "clamp: expected a min or a max bound, got neither");
        ctx.add_output(clamp_result_dtype(ctx.inputs[0].dtype(), ctx.attrs), ctx.inputs[0].shape());
      })
      .grad([](const GradContext& c) {
        const Tensor& g = c.output_grads[0];
        if (!g.defined() || !wants_grad(c, 0)) return std::vector{Tensor()};
        return std::vector{where(clamp_passes(c.inputs[0], c.attrs), g, zero_like(g))};
      })
      .jvp([](const JvpContext& c) {
        const Tensor& t = c.input_tangents[0];
        if (!t.defined()) return std::vector{Tensor()};
        return std::vector{where(clamp_passes(c.inputs[0], c.attrs), t, zero_like(t))};
      })
      .onnx("Clip");
}

}  // namespace tenflowers
