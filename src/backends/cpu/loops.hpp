#pragma once
// Strided N-operand iteration for CPU kernels. Operands (output first) are broadcast to the
// iteration shape (stride 0 on broadcast axes), adjacent axes that are contiguous for every
// operand are merged, and the work is split across threads in rows of the innermost axis.
// A kernel supplies a row function: row(ptrs, byte_strides, count) handles `count` elements
// starting at ptrs[k] and stepping byte_strides[k]; it can test the strides for a contiguous
// fast path.
#include <array>
#include <cstdint>

#include "src/backends/cpu/parallel.hpp"
#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {

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

// Runs row() over linear elements [begin, end) of the iteration space.
template <size_t N, class Row>
void for_each_row(const StridedIter<N>& it, int64_t begin, int64_t end, Row& row) {
  const size_t rank = it.shape.size();
  const int64_t inner = it.shape[rank - 1];
  if (inner == 0 || begin >= end) return;
  Dims index(rank, 0);
  int64_t rem = begin;
  for (size_t d = rank; d-- > 0;) {
    index[d] = rem % it.shape[d];
    rem /= it.shape[d];
  }
  std::array<char*, N> ptrs;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = it.strides[k][rank - 1];
  int64_t pos = begin;
  while (pos < end) {
    for (size_t k = 0; k < N; ++k) {
      char* p = it.base[k];
      for (size_t d = 0; d < rank; ++d) p += index[d] * it.strides[k][d];
      ptrs[k] = p;
    }
    const int64_t count = std::min(inner - index[rank - 1], end - pos);
    row(ptrs, inner_strides, count);
    pos += count;
    index[rank - 1] += count;
    for (size_t d = rank - 1; d > 0 && index[d] >= it.shape[d]; --d) {
      index[d] = 0;
      ++index[d - 1];
    }
  }
}

inline constexpr int64_t kDefaultGrain = 32768;

// Splits the iteration space across the thread team; each thread runs whole or partial rows.
template <size_t N, class Row>
void parallel_rows(const StridedIter<N>& it, Row&& row, int64_t grain = kDefaultGrain) {
  parallel_for(0, it.numel(), grain,
               [&](int64_t lo, int64_t hi) { for_each_row(it, lo, hi, row); });
}

}  // namespace tenflowers::cpu
