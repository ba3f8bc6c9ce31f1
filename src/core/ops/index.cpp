// Indexing ops: gather, scatter, scatter_add, take, index_select, one_hot, masked_fill and
// masked_select (semantics in ops.hpp). The rules here check dtypes and shapes; index values are
// data, checked by the kernels, which throw IndexError before writing any result. A 0-d x acts
// as one element along axis 0 (or -1) for gather and scatter, as in PyTorch.
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

void check_index_dtype(const Tensor& index, const char* what) {
  TF_CHECK(index.dtype() == DType::I32 || index.dtype() == DType::I64, DTypeError, what,
           " must be i32 or i64, got ", dtype_name(index.dtype()));
}

void check_mask_dtype(const Tensor& mask) {
  TF_CHECK(mask.dtype() == DType::Bool, DTypeError, "mask must be bool, got ",
           dtype_name(mask.dtype()));
}

// index.size(d) <= x.size(d) on every axis but `skip_axis` (-1: every axis).
void check_fits(const Tensor& index, const Tensor& x, int64_t skip_axis, const char* x_name) {
  for (int64_t d = 0; d < index.rank(); ++d) {
    if (d == skip_axis) continue;
    TF_CHECK(index.shape()[d] <= x.shape()[d], ShapeError, "index shape ", index.shape(),
             " exceeds ", x_name, " shape ", x.shape(), " on axis ", d,
             " (expected index.size(d) <= ", x_name, ".size(d))");
  }
}

void infer_gather(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  check_index_dtype(index, "index");
  TF_CHECK(index.rank() == x.rank(), ShapeError, "index has rank ", index.rank(),
           " but x has rank ", x.rank(), " (expected equal ranks)");
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  check_fits(index, x, axis, "x");
  ctx.add_output(x.dtype(), index.shape());
}

void infer_scatter(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const Tensor& src = ctx.inputs[2];
  check_index_dtype(index, "index");
  TF_CHECK(src.dtype() == x.dtype(), DTypeError, "src has dtype ", dtype_name(src.dtype()),
           " but x has dtype ", dtype_name(x.dtype()), " (expected equal dtypes)");
  TF_CHECK(index.rank() == x.rank() && src.rank() == x.rank(), ShapeError, "x, index and src have ",
           "ranks ", x.rank(), ", ", index.rank(), " and ", src.rank(), " (expected equal ranks)");
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  check_fits(index, x, axis, "x");
  check_fits(index, src, -1, "src");
  ctx.add_output(x.dtype(), x.shape());
}

void infer_take(InferContext& ctx) {
  check_index_dtype(ctx.inputs[1], "flat_index");
  ctx.add_output(ctx.inputs[0].dtype(), ctx.inputs[1].shape());
}

void infer_index_select(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  check_index_dtype(index, "index");
  TF_CHECK(index.rank() <= 1, ShapeError, "index must be 1-d (or 0-d), got shape ", index.shape());
  TF_CHECK(x.rank() >= 1, ShapeError, "x must have rank >= 1, got a 0-d tensor");
  const auto axis = static_cast<size_t>(normalize_axis(ctx.attrs.get_int("axis"), x.rank()));
  Dims shape = x.shape();
  shape[axis] = index.numel();
  ctx.add_output(x.dtype(), std::move(shape));
}

void infer_one_hot(InferContext& ctx) {
  const Tensor& indices = ctx.inputs[0];
  check_index_dtype(indices, "indices");
  const int64_t depth = ctx.attrs.get_int("depth");
  TF_CHECK(depth > 0, InvalidArgument, "depth must be positive, got ", depth);
  Dims shape = indices.shape();
  shape.push_back(depth);
  ctx.add_output(ctx.attrs.get_dtype("dtype"), std::move(shape));
}

void infer_masked_fill(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& mask = ctx.inputs[1];
  check_mask_dtype(mask);
  TF_CHECK(broadcast_shapes(x.shape(), mask.shape()) == x.shape(), ShapeError, "mask shape ",
           mask.shape(), " does not broadcast to x's shape ", x.shape());
  ctx.add_output(x.dtype(), x.shape());
}

void infer_masked_select(InferContext& ctx) {
  check_mask_dtype(ctx.inputs[1]);
  broadcast_shapes(ctx.inputs[0].shape(), ctx.inputs[1].shape());  // throws when incompatible
  ctx.add_output(ctx.inputs[0].dtype(), Dims{-1});  // the count of true mask elements
}

}  // namespace

void register_index_ops(OpRegistry& r) {
  r.def("gather").inputs(2).infer(infer_gather).onnx("GatherElements");
  r.def("scatter").inputs(3).infer(infer_scatter).onnx("ScatterElements");
  r.def("scatter_add").inputs(3).infer(infer_scatter);
  r.def("take").inputs(2).infer(infer_take);
  r.def("index_select").inputs(2).infer(infer_index_select).onnx("Gather");
  r.def("one_hot").inputs(1).infer(infer_one_hot).not_differentiable().onnx("OneHot");
  r.def("masked_fill").inputs(2).infer(infer_masked_fill);
  r.def("masked_select").inputs(2).infer(infer_masked_select);
}

}  // namespace tenflowers
