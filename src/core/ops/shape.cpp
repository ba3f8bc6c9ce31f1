// Joining and rearranging ops with kernels: concat, pad, sort, topk, cumsum, cumprod. The other
// functions of the family (stack, split, tile, flip, roll, ...) are compositions in
// src/core/api/shape.cpp.
#include "src/core/ops/register.hpp"
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

}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.def("concat").variadic().infer(infer_concat).onnx("Concat");
  r.def("pad").infer(infer_pad).onnx("Pad");
  r.def("sort").infer(infer_sort).output_not_differentiable(1);
  r.def("topk").infer(infer_topk).output_not_differentiable(1).onnx("TopK");
  r.def("cumsum").infer(infer_scan).onnx("CumSum");
  r.def("cumprod").infer(infer_scan);
}

}  // namespace tenflowers
