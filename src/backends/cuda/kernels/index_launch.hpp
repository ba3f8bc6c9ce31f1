#pragma once
// The interface of the indexing kernels (index.cu), as launch.hpp is for the elementwise ones.
// Pure data movement runs on unsigned integers of the element's size (elem_bytes 1, 2, 4 or 8),
// one instantiation per size rather than per dtype; index tensors are i32 or i64. Every launcher
// returns the kernel's name, or nullptr when no kernel exists for the sizes and dtypes asked.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "src/backends/cuda/kernels/launch.hpp"

namespace tenflowers::cuda {

inline constexpr int kMaxWalkOperands = 3;

// Up to kMaxWalkOperands operands walked together over positions 0..numel-1 of one shape
// (merged by make_iter): position p, whose row-major multi-index over `sizes` is
// (i_0..i_{ndim-1}), puts operand k at its base + sum_d i_d * byte_strides[k][d].
struct Walk {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t byte_strides[kMaxWalkOperands][kMaxDims] = {};
};

// Writes into *first_bad (which the caller set to UINT64_MAX) the least position p of `index`
// (one operand walked over its shape) whose value lies outside [low, high).
const char* launch_find_bad_index(DType index_dtype, const Walk& walk, const void* index,
                                  int64_t numel, int64_t low, int64_t high,
                                  unsigned long long* first_bad, cudaStream_t stream);
// For a replayed CUDA graph, where the host cannot read *first_bad: stops the device (a trap,
// which fails the next synchronizing call and leaves the context unusable, as a device-side
// assert does) when it holds a position, so the kernels after it never use a bad index.
const char* launch_trap_on_bad_index(const unsigned long long* first_bad, cudaStream_t stream);

// gather, take and index_select: operands out, index and source walked over out's shape (the
// source with the indexed axis' stride zeroed); out[p] = source[p + wrap(index[p]) * axis_bytes]
// where wrap adds `extent` to negative indices.
struct GatherArgs {
  Walk walk;
  int64_t numel = 0;
  void* out = nullptr;
  const void* index = nullptr;
  const void* source = nullptr;
  int64_t extent = 0;
  int64_t axis_bytes = 0;
  cudaStream_t stream = nullptr;
};
const char* launch_gather(size_t elem_bytes, DType index_dtype, const GatherArgs& args);

// scatter and scatter_add: operands out (its scattered axis' stride zeroed), index and src walked
// over index's shape; position p targets out[p + wrap(index[p]) * line_bytes]. `out` is
// contiguous and already holds x.
struct ScatterArgs {
  Walk walk;
  int64_t numel = 0;
  void* out = nullptr;
  const void* index = nullptr;
  const void* src = nullptr;
  int64_t extent = 0;
  int64_t line_bytes = 0;
  cudaStream_t stream = nullptr;
};
// Duplicate targets keep the value of the last position along the axis, the greatest p among
// them: `winners` (one zeroed entry per element of out) first collects that p per target.
const char* launch_scatter(size_t elem_bytes, DType index_dtype, const ScatterArgs& args,
                           unsigned long long* winners);
// Adds with atomics in dtype `type` (bool: logical or; integers wrap around).
const char* launch_scatter_add(DType type, DType index_dtype, const ScatterArgs& args);

// out (contiguous, shape index.shape + [depth]) = 1 where the last coordinate equals the index at
// the other coordinates (index walked over its shape, one operand), else 0; zero_bits and
// one_bits hold 0 and 1 in out's dtype.
struct OneHotArgs {
  Walk walk;
  int64_t numel = 0;
  void* out = nullptr;
  const void* index = nullptr;
  int64_t depth = 0;
  uint64_t zero_bits = 0;
  uint64_t one_bits = 0;
  cudaStream_t stream = nullptr;
};
const char* launch_one_hot(size_t elem_bytes, DType index_dtype, const OneHotArgs& args);

// masked_fill: operands out, x and mask (bool) walked over out's shape; out[p] = mask[p] ?
// fill_bits : x[p].
struct MaskedFillArgs {
  Walk walk;
  int64_t numel = 0;
  void* out = nullptr;
  const void* x = nullptr;
  const void* mask = nullptr;
  uint64_t fill_bits = 0;
  cudaStream_t stream = nullptr;
};
const char* launch_masked_fill(size_t elem_bytes, const MaskedFillArgs& args);

// masked_select in two launches around a read-back of the count: operands x and mask walked over
// their broadcast shape. launch_mask_positions writes positions[p] = the number of true mask
// elements at positions <= p (so positions[numel - 1] is the output's length), using `scratch`
// of masked_select_scratch_bytes(numel) bytes; launch_masked_select then copies x[p] to
// out[positions[p] - 1] wherever mask[p].
struct MaskedSelectArgs {
  Walk walk;
  int64_t numel = 0;
  const void* x = nullptr;
  const void* mask = nullptr;
  int64_t* positions = nullptr;
  cudaStream_t stream = nullptr;
};
size_t masked_select_scratch_bytes(int64_t numel);
const char* launch_mask_positions(const MaskedSelectArgs& args, void* scratch,
                                  size_t scratch_bytes);
const char* launch_masked_select(size_t elem_bytes, const MaskedSelectArgs& args, void* out);

}  // namespace tenflowers::cuda
