// Reductions over a set of axes (empty = all axes) with optional kept dimensions. Dtype rules
// follow NumPy/PyTorch: sum and prod of bool or integers give i64; mean, var, std, logsumexp and
// norm of bool or integers give f32; max and min keep the dtype; argmax/argmin give i64 indices;
// all/any give bool.
#include <string>

#include "src/core/ops/infer.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
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

}  // namespace

void register_reduction_ops(OpRegistry& r) {
  r.def("sum").infer(axes_rule(ReduceDType::Accumulate)).onnx("ReduceSum");
  r.def("prod").infer(axes_rule(ReduceDType::Accumulate)).onnx("ReduceProd");
  r.def("mean").infer(axes_rule(ReduceDType::Floating)).onnx("ReduceMean");
  r.def("max").infer(axes_rule(ReduceDType::Keep, true)).onnx("ReduceMax");
  r.def("min").infer(axes_rule(ReduceDType::Keep, true)).onnx("ReduceMin");
  r.def("argmax").infer(arg_rule).not_differentiable().onnx("ArgMax");
  r.def("argmin").infer(arg_rule).not_differentiable().onnx("ArgMin");
  r.def("var").infer(axes_rule(ReduceDType::Floating));
  r.def("std").infer(axes_rule(ReduceDType::Floating));
  r.def("logsumexp").infer(axes_rule(ReduceDType::Floating)).onnx("ReduceLogSumExp");
  r.def("all").infer(axes_rule(ReduceDType::Bool)).not_differentiable();
  r.def("any").infer(axes_rule(ReduceDType::Bool)).not_differentiable();
  r.def("norm").infer(axes_rule(ReduceDType::Floating));
}

}  // namespace tenflowers
