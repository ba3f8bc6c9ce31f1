// Reductions over a set of axes (empty = all axes) with optional kept dimensions. Dtype rules
// follow NumPy/PyTorch: sum and prod of bool or integers give i64; mean, var, std, logsumexp and
// norm of bool or integers give f32; max and min keep the dtype; argmax/argmin give i64 indices;
// all/any give bool.
//
// Gradients: every differentiable reduction y = f(x) is described by its partial derivatives
// dy/dx_i (one per input element, each reading the output slice the element reduces into). The
// gradient scales them by the output gradient and the JVP sums them against the tangent, both in
// tensor ops so higher orders come free. Conventions at non-smooth points:
// - max/min (and norm with p = +-inf) split the gradient evenly among tied extremes (as
//   TensorFlow), so the gradient of a slice still sums to its output gradient.
// - prod is exact for any number of zeros in a slice at first order; higher orders are exact
//   while a slice holds at most one zero.
// - norm with p = 2 gives 0 for an all-zero slice; p = 1 uses sign(x); p = 0 counts nonzeros
//   and gets a zero gradient; a general p below 1 is undefined at zero elements (NaN).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

enum class ReduceDType { Accumulate, Floating, Keep, Bool };

DType reduced_dtype(DType in, ReduceDType rule) {
  switch (rule) {
    case ReduceDType::Accumulate:
      return is_floating(in) ? in : DType::I64;
    case ReduceDType::Floating:
      return to_floating(in);
    case ReduceDType::Keep:
      return in;
    case ReduceDType::Bool:
      return DType::Bool;
  }
  throw InternalError("unknown reduction dtype rule");
}

// Number of elements each output reduces over.
int64_t reduced_count(const Dims& shape, const std::vector<int64_t>& axes) {
  int64_t count = 1;
  for (int64_t a : axes) {
    if (a < static_cast<int64_t>(shape.size())) count *= shape[static_cast<size_t>(a)];
  }
  return count;
}

// Ops without an identity element (max, min, argmax, argmin) cannot reduce an empty set.
void check_not_empty(const InferContext& ctx, const std::vector<int64_t>& axes,
                     const Dims& out_shape) {
  const Dims& in_shape = ctx.inputs[0].shape();
  TF_CHECK(reduced_count(in_shape, axes) > 0 || out_shape.numel() == 0, InvalidArgument,
           ctx.op.name, " of an empty set of elements is undefined (input shape ", in_shape,
           ", reduced axes ", format_dims(axes), "); it has no identity element");
}

// Infer rule for ops reducing the "axes" attribute.
InferFn axes_rule(ReduceDType rule, bool needs_elements = false) {
  return [rule, needs_elements](InferContext& ctx) {
    const Tensor& x = ctx.inputs[0];
    const auto axes = infer::reduction_axes(ctx.attrs.get_ints("axes"), x.rank());
    const Dims shape = infer::reduced_shape(x.shape(), axes, ctx.attrs.get_bool("keepdims"));
    if (needs_elements) check_not_empty(ctx, axes, shape);
    ctx.add_output(reduced_dtype(x.dtype(), rule), shape);
  };
}

// argmax/argmin: one optional "axis"; without it the input is reduced as if flattened.
void arg_rule(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const bool keepdims = ctx.attrs.get_bool("keepdims");
  std::vector<int64_t> axes;
  if (ctx.attrs.has("axis")) axes.push_back(normalize_axis(ctx.attrs.get_int("axis"), x.rank()));
  axes = infer::reduction_axes(axes, x.rank());
  Dims shape = infer::reduced_shape(x.shape(), axes, keepdims);
  check_not_empty(ctx, axes, shape);
  ctx.add_output(DType::I64, std::move(shape));
}

// How one reduction call maps its input onto its output, read from the attrs as axes_rule does.
struct Reduced {
  std::vector<int64_t> axes;  // normalized and sorted
  bool keepdims = false;
  Dims kept_shape;    // the output shape with reduced axes kept as extent 1
  int64_t count = 1;  // elements per output
};

Reduced reduced_of(const Tensor& x, const Attrs& attrs) {
  Reduced r;
  r.axes = infer::reduction_axes(attrs.get_ints("axes"), x.rank());
  r.keepdims = attrs.get_bool("keepdims");
  r.kept_shape = infer::reduced_shape(x.shape(), r.axes, true);
  r.count = reduced_count(x.shape(), r.axes);
  return r;
}

// The reduced output (or its gradient) with the reduced axes kept, so it broadcasts against x.
Tensor with_kept_dims(const Tensor& t, const Reduced& r) {
  return r.keepdims ? t : t.reshape(r.kept_shape);
}

// dy/dx_i in x's shape; y_kept is the forward output with the reduced axes kept.
using PartialsFn = Tensor (*)(const Tensor& x, const Tensor& y_kept, const Reduced& r,
                              const Attrs& attrs);

GradFn grad_from_partials(PartialsFn partials) {
  return [partials](const GradContext& c) -> std::vector<Tensor> {
    const Tensor& x = c.inputs[0];
    const Tensor& g = c.output_grads[0];
    if (!c.needs_input_grad[0] || !g.defined() || !is_floating(x.dtype())) return {Tensor()};
    const Reduced r = reduced_of(x, c.attrs);
    return {with_kept_dims(g, r) * partials(x, with_kept_dims(c.outputs[0], r), r, c.attrs)};
  };
}

JvpFn jvp_from_partials(PartialsFn partials) {
  return [partials](const JvpContext& c) -> std::vector<Tensor> {
    const Tensor& x = c.inputs[0];
    const Tensor& t = c.input_tangents[0];
    if (!t.defined() || !is_floating(x.dtype())) return {Tensor()};
    const Reduced r = reduced_of(x, c.attrs);
    const Tensor d = partials(x, with_kept_dims(c.outputs[0], r), r, c.attrs);
    return {sum(d * t, r.axes, r.keepdims)};
  };
}

// sum and mean are linear: the tangent of the output is the same reduction of the tangent.
std::vector<Tensor> same_reduction_of_tangent(const JvpContext& c) {
  const Tensor& t = c.input_tangents[0];
  if (!t.defined() || !is_floating(c.inputs[0].dtype())) return {Tensor()};
  return {dispatch1(c.op, {t}, c.attrs)};
}

// The output gradient spread over its slice of the input (divided by the slice size for mean).
GradFn spread_grad(bool divide_by_count) {
  return [divide_by_count](const GradContext& c) -> std::vector<Tensor> {
    const Tensor& x = c.inputs[0];
    const Tensor& g = c.output_grads[0];
    if (!c.needs_input_grad[0] || !g.defined() || !is_floating(x.dtype())) return {Tensor()};
    const Reduced r = reduced_of(x, c.attrs);
    Tensor spread = with_kept_dims(g, r).broadcast_to(x.shape());
    if (divide_by_count) spread = spread / static_cast<double>(r.count);
    return {spread};
  };
}

// Zeros are masked out of the division y / x_i: a slice without zeros gives y / x_i; with one
// zero, the zero's partial is the product of the others and every other partial is 0; with more
// zeros all partials are 0.
Tensor prod_partials(const Tensor& x, const Tensor& y_kept, const Reduced& r, const Attrs&) {
  const Tensor is_zero = x == scalar_like(x, 0);
  const Tensor nonzero_x = where(is_zero, scalar_like(x, 1), x);
  const Tensor zeros_in_slice = sum(is_zero, r.axes, true);
  const Tensor nonzero_product = prod(nonzero_x, r.axes, true);
  const Tensor lone_zero = is_zero && (zeros_in_slice == scalar_like(zeros_in_slice, 1));
  return where(zeros_in_slice == scalar_like(zeros_in_slice, 0), y_kept / nonzero_x,
               where(lone_zero, nonzero_product, zeros_like(x)));
}

// 1/k at each of the k elements equal to the slice's extreme, 0 elsewhere.
Tensor tied_extreme_share(const Tensor& x, const Tensor& y_kept, const Reduced& r) {
  const Tensor is_extreme = (x == y_kept).cast(x.dtype());
  return is_extreme / sum(is_extreme, r.axes, true);
}

Tensor extreme_partials(const Tensor& x, const Tensor& y_kept, const Reduced& r, const Attrs&) {
  return tied_extreme_share(x, y_kept, r);
}

// Degrees of freedom of var/std; none left gives an infinite (or NaN) result, as the kernel.
double degrees_of_freedom(const Reduced& r, const Attrs& attrs) {
  return static_cast<double>(std::max<int64_t>(0, r.count - attrs.get_int_or("correction", 1)));
}

Tensor var_partials(const Tensor& x, const Tensor&, const Reduced& r, const Attrs& attrs) {
  return (x - mean(x, r.axes, true)) * (2.0 / degrees_of_freedom(r, attrs));
}

Tensor std_partials(const Tensor& x, const Tensor& y_kept, const Reduced& r, const Attrs& attrs) {
  return (x - mean(x, r.axes, true)) / (y_kept * degrees_of_freedom(r, attrs));
}

// The softmax of the slice.
Tensor logsumexp_partials(const Tensor& x, const Tensor& y_kept, const Reduced&, const Attrs&) {
  return exp(x - y_kept);
}

Tensor norm_partials(const Tensor& x, const Tensor& y_kept, const Reduced& r, const Attrs& attrs) {
  const double p = attrs.get_float_or("p", 2.0);
  if (p == 0.0) return zeros_like(x);
  if (p == 1.0) return sign(x);
  if (std::isinf(p)) return tied_extreme_share(abs(x), y_kept, r) * sign(x);
  // An all-zero slice has x = 0 everywhere: dividing by 1 instead of 0 gives it 0 partials.
  const Tensor safe_norm = where(y_kept == scalar_like(y_kept, 0), scalar_like(y_kept, 1), y_kept);
  if (p == 2.0) return x / safe_norm;
  return sign(x) * (abs(x) / safe_norm).pow(p - 1.0);
}

}  // namespace

void register_reduction_ops(OpRegistry& r) {
  r.def("sum")
      .infer(axes_rule(ReduceDType::Accumulate))
      .grad(spread_grad(false))
      .jvp(same_reduction_of_tangent)
      .onnx("ReduceSum");
  r.def("prod")
      .infer(axes_rule(ReduceDType::Accumulate))
      .grad(grad_from_partials(prod_partials))
      .jvp(jvp_from_partials(prod_partials))
      .onnx("ReduceProd");
  r.def("mean")
      .infer(axes_rule(ReduceDType::Floating))
      .grad(spread_grad(true))
      .jvp(same_reduction_of_tangent)
      .onnx("ReduceMean");
  r.def("max")
      .infer(axes_rule(ReduceDType::Keep, true))
      .grad(grad_from_partials(extreme_partials))
      .jvp(jvp_from_partials(extreme_partials))
      .onnx("ReduceMax");
  r.def("min")
      .infer(axes_rule(ReduceDType::Keep, true))
      .grad(grad_from_partials(extreme_partials))
      .jvp(jvp_from_partials(extreme_partials))
      .onnx("ReduceMin");
  r.def("argmax").infer(arg_rule).not_differentiable().onnx("ArgMax");
  r.def("argmin").infer(arg_rule).not_differentiable().onnx("ArgMin");
  r.def("var")
      .infer(axes_rule(ReduceDType::Floating))
      .grad(grad_from_partials(var_partials))
      .jvp(jvp_from_partials(var_partials));
  r.def("std")
      .infer(axes_rule(ReduceDType::Floating))
      .grad(grad_from_partials(std_partials))
      .jvp(jvp_from_partials(std_partials));
  r.def("logsumexp")
      .infer(axes_rule(ReduceDType::Floating))
      .grad(grad_from_partials(logsumexp_partials))
      .jvp(jvp_from_partials(logsumexp_partials))
      .onnx("ReduceLogSumExp");
  r.def("all").infer(axes_rule(ReduceDType::Bool)).not_differentiable();
  r.def("any").infer(axes_rule(ReduceDType::Bool)).not_differentiable();
  r.def("norm")
      .infer(axes_rule(ReduceDType::Floating))
      .grad(grad_from_partials(norm_partials))
      .jvp(jvp_from_partials(norm_partials));
}

}  // namespace tenflowers
