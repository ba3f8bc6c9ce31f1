#pragma once
// Device side of a Walk (index_launch.hpp): the byte offsets of each operand at a position, the
// unsigned integer that moves an element of a given size, and the grid-stride loop.
#include <cstdint>

#include "src/backends/cuda/kernels/elementwise.cuh"
#include "src/backends/cuda/kernels/index_launch.hpp"

namespace tenflowers::cuda {

// Byte offsets of the first N operands of `walk` at `position`.
template <int N>
__device__ __forceinline__ void walk_offsets(const Walk& walk, int64_t position,
                                             int64_t (&offset)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) offset[k] = 0;
  for (int d = walk.ndim - 1; d >= 0; --d) {
    const int64_t size = walk.sizes[d];
    const int64_t i = position % size;
    position /= size;
#pragma unroll
    for (int k = 0; k < N; ++k) offset[k] += i * walk.byte_strides[k][d];
  }
}

template <class T>
__device__ __forceinline__ T load_at(const void* base, int64_t byte_offset) {
  return *reinterpret_cast<const T*>(static_cast<const char*>(base) + byte_offset);
}

template <class T>
__device__ __forceinline__ void store_at(void* base, int64_t byte_offset, T value) {
  *reinterpret_cast<T*>(static_cast<char*>(base) + byte_offset) = value;
}

// Calls f(i) for i in [0, n), spread over the grid.
template <class F>
__device__ __forceinline__ void grid_stride(int64_t n, F&& f) {
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < n; i += step) f(i);
}

// Calls fn(U{}) for U the unsigned integer of `bytes` bytes; nullptr for other sizes.
template <class Fn>
const char* with_size(size_t bytes, Fn&& fn) {
  switch (bytes) {
    case 1:
      return fn(uint8_t{});
    case 2:
      return fn(uint16_t{});
    case 4:
      return fn(uint32_t{});
    case 8:
      return fn(uint64_t{});
    default:
      return nullptr;
  }
}

using IndexTypes = TypeList<int32_t, int64_t>;

}  // namespace tenflowers::cuda
