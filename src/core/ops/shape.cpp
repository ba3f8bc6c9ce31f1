// Joining and rearranging ops with kernels: concat, pad, sort, topk, cumsum, cumprod. The other
// functions of the family (stack, split, tile, flip, roll, ...) are compositions in
// src/core/api/shape.cpp.
#include "src/core/ops/register.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

// Extent of `axis` (already normalized); a 0-d tensor counts as one element along axis 0.
int64_t extent_along(const Tensor& x, int64_t axis) {
  return x.rank() == 0 ? 1 : x.shape()[static_cast<size_t>(axis)];
}

void infer_concat(InferContext& ctx) {
  TF_CHECK(!ctx.inputs.empty(), InvalidArgument,
           "concat: expected at least one tensor, got an empty list");
  const Tensor& first = ctx.inputs[0];
  TF_CHECK(first.rank() > 0, ShapeError,
           "concat: tensor 0 is 0-d; 0-d tensors cannot be concatenated (stack them instead)");
  const auto axis = static_cast<size_t>(normalize_axis(ctx.attrs.get_int("axis"), first.rank()));
  Dims shape = first.shape();
  DType dtype = first.dtype();
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const Tensor& t = ctx.inputs[i];
    bool matches = t.rank() == first.rank();
    for (size_t a = 0; matches && a < shape.size(); ++a) {
      matches = a == axis || t.shape()[a] == first.shape()[a];
    }
    TF_CHECK(matches, ShapeError, "concat: tensor ", i, " has shape ", t.shape(),
             " but tensor 0 has shape ", first.shape(),
             " (expected equal ranks and equal extents on every axis but axis ", axis, ")");
    shape[axis] += t.shape()[axis];
    dtype = promote_types(dtype, t.dtype());
  }
  ctx.add_output(dtype, std::move(shape));
}

void infer_pad(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const std::vector<int64_t>& pads = ctx.attrs.get_ints("pads");
  const std::string& mode = ctx.attrs.get_string("mode");
  const bool reflect = mode == "reflect";
  TF_CHECK(reflect || mode == "constant", InvalidArgument, "pad: unknown mode '", mode,
           "' (expected \"constant\" or \"reflect\")");
  TF_CHECK(static_cast<int64_t>(pads.size()) == 2 * x.rank(), InvalidArgument, "pad: expected ",
           2 * x.rank(), " values, a (before, after) pair for each axis from the first on, got ",
           pads.size(), " for shape ", x.shape());
  Dims shape = x.shape();
  for (size_t a = 0; a < shape.size(); ++a) {
    const int64_t before = pads[2 * a], after = pads[2 * a + 1], extent = shape[a];
    if (reflect) {
      TF_CHECK(before >= 0 && after >= 0, InvalidArgument,
               "pad: reflect mode needs pads >= 0, got (", before, ", ", after, ") on axis ", a);
      TF_CHECK((before == 0 || before < extent) && (after == 0 || after < extent), InvalidArgument,
               "pad: reflect pads (", before, ", ", after, ") on axis ", a,
               " must be less than its extent ", extent);
    }
    shape[a] = extent + before + after;
    TF_CHECK(shape[a] >= 0, InvalidArgument, "pad: pads (", before, ", ", after, ") on axis ", a,
             " crop more than its extent ", extent);
  }
  ctx.add_output(x.dtype(), std::move(shape));
}

void infer_sort(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  ctx.add_output(x.dtype(), x.shape());
  ctx.add_output(DType::I64, x.shape());
}

void infer_topk(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t k = ctx.attrs.get_int("k");
  const int64_t extent = extent_along(x, axis);
  TF_CHECK(x.rank() > 0 || k == 1, InvalidArgument, "topk: k = ", k,
           " for a 0-d tensor (expected 1: a 0-d result always holds one element)");
  TF_CHECK(k >= 0 && k <= extent, InvalidArgument, "topk: k = ", k, " is outside [0, ", extent,
           "], the extent of axis ", axis);
  Dims shape = x.shape();
  if (x.rank() > 0) shape[static_cast<size_t>(axis)] = k;
  ctx.add_output(x.dtype(), shape);
  ctx.add_output(DType::I64, shape);
}

// NumPy's rule: integer and bool inputs accumulate into i64.
void infer_scan(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  ctx.add_output(is_floating(x.dtype()) ? x.dtype() : DType::I64, x.shape());
}

// ---- gradient and forward-mode rules, written in tensor ops so higher orders come free ------

// A tangent or gradient of zero: the undefined Tensor.
std::vector<Tensor> nothing(size_t count) {
  return std::vector<Tensor>(count);
}

// Reversed along `axis`; 0-d tensors have nothing to reverse.
Tensor reversed(const Tensor& t, int64_t axis) {
  return t.rank() == 0 ? t : t.slice(axis, {}, {}, -1);
}

// Each input's gradient is its slice of the output gradient.
std::vector<Tensor> concat_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  const int64_t axis = normalize_axis(c.attrs.get_int("axis"), c.inputs[0].rank());
  std::vector<Tensor> grads(c.inputs.size());
  int64_t start = 0;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const int64_t length = c.inputs[i].size(axis);
    if (c.needs_input_grad[i] && is_floating(c.inputs[i].dtype())) {
      grads[i] = dy.narrow(axis, start, length);
    }
    start += length;
  }
  return grads;
}

std::vector<Tensor> concat_jvp(const JvpContext& c) {
  const Tensor& y = c.outputs[0];
  std::vector<Tensor> parts;
  parts.reserve(c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Tensor& t = c.input_tangents[i];
    parts.push_back(t.defined() ? t : zeros(c.inputs[i].shape(), y.dtype(), y.device()));
  }
  return {concat(parts, c.attrs.get_int("axis"))};
}

// Pads (or crops, for negative pads) only `axis` of a rank-`rank` tensor with zeros.
Tensor pad_axis(const Tensor& t, size_t axis, int64_t before, int64_t after) {
  std::vector<int64_t> pads(2 * static_cast<size_t>(t.rank()), 0);
  pads[2 * axis] = before;
  pads[2 * axis + 1] = after;
  return pad(t, std::move(pads), "constant", 0.0);
}

// The adjoint of reflect padding, one axis at a time (the padding is separable): the reflected
// borders fold back onto the elements they copy, x[1..before] and x[n-1-after..n-2], reversed.
Tensor fold_reflected(Tensor dy, const Dims& shape, const std::vector<int64_t>& pads) {
  for (size_t a = 0; a < shape.size(); ++a) {
    const int64_t before = pads[2 * a], after = pads[2 * a + 1], n = shape[a];
    if (before == 0 && after == 0) continue;
    const auto axis = static_cast<int64_t>(a);
    Tensor dx = dy.narrow(axis, before, n);
    if (before > 0) {
      const Tensor left = reversed(dy.narrow(axis, 0, before), axis);
      dx = add(dx, pad_axis(left, a, 1, n - 1 - before));
    }
    if (after > 0) {
      const Tensor right = reversed(dy.narrow(axis, before + n, after), axis);
      dx = add(dx, pad_axis(right, a, n - 1 - after, 1));
    }
    dy = dx;
  }
  return dy;
}

// Constant padding's adjoint is the opposite padding: crop what was added, zero what was cropped.
std::vector<Tensor> pad_grad(const GradContext& c) {
  const Tensor& x = c.inputs[0];
  if (!is_floating(x.dtype())) return nothing(1);
  const std::vector<int64_t>& pads = c.attrs.get_ints("pads");
  if (c.attrs.get_string("mode") == "reflect") {
    return {fold_reflected(c.output_grads[0], x.shape(), pads)};
  }
  std::vector<int64_t> opposite(pads.size());
  for (size_t i = 0; i < pads.size(); ++i) opposite[i] = -pads[i];
  return {pad(c.output_grads[0], std::move(opposite), "constant", 0.0)};
}

// Padding is affine in x; the fill value is a constant, so the tangent pads with zeros.
std::vector<Tensor> pad_jvp(const JvpContext& c) {
  const std::string& mode = c.attrs.get_string("mode");
  return {pad(c.input_tangents[0], c.attrs.get_ints("pads"), mode, 0.0)};
}

// sort and topk: values = gather(x, axis, indices), so each value's gradient goes back to the
// element it came from. The indices output has no gradient.
std::vector<Tensor> selected_values_grad(const GradContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !is_floating(x.dtype())) return nothing(1);
  if (x.rank() == 0) return {dy};
  const int64_t axis = normalize_axis(c.attrs.get_int("axis"), x.rank());
  return {scatter_add(zeros(x.shape(), dy.dtype(), dy.device()), axis, c.outputs[1], dy)};
}

std::vector<Tensor> selected_values_jvp(const JvpContext& c) {
  const Tensor& t = c.input_tangents[0];
  if (t.rank() == 0) return {t, Tensor()};
  const int64_t axis = normalize_axis(c.attrs.get_int("axis"), t.rank());
  return {gather(t, axis, c.outputs[1]), Tensor()};
}

// Each x[k] feeds every y[i] with i >= k: the gradient is a reversed cumulative sum.
Tensor reverse_cumsum(const Tensor& t, int64_t axis) {
  return reversed(cumsum(reversed(t, axis), axis), axis);
}

std::vector<Tensor> cumsum_grad(const GradContext& c) {
  if (!is_floating(c.inputs[0].dtype())) return nothing(1);
  return {reverse_cumsum(c.output_grads[0], c.attrs.get_int("axis"))};
}

// dy[i]/dx[k] = y[i] / x[k] for i >= k. Dividing by x makes these rules exact only where x has
// no zeros; at a zero they give inf/NaN (the exact derivative there, a product of the other
// factors, has no division-free closed form in cumulative ops).
std::vector<Tensor> cumprod_grad(const GradContext& c) {
  const Tensor& x = c.inputs[0];
  if (!is_floating(x.dtype())) return nothing(1);
  const int64_t axis = c.attrs.get_int("axis");
  return {div(reverse_cumsum(mul(c.output_grads[0], c.outputs[0]), axis), x)};
}

std::vector<Tensor> cumprod_jvp(const JvpContext& c) {
  const int64_t axis = c.attrs.get_int("axis");
  return {mul(c.outputs[0], cumsum(div(c.input_tangents[0], c.inputs[0]), axis))};
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.def("concat").variadic().infer(infer_concat).grad(concat_grad).jvp(concat_jvp).onnx("Concat");
  r.def("pad").infer(infer_pad).grad(pad_grad).jvp(pad_jvp).onnx("Pad");
  r.def("sort")
      .infer(infer_sort)
      .grad(selected_values_grad)
      .jvp(selected_values_jvp)
      .output_not_differentiable(1);
  r.def("topk")
      .infer(infer_topk)
      .grad(selected_values_grad)
      .jvp(selected_values_jvp)
      .output_not_differentiable(1)
      .onnx("TopK");
  r.def("cumsum")
      .infer(infer_scan)
      .grad(cumsum_grad)
      .jvp([](const JvpContext& c) {
        return std::vector{cumsum(c.input_tangents[0], c.attrs.get_int("axis"))};
      })
      .onnx("CumSum");
  r.def("cumprod").infer(infer_scan).grad(cumprod_grad).jvp(cumprod_jvp);
}

}  // namespace tenflowers
