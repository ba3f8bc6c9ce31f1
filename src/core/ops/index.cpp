// Indexing ops: gather, scatter, scatter_add, take, index_select, one_hot, masked_fill and
// masked_select (semantics in ops.hpp). The rules here check dtypes and shapes; index values are
// data, checked by the kernels, which throw IndexError before writing any result. A 0-d x acts
// as one element along axis 0 (or -1) for gather and scatter, as in PyTorch.
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
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

// ---- gradient and forward-mode rules ---------------------------------------------------------
// Every differentiable op here is linear in its float inputs, so each JVP applies the op itself
// to the tangents (an undefined tangent is zero). Index and mask inputs get no gradient.

int64_t axis_of(const GradContext& c) {
  return c.attrs.get_int("axis");
}

Tensor tangent_or_zeros(const JvpContext& c, size_t i) {
  return c.input_tangents[i].defined() ? c.input_tangents[i] : zeros_like(c.inputs[i]);
}

bool no_tangents(const JvpContext& c, std::initializer_list<size_t> float_inputs) {
  for (size_t i : float_inputs) {
    if (c.input_tangents[i].defined()) return false;
  }
  return true;
}

// Zeros of `shape` with `part` (whose extents are <= shape's) written at the leading corner:
// spreads a gradient of index's shape over src, whose elements outside index get none.
Tensor embed_in_corner(const Tensor& part, const Tensor& like) {
  if (part.shape() == like.shape()) return part;
  return as_strided_scatter(part, like.shape(), contiguous_strides(like.shape()), 0);
}

// For each index element, whether scatter's write from it survives: with duplicate targets the
// last write along the axis wins, so only that writer gets a gradient. Each writer is named by
// its position along the axis; the winner's name is what scatter leaves at the target.
Tensor is_last_writer(const Tensor& x, int64_t axis, const Tensor& index) {
  Dims along(static_cast<size_t>(index.rank()), 1);
  if (index.rank() > 0) {
    const auto a = static_cast<size_t>(normalize_axis(axis, x.rank()));
    along[a] = index.shape()[a];
  }
  const Tensor position =
      arange(along.numel(), DType::I64, index.device()).reshape(along).expand(index.shape());
  const Tensor survivor =
      scatter(full(x.shape(), -1.0, DType::I64, x.device()), axis, index, position);
  return eq(gather(survivor, axis, index), position);
}

std::vector<Tensor> gather_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0]) return {Tensor(), Tensor()};
  return {scatter_add(zeros_like(c.inputs[0]), axis_of(c), c.inputs[1], dy), Tensor()};
}

std::vector<Tensor> scatter_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined()) return {Tensor(), Tensor(), Tensor()};
  const Tensor& x = c.inputs[0];
  const Tensor& index = c.inputs[1];
  const Tensor& src = c.inputs[2];
  Tensor dx, dsrc;
  // Overwritten elements of x do not reach the output.
  if (c.needs_input_grad[0]) dx = scatter(dy, axis_of(c), index, zeros_like(src));
  if (c.needs_input_grad[2]) {
    const Tensor reached = where(is_last_writer(x, axis_of(c), index),
                                 gather(dy, axis_of(c), index), scalar_like(dy, 0.0));
    dsrc = embed_in_corner(reached, src);
  }
  return {dx, Tensor(), dsrc};
}

std::vector<Tensor> scatter_add_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined()) return {Tensor(), Tensor(), Tensor()};
  Tensor dsrc;
  if (c.needs_input_grad[2]) {
    dsrc = embed_in_corner(gather(dy, axis_of(c), c.inputs[1]), c.inputs[2]);
  }
  return {c.needs_input_grad[0] ? dy : Tensor(), Tensor(), dsrc};
}

std::vector<Tensor> take_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0]) return {Tensor(), Tensor()};
  const Tensor& x = c.inputs[0];
  const Tensor flat = scatter_add(zeros(Dims{x.numel()}, x.dtype(), x.device()), 0,
                                  c.inputs[1].reshape({-1}), dy.reshape({-1}));
  return {flat.reshape(x.shape()), Tensor()};
}

std::vector<Tensor> index_select_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0]) return {Tensor(), Tensor()};
  const Tensor& x = c.inputs[0];
  const Tensor& index = c.inputs[1];
  const auto a = static_cast<size_t>(normalize_axis(axis_of(c), x.rank()));
  // The same index for every position off the axis, so scatter_add sends each row back.
  Dims along(static_cast<size_t>(x.rank()), 1);
  along[a] = index.numel();
  const Tensor spread = index.reshape(along).expand(dy.shape());
  return {scatter_add(zeros_like(x), axis_of(c), spread, dy), Tensor()};
}

std::vector<Tensor> masked_fill_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0]) return {Tensor(), Tensor()};
  return {masked_fill(dy, c.inputs[1], 0.0), Tensor()};
}

// Places the selected elements' gradients back at their positions: the k-th true mask element
// (row-major, after broadcasting) receives dy[k], every other position zero.
std::vector<Tensor> masked_select_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0]) return {Tensor(), Tensor()};
  const Tensor& x = c.inputs[0];
  if (dy.numel() == 0) return {zeros_like(x), Tensor()};
  const Dims shape = broadcast_shapes(x.shape(), c.inputs[1].shape());
  const Tensor selected = c.inputs[1].broadcast_to(shape).reshape({-1});
  // Unselected positions may hold -1 here; take reads a valid element for them, discarded below.
  const Tensor rank_among_selected = cumsum(cast(selected, DType::I64), 0) - 1.0;
  const Tensor placed = where(selected, take(dy, rank_among_selected), scalar_like(dy, 0.0));
  return {sum_to(placed.reshape(shape), x.shape()), Tensor()};
}

}  // namespace

void register_index_ops(OpRegistry& r) {
  r.def("gather")
      .inputs(2)
      .infer(infer_gather)
      .grad(gather_grad)
      .jvp([](const JvpContext& c) {
        if (no_tangents(c, {0})) return std::vector{Tensor()};
        return std::vector{gather(c.input_tangents[0], c.attrs.get_int("axis"), c.inputs[1])};
      })
      .onnx("GatherElements");
  r.def("scatter")
      .inputs(3)
      .infer(infer_scatter)
      .grad(scatter_grad)
      .jvp([](const JvpContext& c) {
        if (no_tangents(c, {0, 2})) return std::vector{Tensor()};
        return std::vector{scatter(tangent_or_zeros(c, 0), c.attrs.get_int("axis"), c.inputs[1],
                                   tangent_or_zeros(c, 2))};
      })
      .onnx("ScatterElements");
  r.def("scatter_add")
      .inputs(3)
      .infer(infer_scatter)
      .grad(scatter_add_grad)
      .jvp([](const JvpContext& c) {
        if (no_tangents(c, {0, 2})) return std::vector{Tensor()};
        return std::vector{scatter_add(tangent_or_zeros(c, 0), c.attrs.get_int("axis"), c.inputs[1],
                                       tangent_or_zeros(c, 2))};
      });
  r.def("take").inputs(2).infer(infer_take).grad(take_grad).jvp([](const JvpContext& c) {
    if (no_tangents(c, {0})) return std::vector{Tensor()};
    return std::vector{take(c.input_tangents[0], c.inputs[1])};
  });
  r.def("index_select")
      .inputs(2)
      .infer(infer_index_select)
      .grad(index_select_grad)
      .jvp([](const JvpContext& c) {
        if (no_tangents(c, {0})) return std::vector{Tensor()};
        return std::vector{index_select(c.input_tangents[0], c.attrs.get_int("axis"), c.inputs[1])};
      })
      .onnx("Gather");
  r.def("one_hot").inputs(1).infer(infer_one_hot).not_differentiable().onnx("OneHot");
  r.def("masked_fill")
      .inputs(2)
      .infer(infer_masked_fill)
      .grad(masked_fill_grad)
      .jvp([](const JvpContext& c) {
        if (no_tangents(c, {0})) return std::vector{Tensor()};
        return std::vector{masked_fill(c.input_tangents[0], c.inputs[1], 0.0)};
      });
  r.def("masked_select")
      .inputs(2)
      .infer(infer_masked_select)
      .grad(masked_select_grad)
      .jvp([](const JvpContext& c) {
        if (no_tangents(c, {0})) return std::vector{Tensor()};
        return std::vector{masked_select(c.input_tangents[0], c.inputs[1])};
      });
}

}  // namespace tenflowers
