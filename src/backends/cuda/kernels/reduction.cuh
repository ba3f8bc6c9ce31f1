#pragma once
// Lanes of an [outer, length, inner] view (reduction_launch.hpp) spread over thread blocks, for
// the reduction, softmax and scan kernels. Two layouts:
//   rows (inner == 1): each lane is contiguous; `parts` adjacent threads (threadIdx.x) walk it
//     together and a block holds blockDim.y lanes;
//   columns: a block holds blockDim.x consecutive lanes (threadIdx.x, so loads coalesce across
//     lanes) and blockDim.y threads walk each lane together.
// The threads of a lane then combine their values pairwise in shared memory.
#include <algorithm>

#include "src/backends/cuda/kernels/elementwise.cuh"
#include "src/backends/cuda/kernels/reduction_launch.hpp"

namespace tenflowers::cuda {

inline constexpr unsigned kLaneBlockThreads = 256;  // threads of a block (wide rows take kMaxParts)
inline constexpr unsigned kMaxParts = 512;          // threads walking one row

struct LaneGrid {
  unsigned bx = 1, by = 1;
  int64_t blocks = 0;
};

// Each thread of a lane takes about `per_thread` elements or more.
inline LaneGrid lane_grid(const AxisView& v, int64_t per_thread) {
  LaneGrid g;
  if (v.inner == 1) {
    while (g.bx < kMaxParts && g.bx * per_thread < v.length) g.bx *= 2;
    g.by = std::max(1u, kLaneBlockThreads / g.bx);
    g.blocks = (v.outer + g.by - 1) / g.by;
  } else {
    const int64_t lanes = v.outer * v.inner;
    while (g.bx < 32 && g.bx < lanes) g.bx *= 2;
    while (g.bx * g.by < kLaneBlockThreads && g.by * per_thread < v.length) g.by *= 2;
    while (g.bx * g.by < kLaneBlockThreads && g.bx < lanes) g.bx *= 2;  // short lanes
    g.blocks = (lanes + g.bx - 1) / g.bx;
  }
  return g;
}

struct LanePos {
  int64_t lane;     // o * inner + j
  int64_t first;    // element offset of the lane's position 0
  int64_t stride;   // between positions along the lane
  bool valid;       // the block's last lanes may lie past the end
  int part, parts;  // this thread among those walking the lane (parts is a power of two)
  int slot;         // this thread's shared-memory slot
  int part_stride;  // between the slots of consecutive parts
};

__device__ __forceinline__ LanePos lane_position(const AxisView& v) {
  LanePos p;
  p.slot = static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
  if (v.inner == 1) {
    p.lane = int64_t{blockIdx.x} * blockDim.y + threadIdx.y;
    p.valid = p.lane < v.outer;
    p.first = p.lane * v.length;
    p.stride = 1;
    p.part = static_cast<int>(threadIdx.x);
    p.parts = static_cast<int>(blockDim.x);
    p.part_stride = 1;
  } else {
    p.lane = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
    p.valid = p.lane < v.outer * v.inner;
    p.first = p.lane / v.inner * v.length * v.inner + p.lane % v.inner;
    p.stride = v.inner;
    p.part = static_cast<int>(threadIdx.y);
    p.parts = static_cast<int>(blockDim.y);
    p.part_stride = static_cast<int>(blockDim.x);
  }
  return p;
}

// Combines the values of each lane's parts pairwise, part k with part k + half (so merge sees
// the earlier positions first); every part gets the result. Every thread of the block calls
// it; it ends with a barrier, so `shared` (one slot per thread) can be used again at once.
template <class V, class Merge>
__device__ V combine_parts(V value, V* shared, const LanePos& p, Merge merge) {
  if (p.parts == 1) return value;
  shared[p.slot] = value;
  __syncthreads();
  for (int half = p.parts / 2; half > 0; half /= 2) {
    if (p.part < half)
      shared[p.slot] = merge(shared[p.slot], shared[p.slot + half * p.part_stride]);
    __syncthreads();
  }
  value = shared[p.slot - p.part * p.part_stride];
  __syncthreads();
  return value;
}

}  // namespace tenflowers::cuda
