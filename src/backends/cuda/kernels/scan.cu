// cumsum and cumprod along the lanes of [outer, length, inner], with the CPU kernel's
// accumulators (src/backends/cpu/shape_scan.cpp): i64 wraps around in 64-bit unsigned
// arithmetic, f16/bf16 accumulate in f32, f32 and f64 in f64. A row (inner == 1) is scanned a
// chunk of its threads' width at a time, by warp shuffles and then across the warps' totals,
// carrying the running total from chunk to chunk. Columns are scanned serially, one thread per
// lane, so that loads coalesce across lanes.
#include "src/backends/cuda/kernels/reduction.cuh"

namespace tenflowers::cuda {
namespace {

constexpr int64_t kMinPerThread = 4;  // elements of a row per thread before it gets more threads
constexpr unsigned kFullMask = 0xffffffffu;

template <class T>
using scan_acc_t = std::conditional_t<
    std::is_integral_v<T>, unsigned long long,
    std::conditional_t<std::is_same_v<T, float> || std::is_same_v<T, double>, double, float>>;

template <bool kProduct, class A>
__device__ __forceinline__ A combine(A a, A b) {
  return kProduct ? a * b : a + b;
}

// Every thread of the block runs every chunk (the shuffles and barriers need them all); threads
// past a lane's end or of a lane past the last contribute the identity.
template <class T, bool kProduct>
__global__ void __launch_bounds__(kMaxParts)
    scan_rows(const T* __restrict__ in, T* __restrict__ out, AxisView view) {
  using A = scan_acc_t<T>;
  constexpr A kIdentity = A(kProduct ? 1 : 0);
  __shared__ A warp_totals[kMaxParts / 32];
  const LanePos p = lane_position(view);
  const int width = p.parts < 32 ? p.parts : 32;  // threads of a lane within one warp
  const int lane_in_warp = p.part % width;
  A carry = kIdentity;
  for (int64_t start = 0; start < view.length; start += p.parts) {
    const int64_t r = start + p.part;
    const bool live = p.valid && r < view.length;
    A v = live ? convert<A>(in[p.first + r]) : kIdentity;
    for (int d = 1; d < width; d *= 2) {
      const A before = __shfl_up_sync(kFullMask, v, d, width);
      if (lane_in_warp >= d) v = combine<kProduct>(before, v);
    }
    A total;
    if (p.parts <= 32) {
      total = __shfl_sync(kFullMask, v, width - 1, width);
    } else {
      const int warps = p.parts / 32, warp = p.part / 32;
      A* totals = warp_totals + threadIdx.y * warps;
      if (lane_in_warp == 31) totals[warp] = v;
      __syncthreads();
      A before = kIdentity;
      total = kIdentity;
      for (int w = 0; w < warps; ++w) {
        if (w == warp) before = total;
        total = combine<kProduct>(total, totals[w]);
      }
      v = combine<kProduct>(before, v);
      __syncthreads();
    }
    if (live) out[p.first + r] = narrow<T>(combine<kProduct>(carry, v));
    carry = combine<kProduct>(carry, total);
  }
}

template <class T, bool kProduct>
__global__ void __launch_bounds__(kThreads)
    scan_columns(const T* __restrict__ in, T* __restrict__ out, AxisView view) {
  using A = scan_acc_t<T>;
  const int64_t lanes = view.outer * view.inner;
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t lane = int64_t{blockIdx.x} * kThreads + threadIdx.x; lane < lanes; lane += step) {
    const int64_t first = lane / view.inner * view.length * view.inner + lane % view.inner;
    A acc = A(kProduct ? 1 : 0);
    for (int64_t r = 0; r < view.length; ++r) {
      const int64_t i = first + r * view.inner;
      acc = combine<kProduct>(acc, convert<A>(in[i]));
      out[i] = narrow<T>(acc);
    }
  }
}

template <bool kProduct>
const char* scan(DType type, AxisView view, const void* in, void* out, cudaStream_t stream,
                 const char* name) {
  return with_type(type, TypeList<int64_t, __half, __nv_bfloat16, float, double>{}, [&](auto t) {
    using T = decltype(t);
    const int64_t lanes = view.outer * view.inner;
    if (lanes == 0 || view.length == 0) return name;
    const T* x = static_cast<const T*>(in);
    T* y = static_cast<T*>(out);
    if (view.inner == 1) {
      const LaneGrid g = lane_grid(view, kMinPerThread);
      scan_rows<T, kProduct>
          <<<static_cast<unsigned>(g.blocks), dim3(g.bx, g.by), 0, stream>>>(x, y, view);
    } else {
      scan_columns<T, kProduct><<<grid_for(lanes), kThreads, 0, stream>>>(x, y, view);
    }
    return name;
  });
}

}  // namespace

const char* launch_scan(bool product, DType type, AxisView view, const void* in, void* out,
                        cudaStream_t stream) {
  return product ? scan<true>(type, view, in, out, stream, "cumprod")
                 : scan<false>(type, view, in, out, stream, "cumsum");
}

}  // namespace tenflowers::cuda
