// Public view and layout functions: reshape, transpose, slicing, broadcasting, cast.
#include <numeric>

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

bool can_view_as(const Tensor& x, const Dims& shape);                          // ops/views.cpp
Dims resolve_reshape_shape(const Dims& from, const std::vector<int64_t>& to);  // ops/views.cpp

Tensor Tensor::reshape(Dims shape) const {
  const Dims resolved = resolve_reshape_shape(this->shape(), shape.vec());
  const Tensor source = can_view_as(*this, resolved) ? *this : copy();
  return dispatch1(TF_OP("reshape_view"), {source}, Attrs{{"shape", resolved.vec()}});
}

Tensor Tensor::flatten(int64_t start_axis, int64_t end_axis) const {
  if (rank() == 0) return reshape({1});
  const int64_t start = normalize_axis(start_axis, rank());
  const int64_t end = normalize_axis(end_axis, rank());
  TF_CHECK(start <= end, InvalidArgument, "flatten: start axis ", start, " is after end axis ",
           end);
  Dims shape;
  for (int64_t i = 0; i < start; ++i) shape.push_back(this->shape()[i]);
  int64_t merged = 1;
  for (int64_t i = start; i <= end; ++i) merged *= this->shape()[i];
  shape.push_back(merged);
  for (int64_t i = end + 1; i < rank(); ++i) shape.push_back(this->shape()[i]);
  return reshape(shape);
}

Tensor Tensor::permute(Dims axes) const {
  return dispatch1(TF_OP("permute"), {*this}, Attrs{{"axes", axes.vec()}});
}

Tensor Tensor::transpose(int64_t axis0, int64_t axis1) const {
  TF_CHECK(rank() >= 2 || (rank() == 1 && (axis0 == -2 || axis0 == 0)), ShapeError,
           "transpose: expected a tensor of rank >= 2, got shape ", shape());
  if (rank() < 2) return *this;
  std::vector<int64_t> axes(static_cast<size_t>(rank()));
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[static_cast<size_t>(normalize_axis(axis0, rank()))],
            axes[static_cast<size_t>(normalize_axis(axis1, rank()))]);
  return permute(Dims(axes));
}

Tensor Tensor::slice(int64_t axis, std::optional<int64_t> start, std::optional<int64_t> stop,
                     int64_t step) const {
  Attrs attrs{{"axis", axis}, {"step", step}};
  if (start) attrs.set("start", *start);
  if (stop) attrs.set("stop", *stop);
  return dispatch1(TF_OP("slice"), {*this}, attrs);
}

Tensor Tensor::narrow(int64_t axis, int64_t start, int64_t length) const {
  const int64_t extent = size(axis);
  if (start < 0) start += extent;
  TF_CHECK(start >= 0 && length >= 0 && start + length <= extent, IndexError, "narrow: [", start,
           ", ", start + length, ") is outside axis ", axis, " of extent ", extent);
  return slice(axis, start, start + length);
}

Tensor Tensor::select(int64_t axis, int64_t index) const {
  return dispatch1(TF_OP("select"), {*this}, Attrs{{"axis", axis}, {"index", index}});
}

Tensor Tensor::expand(Dims shape) const {
  return dispatch1(TF_OP("expand"), {*this}, Attrs{{"shape", shape.vec()}});
}

Tensor Tensor::broadcast_to(Dims shape) const {
  for (int64_t d : shape) {
    TF_CHECK(d >= 0, ShapeError, "broadcast_to: invalid target shape ", shape);
  }
  return expand(std::move(shape));
}

Tensor Tensor::squeeze(std::optional<std::vector<int64_t>> axes) const {
  Attrs attrs;
  if (axes) attrs.set("axes", *axes);
  return dispatch1(TF_OP("squeeze"), {*this}, attrs);
}

Tensor Tensor::unsqueeze(int64_t axis) const {
  return dispatch1(TF_OP("unsqueeze"), {*this}, Attrs{{"axis", axis}});
}

Tensor Tensor::diagonal(int64_t offset, int64_t axis0, int64_t axis1) const {
  return dispatch1(TF_OP("diagonal"), {*this},
                   Attrs{{"offset", offset}, {"axis0", axis0}, {"axis1", axis1}});
}

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  return dispatch1(TF_OP("cast"), {x}, Attrs{{"dtype", dtype}});
}

Tensor Tensor::cast(DType dtype) const {
  return tenflowers::cast(*this, dtype);
}

}  // namespace tenflowers
