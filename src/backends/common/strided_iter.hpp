#pragma once
// The iteration space every backend's elementwise-style kernels walk: operands (output first)
// broadcast to one shape (stride 0 on broadcast axes), with extent-1 axes dropped and adjacent
// axes merged where every operand is contiguous across them. Strides are in bytes.
#include <array>
#include <cstdint>

#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

template <size_t N>
struct StridedIter {
  Dims shape;                   // coalesced iteration shape (rank >= 1)
  std::array<Dims, N> strides;  // byte strides per operand, same rank as shape
  std::array<char*, N> base{};  // address of element 0 per operand
  int64_t numel() const { return shape.numel(); }
};

// Byte strides of `t` viewed with the iteration shape `shape` (right-aligned broadcasting).
inline Dims broadcast_byte_strides(const Tensor& t, const Dims& shape) {
  Dims out(shape.size(), 0);
  const size_t lead = shape.size() - t.shape().size();
  const auto elem = static_cast<int64_t>(dtype_size(t.dtype()));
  for (size_t i = 0; i < t.shape().size(); ++i) {
    const int64_t extent = t.shape()[i];
    if (extent == shape[i + lead]) {
      out[i + lead] = extent == 1 ? 0 : t.strides()[i] * elem;
    } else if (extent != 1) {
      throw InternalError("operand shape " + format_dims(t.shape().vec()) +
                          " does not broadcast to " + format_dims(shape.vec()));
    }
  }
  return out;
}

template <size_t N>
StridedIter<N> make_iter(const Dims& shape, const std::array<const Tensor*, N>& operands) {
  StridedIter<N> it;
  std::array<Dims, N> strides;
  for (size_t k = 0; k < N; ++k) {
    strides[k] = broadcast_byte_strides(*operands[k], shape);
    it.base[k] = static_cast<char*>(operands[k]->data_ptr());
  }
  // Drop extent-1 axes, then merge axis i into i+1 when every operand allows it.
  Dims merged_shape;
  std::array<Dims, N> merged;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    bool can_merge = !merged_shape.empty();
    for (size_t k = 0; k < N && can_merge; ++k) {
      can_merge = merged[k].back() == strides[k][i] * shape[i];
    }
    if (can_merge) {
      merged_shape[merged_shape.size() - 1] *= shape[i];
      for (size_t k = 0; k < N; ++k) merged[k][merged[k].size() - 1] = strides[k][i];
    } else {
      merged_shape.push_back(shape[i]);
      for (size_t k = 0; k < N; ++k) merged[k].push_back(strides[k][i]);
    }
  }
  if (merged_shape.empty()) {
    merged_shape.push_back(shape.numel() == 0 ? 0 : 1);
    for (size_t k = 0; k < N; ++k) merged[k].push_back(0);
  }
  if (shape.numel() == 0) merged_shape = Dims{0};
  it.shape = std::move(merged_shape);
  for (size_t k = 0; k < N; ++k) {
    it.strides[k] = std::move(merged[k]);
    if (it.strides[k].size() != it.shape.size()) it.strides[k].resize(it.shape.size(), 0);
  }
  return it;
}

}  // namespace tenflowers
