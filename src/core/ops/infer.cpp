#include "src/core/ops/infer.hpp"

#include <algorithm>

#include "tenflowers/core/error.hpp"

namespace tenflowers::infer {

void same_as_input(InferContext& ctx) {
  ctx.add_output(ctx.inputs[0].dtype(), ctx.inputs[0].shape());
}

void same_shape_floating(InferContext& ctx) {
  ctx.add_output(to_floating(ctx.inputs[0].dtype()), ctx.inputs[0].shape());
}

namespace {
// The broadcast shape of all inputs, written into `shape`; inputs of equal shapes (the common
// case) cost one comparison each.
void broadcast_inputs(const InferContext& ctx, Dims& shape) {
  shape = ctx.inputs[0].shape();
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    const Dims& next = ctx.inputs[i].shape();
    if (next != shape) shape = broadcast_shapes(shape, next);
  }
}
}  // namespace

void broadcast_promote(InferContext& ctx) {
  DType dtype = ctx.inputs[0].dtype();
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    dtype = promote_types(dtype, ctx.inputs[i].dtype());
  }
  broadcast_inputs(ctx, ctx.add_output(dtype, Dims()).shape);
}

void broadcast_bool(InferContext& ctx) {
  broadcast_inputs(ctx, ctx.add_output(DType::Bool, Dims()).shape);
}

std::vector<int64_t> reduction_axes(const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  if (axes.empty()) {
    for (int64_t i = 0; i < rank; ++i) out.push_back(i);
    return out;
  }
  for (int64_t a : axes) out.push_back(normalize_axis(a, rank));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw InvalidArgument("reduction axes contain a duplicate");
  }
  return out;
}

Dims reduced_shape(const Dims& shape, const std::vector<int64_t>& axes, bool keepdims) {
  Dims out;
  for (size_t i = 0; i < shape.size(); ++i) {
    const bool reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
    if (!reduced) {
      out.push_back(shape[i]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

}  // namespace tenflowers::infer
