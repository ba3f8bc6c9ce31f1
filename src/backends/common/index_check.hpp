#pragma once
// What every backend's indexing kernels share on the host: views that walk a tensor with another
// geometry, the extent and stride of an indexed axis, and the IndexError raised for an
// out-of-range index, worded the same on every device.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// Another geometry over `base`'s storage, used only inside a kernel so the strided iterator can
// walk a tensor "as if" it had the iteration shape (e.g. with the indexed axis' stride zeroed).
inline Tensor restrided(const Tensor& base, Dims shape, Dims strides) {
  return Tensor(
      std::make_shared<TensorImpl>(TensorImpl{base.storage(), std::move(shape), std::move(strides),
                                              base.offset(), base.dtype(), base.device(), 0}));
}

inline int64_t byte_stride(const Tensor& t, int64_t axis) {
  return t.strides()[static_cast<size_t>(axis)] * static_cast<int64_t>(dtype_size(t.dtype()));
}

// x viewed with `shape`, its `axis` stride zeroed (a 0-d x has no axis: its one element).
inline Tensor along_axis_view(const Tensor& x, int64_t axis, const Dims& shape) {
  Dims strides = x.strides();
  if (x.rank() > 0) strides[static_cast<size_t>(axis)] = 0;
  return restrided(x, shape, std::move(strides));
}

// The extent and byte stride of an indexed (or sorted) axis; a 0-d tensor acts as one element
// along it.
inline int64_t axis_extent(const Tensor& x, int64_t axis) {
  return x.rank() == 0 ? 1 : x.shape()[static_cast<size_t>(axis)];
}
inline int64_t axis_bytes(const Tensor& x, int64_t axis) {
  return x.rank() == 0 ? 0 : byte_stride(x, axis);
}

// What completes "out of range ..." for an index along an axis.
inline std::string axis_range(int64_t axis, int64_t extent) {
  return "for axis " + std::to_string(axis) + " of extent " + std::to_string(extent);
}

// The multi-index of row-major position `linear` in `index`'s shape, and its element offset
// (relative to data_ptr) through index's strides.
inline std::pair<std::vector<int64_t>, int64_t> locate(const Tensor& index, int64_t linear) {
  std::vector<int64_t> position(index.shape().size());
  int64_t offset = 0;
  for (size_t d = position.size(); d-- > 0;) {
    position[d] = linear % index.shape()[d];
    linear /= index.shape()[d];
    offset += position[d] * index.strides()[d];
  }
  return {std::move(position), offset};
}

// Reports the first bad index (row-major) by its position and value; `what` completes "out of
// range ..." (e.g. "for axis 1 of extent 4"), [low, high) is the valid range.
[[noreturn]] inline void throw_index_out_of_range(int64_t value,
                                                  const std::vector<int64_t>& position, int64_t low,
                                                  int64_t high, const std::string& what) {
  const std::string valid =
      high > low ? "(expected " + std::to_string(low) + " <= index < " + std::to_string(high) + ")"
                 : "(no index is valid: the extent is 0)";
  throw IndexError("index value " + std::to_string(value) + " at position " +
                   format_dims(position) + " is out of range " + what + " " + valid);
}

}  // namespace tenflowers
