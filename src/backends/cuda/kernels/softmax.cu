// softmax and log_softmax along the lanes of [outer, length, inner], as the CPU kernel
// (src/backends/cpu/linalg_softmax.cpp): three passes over a lane (its maximum, the sum of the
// shifted exponentials, the outputs), its threads combining their values in shared memory after
// each of the first two. The 16-bit floats compute in f32.
#include <cmath>
#include <limits>

#include "src/backends/cuda/kernels/reduction.cuh"

namespace tenflowers::cuda {
namespace {

constexpr int64_t kMinPerThread = 4;  // elements per thread before a lane gets more threads

// The maximum ignoring NaN; a NaN still reaches every output of its lane through the sum.
template <class C>
__device__ __forceinline__ C greater(C a, C b) {
  return b > a ? b : a;
}

template <class T, bool kLog>
__global__ void __launch_bounds__(kMaxParts)
    softmax_lanes(const T* __restrict__ in, T* __restrict__ out, AxisView view) {
  using C = compute_of<T>;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  C* shared = reinterpret_cast<C*>(shared_bytes);
  const LanePos p = lane_position(view);
  const int64_t n = p.valid ? view.length : 0;
  const T* x = in + (p.valid ? p.first : 0);
  C top = -std::numeric_limits<C>::infinity();
  for (int64_t r = p.part; r < n; r += p.parts) top = greater(top, widen(x[r * p.stride]));
  top = combine_parts(top, shared, p, [](C a, C b) { return greater(a, b); });
  C sum = 0;
  for (int64_t r = p.part; r < n; r += p.parts) sum += std::exp(widen(x[r * p.stride]) - top);
  sum = combine_parts(sum, shared, p, [](C a, C b) { return a + b; });
  T* y = out + (p.valid ? p.first : 0);
  if constexpr (kLog) {
    const C log_sum = std::log(sum);
    for (int64_t r = p.part; r < n; r += p.parts) {
      y[r * p.stride] = narrow<T>((widen(x[r * p.stride]) - top) - log_sum);
    }
  } else {
    const C inv = C(1) / sum;
    for (int64_t r = p.part; r < n; r += p.parts) {
      y[r * p.stride] = narrow<T>(std::exp(widen(x[r * p.stride]) - top) * inv);
    }
  }
}

}  // namespace

const char* launch_softmax(bool log, DType type, AxisView view, const void* in, void* out,
                           cudaStream_t stream) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    const char* name = log ? "log_softmax" : "softmax";
    if (view.outer * view.inner == 0 || view.length == 0) return name;
    const LaneGrid g = lane_grid(view, kMinPerThread);
    auto* kernel = log ? softmax_lanes<T, true> : softmax_lanes<T, false>;
    kernel<<<static_cast<unsigned>(g.blocks), dim3(g.bx, g.by), g.bx * g.by * sizeof(compute_of<T>),
             stream>>>(static_cast<const T*>(in), static_cast<T*>(out), view);
    return name;
  });
}

}  // namespace tenflowers::cuda
