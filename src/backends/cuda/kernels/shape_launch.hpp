#pragma once
// The interface of pad, sort and topk (shape.cu). concat needs no kernel of its own: it runs
// the cast kernel into each input's region of the output.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "src/backends/cuda/kernels/index_launch.hpp"

namespace tenflowers::cuda {

// pad: out (contiguous, out_sizes) element o at multi-index (o_0..o_{ndim-1}) reads input
// coordinates i_d = o_d - before[d] (byte strides in_strides); where some i_d falls outside
// [0, in_sizes[d]) it holds fill_bits, or in reflect mode the input at every coordinate reflected
// (i < 0 to -i, i >= n to 2 (n - 1) - i).
struct PadArgs {
  int ndim = 0;
  int64_t out_sizes[kMaxDims] = {};
  int64_t in_sizes[kMaxDims] = {};
  int64_t in_strides[kMaxDims] = {};
  int64_t before[kMaxDims] = {};
  bool reflect = false;
  uint64_t fill_bits = 0;
  int64_t numel = 0;
  const void* in = nullptr;
  void* out = nullptr;
  cudaStream_t stream = nullptr;
};
const char* launch_pad(size_t elem_bytes, const PadArgs& args);

// sort and topk over `lines` lines of `length` elements along an axis: the walk's operands x,
// values and indices (i64) are positioned at each line's start, and each line steps by x_step,
// values_step and indices_step bytes. The first `count` elements of each line's order are
// written.
struct LinesArgs {
  Walk walk;
  int64_t lines = 0;
  int64_t length = 0;
  int64_t count = 0;
  const void* x = nullptr;
  void* values = nullptr;
  void* indices = nullptr;
  int64_t x_step = 0;
  int64_t values_step = 0;
  int64_t indices_step = 0;
  bool descending = false;
  cudaStream_t stream = nullptr;
};

// Sort keys are unsigned integers of 8 bytes for 8-byte elements, else of 4: narrower keys would
// double the sort's compile time for little speed.
inline constexpr size_t sort_key_bytes(size_t elem_bytes) {
  return elem_bytes == 8 ? 8 : 4;
}
// Writes the key of line l's element i to keys[l * length + i] (ordered like the values: NaN
// above every number, -0 tied with 0, inverted when descending), positions[l * length + i] = i,
// and segment_offsets[l] = l * length for l <= lines.
const char* launch_sort_keys(DType dtype, const LinesArgs& args, void* keys, int64_t* positions,
                             int64_t* segment_offsets);
// Writes each line's first `count` positions of `sorted` (as sorted by launch_segmented_sort)
// to indices, and the elements of x there to values.
const char* launch_sort_gather(size_t elem_bytes, const LinesArgs& args, const int64_t* sorted);

// A stable sort of (key, value) pairs in each of `segments` runs, run s being
// [offsets[s], offsets[s + 1]); keys are unsigned integers of key_bytes bytes (4 or 8). Also
// what permutation sorts its random keys with.
struct SegmentedSortArgs {
  size_t key_bytes = 0;
  const void* keys_in = nullptr;
  void* keys_out = nullptr;
  const int64_t* values_in = nullptr;
  int64_t* values_out = nullptr;
  int64_t numel = 0;
  int64_t segments = 0;
  const int64_t* offsets = nullptr;
  cudaStream_t stream = nullptr;
};
size_t segmented_sort_scratch_bytes(const SegmentedSortArgs& args);
const char* launch_segmented_sort(const SegmentedSortArgs& args, void* scratch,
                                  size_t scratch_bytes);

}  // namespace tenflowers::cuda
