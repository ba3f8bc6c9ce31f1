// View ops: the output shares the input's storage with new shape, strides and offset.
#include <algorithm>
#include <numeric>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

Tensor make_view(const Tensor& base, Dims shape, Dims strides, int64_t offset) {
  return Tensor(TensorImpl::create(base.storage(), std::move(shape), std::move(strides), offset,
                                   base.dtype(), base.device()));
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

struct SliceSpec {
  size_t axis;
  int64_t start, count, step;
};

// Python slice semantics with clamping, shared by the view and its gradient.
SliceSpec resolve_slice(const Dims& shape, const Attrs& attrs) {
  TF_CHECK(!shape.empty(), IndexError, "slice: cannot slice a 0-d tensor");
  const auto axis = static_cast<size_t>(
      normalize_axis(attrs.get_int("axis"), static_cast<int64_t>(shape.size())));
  const int64_t step = attrs.get_int_or("step", 1);
  TF_CHECK(step != 0, InvalidArgument, "slice: step must not be 0");
  const int64_t extent = shape[axis];
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
  return {axis, count > 0 ? start : 0, count, step};
}

std::vector<Tensor> slice_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  const SliceSpec spec = resolve_slice(x.shape(), attrs);
  Dims shape = x.shape(), strides = x.strides();
  shape[spec.axis] = spec.count;
  strides[spec.axis] = x.strides()[spec.axis] * spec.step;
  return {make_view(x, std::move(shape), std::move(strides),
                    x.offset() + spec.start * x.strides()[spec.axis])};
}

// split: consecutive windows of one axis with the given extents, as views.
std::vector<Tensor> split_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& x = in[0];
  TF_CHECK(x.rank() > 0, ShapeError, "split: cannot split a 0-d tensor");
  const auto axis = static_cast<size_t>(normalize_axis(attrs.get_int("axis"), x.rank()));
  const std::vector<int64_t>& sizes = attrs.get_ints("sizes");
  int64_t total = 0;
  for (int64_t s : sizes) {
    TF_CHECK(s >= 0, InvalidArgument, "split: sizes must be >= 0, got ", format_dims(sizes));
    total += s;
  }
  TF_CHECK(total == x.shape()[axis], ShapeError, "split: sizes ", format_dims(sizes), " sum to ",
           total, " but axis ", axis, " has extent ", x.shape()[axis],
           " (expected them to sum to the extent)");
  std::vector<Tensor> parts;
  parts.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t s : sizes) {
    Dims shape = x.shape();
    shape[axis] = s;
    parts.push_back(make_view(x, std::move(shape), x.strides(),
                              x.offset() + (s > 0 ? start * x.strides()[axis] : 0)));
    start += s;
  }
  return parts;
}

// The parts' gradients joined by one concat (zeros for parts that received none), rather than
// each scattered into a zero tensor of the input's size and the results summed.
std::vector<Tensor> split_grad(const GradContext& c) {
  const Tensor& x = c.inputs[0];
  std::vector<Tensor> parts;
  parts.reserve(c.outputs.size());
  bool any = false;
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    const Tensor& g = c.output_grads[i];
    any = any || g.defined();
    parts.push_back(g.defined() ? g : zeros(c.outputs[i].shape(), x.dtype(), x.device()));
  }
  if (!any) return {Tensor()};
  return {concat(parts, c.attrs.get_int("axis"))};
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

// as_strided addresses the input as if it were contiguous (row-major): `strides` and `offset`
// are in elements of that layout. The view must stay inside the input and must not overlap
// itself, so that its gradient (as_strided_scatter) writes each input element at most once.
void check_strided_window(const Dims& base, const Dims& shape, const Dims& strides,
                          int64_t offset) {
  TF_CHECK(shape.size() == strides.size(), ShapeError, "as_strided: ", strides.size(),
           " strides for a shape of rank ", shape.size());
  if (shape.numel() == 0) return;
  int64_t last = offset;
  std::vector<std::pair<int64_t, int64_t>> axes;  // (stride, extent) of axes with extent > 1
  for (size_t i = 0; i < shape.size(); ++i) {
    TF_CHECK(shape[i] >= 0 && strides[i] >= 0, InvalidArgument,
             "as_strided: extents and strides must be non-negative");
    last += (shape[i] - 1) * strides[i];
    if (shape[i] > 1) axes.emplace_back(strides[i], shape[i]);
  }
  TF_CHECK(offset >= 0 && last < base.numel(), IndexError, "as_strided: the window [", offset, ", ",
           last, "] leaves a base of ", base.numel(), " elements");
  // Nested strides (each at least the span of the smaller ones) cannot overlap; anything else
  // is checked exactly by marking every element the window touches.
  std::sort(axes.begin(), axes.end());
  bool nested = true;
  int64_t span = 1;
  for (const auto& [stride, extent] : axes) {
    nested = nested && stride >= span;
    span = std::max(span, stride * extent);
  }
  if (nested) return;
  std::vector<bool> touched(static_cast<size_t>(base.numel()), false);
  Dims index(shape.size(), 0);
  for (int64_t n = 0; n < shape.numel(); ++n) {
    int64_t at = offset;
    for (size_t d = 0; d < shape.size(); ++d) at += index[d] * strides[d];
    TF_CHECK(!touched[static_cast<size_t>(at)], InvalidArgument,
             "as_strided: the window overlaps itself (element ", at, " is reached twice)");
    touched[static_cast<size_t>(at)] = true;
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

std::vector<Tensor> as_strided_view(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor x = in[0].contiguous();
  Dims shape(attrs.get_ints("shape")), strides(attrs.get_ints("strides"));
  const int64_t offset = attrs.get_int("offset");
  check_strided_window(x.shape(), shape, strides, offset);
  return {make_view(x, std::move(shape), std::move(strides), x.offset() + offset)};
}

// Zeros of the base shape with `src` written through the as_strided window.
std::vector<Tensor> as_strided_scatter_direct(std::span<const Tensor> in, const Attrs& attrs) {
  const Tensor& src = in[0];
  const Dims base(attrs.get_ints("base_shape"));
  const Dims strides(attrs.get_ints("strides"));
  const int64_t offset = attrs.get_int("offset");
  check_strided_window(base, src.shape(), strides, offset);
  Tensor out = zeros(base, src.dtype(), src.device());
  Tensor window = make_view(out, src.shape(), strides, offset);
  const KernelEntry& copy = registry().get("copy").kernel(src.device().type);
  TF_CHECK(static_cast<bool>(copy), UnsupportedError, "no copy kernel on ", src.device().str());
  KernelContext ctx{registry().get("copy"), in, attrs, std::span<Tensor>(&window, 1), src.device()};
  copy.fn(ctx);
  return {out};
}

// Row-major strides of `shape`, the layout as_strided windows are expressed in.
Dims layout_of(const Tensor& x) {
  return contiguous_strides(x.shape());
}

Tensor scatter_window(const Tensor& grad, const Tensor& base, Dims strides, int64_t offset) {
  return as_strided_scatter(grad, base.shape(), std::move(strides), offset);
}

// The tangent of a view is the same view of the tangent.
std::vector<Tensor> same_view_of_tangent(const JvpContext& ctx) {
  return {dispatch1(ctx.op, {ctx.input_tangents[0]}, ctx.attrs)};
}

std::vector<Tensor> slice_grad(const GradContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const SliceSpec spec = resolve_slice(x.shape(), ctx.attrs);
  Dims strides = layout_of(x);
  const int64_t offset = spec.start * strides[spec.axis];
  strides[spec.axis] *= spec.step;
  if (spec.step < 0) {
    // Negative steps walk backwards; the window starts at the last element instead.
    strides[spec.axis] = -strides[spec.axis];
    const Tensor forward = ctx.output_grads[0].slice(static_cast<int64_t>(spec.axis), {}, {}, -1);
    const int64_t first = spec.start + (spec.count - 1) * spec.step;
    return {scatter_window(forward, x, strides, first * layout_of(x)[spec.axis])};
  }
  return {scatter_window(ctx.output_grads[0], x, strides, offset)};
}

}  // namespace

bool can_view_as(const Tensor& x, const Dims& shape) {
  Dims strides;
  return view_strides(x.shape(), x.strides(), shape, strides);
}

Dims resolve_reshape_shape(const Dims& from, const std::vector<int64_t>& to) {
  return resolve_reshape(from, to);
}

Tensor as_strided(const Tensor& x, Dims shape, Dims strides, int64_t offset) {
  return dispatch1(registry().get("as_strided"), {x},
                   Attrs{{"shape", shape.vec()}, {"strides", strides.vec()}, {"offset", offset}});
}

Tensor as_strided_scatter(const Tensor& src, Dims base_shape, Dims strides, int64_t offset) {
  return dispatch1(
      registry().get("as_strided_scatter"), {src},
      Attrs{{"base_shape", base_shape.vec()}, {"strides", strides.vec()}, {"offset", offset}});
}

void register_view_ops(OpRegistry& r) {
  r.def("reshape_view")
      .view(reshape_view)
      .grad([](const GradContext& c) {
        return std::vector{c.output_grads[0].reshape(c.inputs[0].shape())};
      })
      .jvp(same_view_of_tangent)
      .onnx("Reshape");
  r.def("permute")
      .view(permute_view)
      .grad([](const GradContext& c) {
        const std::vector<int64_t>& axes = c.attrs.get_ints("axes");
        Dims inverse(axes.size());
        for (size_t i = 0; i < axes.size(); ++i) {
          inverse[static_cast<size_t>(normalize_axis(axes[i], static_cast<int64_t>(axes.size())))] =
              static_cast<int64_t>(i);
        }
        return std::vector{c.output_grads[0].permute(inverse)};
      })
      .jvp(same_view_of_tangent)
      .onnx("Transpose");
  r.def("slice").view(slice_view).grad(slice_grad).jvp(same_view_of_tangent).onnx("Slice");
  r.def("split")
      .view(split_view)
      .grad(split_grad)
      .jvp([](const JvpContext& c) { return dispatch(c.op, c.input_tangents.first(1), c.attrs); })
      .onnx("Split");
  r.def("select")
      .view(select_view)
      .grad([](const GradContext& c) {
        const Tensor& x = c.inputs[0];
        const auto axis = static_cast<size_t>(normalize_axis(c.attrs.get_int("axis"), x.rank()));
        int64_t index = c.attrs.get_int("index");
        if (index < 0) index += x.shape()[axis];
        Dims strides = layout_of(x);
        const int64_t offset = index * strides[axis];
        strides.erase(axis);
        return std::vector{scatter_window(c.output_grads[0], x, strides, offset)};
      })
      .jvp(same_view_of_tangent)
      .onnx("Gather");
  r.def("expand")
      .view(expand_view)
      .grad([](const GradContext& c) {
        return std::vector{sum_to(c.output_grads[0], c.inputs[0].shape())};
      })
      .jvp(same_view_of_tangent)
      .onnx("Expand");
  auto reshape_back = [](const GradContext& c) {
    return std::vector{c.output_grads[0].reshape(c.inputs[0].shape())};
  };
  r.def("squeeze").view(squeeze_view).grad(reshape_back).jvp(same_view_of_tangent).onnx("Squeeze");
  r.def("unsqueeze")
      .view(unsqueeze_view)
      .grad(reshape_back)
      .jvp(same_view_of_tangent)
      .onnx("Unsqueeze");
  r.def("diagonal")
      .view(diagonal_view)
      .grad([](const GradContext& c) {
        const Tensor& x = c.inputs[0];
        const auto a0 = static_cast<size_t>(normalize_axis(c.attrs.get_int("axis0"), x.rank()));
        const auto a1 = static_cast<size_t>(normalize_axis(c.attrs.get_int("axis1"), x.rank()));
        const int64_t k = c.attrs.get_int("offset");
        const Dims layout = layout_of(x);
        Dims strides;
        for (size_t i = 0; i < layout.size(); ++i) {
          if (i != a0 && i != a1) strides.push_back(layout[i]);
        }
        strides.push_back(layout[a0] + layout[a1]);
        const int64_t length = c.output_grads[0].shape().back();
        const int64_t offset = length == 0 ? 0 : (k >= 0 ? k * layout[a1] : -k * layout[a0]);
        return std::vector{scatter_window(c.output_grads[0], x, strides, offset)};
      })
      .jvp(same_view_of_tangent);
  r.def("as_strided")
      .view(as_strided_view)
      .grad([](const GradContext& c) {
        return std::vector{as_strided_scatter(c.output_grads[0], c.inputs[0].shape(),
                                              Dims(c.attrs.get_ints("strides")),
                                              c.attrs.get_int("offset"))};
      })
      .jvp(same_view_of_tangent);
  r.def("as_strided_scatter")
      .direct(as_strided_scatter_direct)
      .grad([](const GradContext& c) {
        return std::vector{as_strided(c.output_grads[0], c.inputs[0].shape(),
                                      Dims(c.attrs.get_ints("strides")),
                                      c.attrs.get_int("offset"))};
      })
      .jvp(same_view_of_tangent);
  // Identity to the values, a wall to gradients and tangents.
  r.def("stop_gradient")
      .view([](std::span<const Tensor> in, const Attrs&) {
        return std::vector<Tensor>{in[0].view()};
      })
      .stops_gradient()
      .onnx("Identity");
}

}  // namespace tenflowers
