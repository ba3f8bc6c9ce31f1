// View ops: the output shares the input's storage with new shape, strides and offset.
#include <algorithm>
#include <numeric>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

Tensor make_view(const Tensor& base, Dims shape, Dims strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  impl->device = base.device();
  impl->id = TensorImpl::next_id();
  return Tensor(std::move(impl));
}

// Resolves a single -1 and checks the element count.
Dims resolve_reshape(const Dims& from, std::vector<int64_t> to) {
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] == -1) {
      TF_CHECK(infer_at < 0, ShapeError, "reshape: only one extent may be -1, got ",
               format_dims(to));
      infer_at = static_cast<int>(i);
    } else {
      TF_CHECK(to[i] >= 0, ShapeError, "reshape: invalid extent ", to[i], " in ", format_dims(to));
      known *= to[i];
    }
  }
  const int64_t numel = from.numel();
  if (infer_at >= 0) {
    TF_CHECK(known != 0 && numel % known == 0, ShapeError, "reshape: cannot reshape ", from, " (",
             numel, " elements) into ", format_dims(to));
    to[static_cast<size_t>(infer_at)] = numel / known;
  }
  Dims out(to);
  if (out.numel() != numel) {
    throw ShapeError("reshape: element counts differ", {numel}, {out.numel()});
  }
  return out;
}

// Strides that view `shape` over a tensor with (old_shape, old_strides), if any exist. Walks
// both shapes from the innermost axis in chunks of equal element count; each chunk of the old
// tensor must be laid out contiguously (up to its base stride) for a view to exist.
bool view_strides(const Dims& old_shape, const Dims& old_strides, const Dims& shape, Dims& out) {
  if (shape.numel() == 0 || old_shape.empty()) {
    out = contiguous_strides(shape);
    return true;
  }
  out = Dims(shape.size(), 1);
  auto view_axis = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base = old_strides.back();
  int64_t old_count = 1, new_count = 1;
  for (auto axis = static_cast<int64_t>(old_shape.size()) - 1; axis >= 0; --axis) {
    old_count *= old_shape[axis];
    const bool chunk_ends =
        axis == 0 || (old_shape[axis - 1] != 1 && old_strides[axis - 1] != old_count * chunk_base);
    if (!chunk_ends) continue;
    while (view_axis >= 0 && (new_count < old_count || shape[view_axis] == 1)) {
      out[view_axis] = new_count * chunk_base;
      new_count *= shape[view_axis];
      --view_axis;
    }
    if (new_count != old_count) return false;
    if (axis > 0) {
      chunk_base = old_strides[axis - 1];
      old_count = 1;
      new_count = 1;
    }
  }
  return view_axis == -1;
}

std::vector<Tensor> reshape_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  Dims shape = resolve_reshape(x.shape(), attrs.get_ints("shape"));
  Dims strides;
  if (view_strides(x.shape(), x.strides(), shape, strides)) {
    return {make_view(x, std::move(shape), std::move(strides), x.offset())};
  }
  throw InternalError("reshape_view needs strides compatible with the new shape");
}

std::vector<Tensor> permute_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  const std::vector<int64_t>& axes = attrs.get_ints("axes");
  TF_CHECK(static_cast<int64_t>(axes.size()) == x.rank(), ShapeError, "permute: ", axes.size(),
           " axes for a tensor of rank ", x.rank());
  Dims shape(axes.size()), strides(axes.size());
  std::vector<bool> seen(axes.size(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto a = static_cast<size_t>(normalize_axis(axes[i], x.rank()));
    TF_CHECK(!seen[a], InvalidArgument, "permute: axis ", a, " appears twice in ",
             format_dims(axes));
    seen[a] = true;
    shape[i] = x.shape()[a];
    strides[i] = x.strides()[a];
  }
  return {make_view(x, std::move(shape), std::move(strides), x.offset())};
}

std::vector<Tensor> slice_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  TF_CHECK(x.rank() > 0, IndexError, "slice: cannot slice a 0-d tensor");
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis"), x.rank()));
  const int64_t step = attrs.get_int_or("step", 1);
  TF_CHECK(step != 0, InvalidArgument, "slice: step must not be 0");
  const int64_t extent = x.shape()[axis];
  // Python slice semantics, with clamping.
  auto clamp_index = [&](int64_t i, int64_t low, int64_t high) {
    if (i < 0) i += extent;
    return std::clamp(i, low, high);
  };
  int64_t start, stop;
  if (step > 0) {
    start = attrs.has("start") ? clamp_index(attrs.get_int("start"), 0, extent) : 0;
    stop = attrs.has("stop") ? clamp_index(attrs.get_int("stop"), 0, extent) : extent;
  } else {
    start = attrs.has("start") ? clamp_index(attrs.get_int("start"), -1, extent - 1) : extent - 1;
    stop = attrs.has("stop") ? clamp_index(attrs.get_int("stop"), -1, extent - 1) : -1;
  }
  const int64_t count = step > 0 ? std::max<int64_t>(0, (stop - start + step - 1) / step)
                                 : std::max<int64_t>(0, (start - stop + (-step) - 1) / (-step));
  Dims shape = x.shape(), strides = x.strides();
  shape[axis] = count;
  strides[axis] = x.strides()[axis] * step;
  const int64_t offset = count > 0 ? x.offset() + start * x.strides()[axis] : x.offset();
  return {make_view(x, std::move(shape), std::move(strides), offset)};
}

std::vector<Tensor> select_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  TF_CHECK(x.rank() > 0, IndexError, "select: cannot index a 0-d tensor");
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis"), x.rank()));
  const int64_t extent = x.shape()[axis];
  int64_t index = attrs.get_int("index");
  TF_CHECK(index >= -extent && index < extent, IndexError, "select: index ", index,
           " is out of range for axis ", axis, " of extent ", extent);
  if (index < 0) index += extent;
  Dims shape = x.shape(), strides = x.strides();
  shape.erase(axis);
  strides.erase(axis);
  return {
      make_view(x, std::move(shape), std::move(strides), x.offset() + index * x.strides()[axis])};
}

std::vector<Tensor> expand_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  const std::vector<int64_t>& target = attrs.get_ints("shape");
  TF_CHECK(target.size() >= x.shape().size(), ShapeError, "expand: cannot expand ", x.shape(),
           " to fewer dimensions ", format_dims(target));
  const size_t lead = target.size() - x.shape().size();
  Dims shape(target.size()), strides(target.size());
  for (size_t i = 0; i < target.size(); ++i) {
    if (i < lead) {
      TF_CHECK(target[i] >= 0, ShapeError, "expand: new leading extent must be >= 0, got ",
               format_dims(target));
      shape[i] = target[i];
      strides[i] = 0;
      continue;
    }
    const int64_t have = x.shape()[i - lead];
    const int64_t want = target[i] == -1 ? have : target[i];
    if (have == want) {
      shape[i] = have;
      strides[i] = x.strides()[i - lead];
    } else if (have == 1 && want >= 0) {
      shape[i] = want;
      strides[i] = 0;
    } else {
      throw ShapeError("expand: cannot broadcast " + format_dims(x.shape().vec()) + " to " +
                       format_dims(target) + " (axis " + std::to_string(i) +
                       ": expected extent 1 or " + std::to_string(want) + ", got " +
                       std::to_string(have) + ")");
    }
  }
  return {make_view(x, std::move(shape), std::move(strides), x.offset())};
}

std::vector<Tensor> squeeze_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  std::vector<bool> drop(x.shape().size(), false);
  if (attrs.has("axes")) {
    for (int64_t a : attrs.get_ints("axes")) {
      const auto axis = static_cast<size_t>(normalize_axis(a, x.rank()));
      TF_CHECK(x.shape()[axis] == 1, ShapeError, "squeeze: axis ", axis, " has extent ",
               x.shape()[axis], " (expected 1)");
      drop[axis] = true;
    }
  } else {
    for (size_t i = 0; i < drop.size(); ++i) drop[i] = x.shape()[i] == 1;
  }
  Dims shape, strides;
  for (size_t i = 0; i < drop.size(); ++i) {
    if (drop[i]) continue;
    shape.push_back(x.shape()[i]);
    strides.push_back(x.strides()[i]);
  }
  return {make_view(x, std::move(shape), std::move(strides), x.offset())};
}

std::vector<Tensor> unsqueeze_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis"), x.rank() + 1));
  Dims shape = x.shape(), strides = x.strides();
  const int64_t stride = axis < shape.size() ? shape[axis] * strides[axis] : 1;
  shape.insert(axis, 1);
  strides.insert(axis, stride);
  return {make_view(x, std::move(shape), std::move(strides), x.offset())};
}

std::vector<Tensor> diagonal_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  TF_CHECK(x.rank() >= 2, ShapeError, "diagonal: expected rank >= 2, got ", x.rank());
  const auto a0 = static_cast<size_t>(normalize_axis(attrs.get_int("axis0"), x.rank()));
  const auto a1 = static_cast<size_t>(normalize_axis(attrs.get_int("axis1"), x.rank()));
  TF_CHECK(a0 != a1, InvalidArgument, "diagonal: axis0 and axis1 must differ");
  const int64_t k = attrs.get_int("offset");
  int64_t offset = x.offset();
  int64_t length;
  if (k >= 0) {
    length = std::max<int64_t>(0, std::min(x.shape()[a0], x.shape()[a1] - k));
    if (length > 0) offset += k * x.strides()[a1];
  } else {
    length = std::max<int64_t>(0, std::min(x.shape()[a0] + k, x.shape()[a1]));
    if (length > 0) offset -= k * x.strides()[a0];
  }
  Dims shape, strides;
  for (size_t i = 0; i < x.shape().size(); ++i) {
    if (i == a0 || i == a1) continue;
    shape.push_back(x.shape()[i]);
    strides.push_back(x.strides()[i]);
  }
  shape.push_back(length);
  strides.push_back(x.strides()[a0] + x.strides()[a1]);
  return {make_view(x, std::move(shape), std::move(strides), offset)};
}

}  // namespace

bool can_view_as(const Tensor& x, const Dims& shape) {
  Dims strides;
  return view_strides(x.shape(), x.strides(), shape, strides);
}

Dims resolve_reshape_shape(const Dims& from, const std::vector<int64_t>& to) {
  return resolve_reshape(from, to);
}

void register_view_ops(OpRegistry& r) {
  r.def("reshape_view").view(reshape_view).onnx("Reshape");
  r.def("permute").view(permute_view).onnx("Transpose");
  r.def("slice").view(slice_view).onnx("Slice");
  r.def("select").view(select_view).onnx("Gather");
  r.def("expand").view(expand_view).onnx("Expand");
  r.def("squeeze").view(squeeze_view).onnx("Squeeze");
  r.def("unsqueeze").view(unsqueeze_view).onnx("Unsqueeze");
  r.def("diagonal").view(diagonal_view);
}

}  // namespace tenflowers
