#pragma once
// Strided N-operand iteration for CPU kernels over a StridedIter (strided_iter.hpp): the work
// is split across threads in rows of the innermost axis.
// A kernel supplies a row function: row(ptrs, byte_strides, count) handles `count` elements
// starting at ptrs[k] and stepping byte_strides[k]; it can test the strides for a contiguous
// fast path.
#include <array>
#include <cstdint>

#include "src/backends/common/strided_iter.hpp"
#include "src/backends/cpu/parallel.hpp"

namespace tenflowers::cpu {

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
