// Pooling kernels: one thread per output element (per input element for the average's
// gradient, which then needs no atomics). The max keeps the first of equal values and lets NaN
// through, as the CPU kernels, so forward and gradients agree on the argmax.
#include "src/backends/cuda/kernels/device_types.cuh"
#include "src/backends/cuda/kernels/elementwise.cuh"
#include "src/backends/cuda/kernels/pool_launch.hpp"

namespace tenflowers::cuda {
namespace {

struct Window {
  int64_t h_lo, h_hi, w_lo, w_hi;
};

__device__ __forceinline__ Window window_at(const PoolArgs& a, int64_t oh, int64_t ow) {
  const int64_t h0 = oh * a.stride_h - a.pad_top, w0 = ow * a.stride_w - a.pad_left;
  return {h0 > 0 ? h0 : 0, h0 + a.kernel_h < a.in_h ? h0 + a.kernel_h : a.in_h, w0 > 0 ? w0 : 0,
          w0 + a.kernel_w < a.in_w ? w0 + a.kernel_w : a.in_w};
}

// Index within the plane of the window's maximum.
template <class T>
__device__ int64_t window_argmax(const T* plane, int64_t in_w, const Window& w) {
  using C = compute_of<T>;
  C best = -std::numeric_limits<C>::infinity();
  int64_t at = w.h_lo * in_w + w.w_lo;
  for (int64_t h = w.h_lo; h < w.h_hi; ++h) {
    for (int64_t c = w.w_lo; c < w.w_hi; ++c) {
      const C v = widen(plane[h * in_w + c]);
      if (v > best || v != v) {
        best = v;
        at = h * in_w + c;
      }
    }
  }
  return at;
}

enum class Kind { Max, Average, MaxGrad, MaxGather };

// Walks every output element o = (plane, oh, ow).
template <class T, Kind kKind>
__global__ void __launch_bounds__(kThreads) pool_kernel(PoolArgs a) {
  using C = compute_of<T>;
  const int64_t per_plane = a.out_h * a.out_w, total = a.planes * per_plane;
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t o = int64_t{blockIdx.x} * kThreads + threadIdx.x; o < total; o += step) {
    const int64_t plane = o / per_plane, oh = (o % per_plane) / a.out_w, ow = o % a.out_w;
    const Window w = window_at(a, oh, ow);
    const int64_t in_base = plane * a.in_h * a.in_w;
    const T* x = static_cast<const T*>(a.x) + in_base;
    if constexpr (kKind == Kind::Average) {
      C sum = 0;
      for (int64_t h = w.h_lo; h < w.h_hi; ++h) {
        for (int64_t c = w.w_lo; c < w.w_hi; ++c) sum += widen(x[h * a.in_w + c]);
      }
      const int64_t count =
          a.count_include_pad ? a.kernel_h * a.kernel_w : (w.h_hi - w.h_lo) * (w.w_hi - w.w_lo);
      static_cast<T*>(a.out)[o] = narrow<T>(sum / static_cast<C>(count));
    } else {
      const int64_t at = window_argmax(x, a.in_w, w);
      if constexpr (kKind == Kind::Max) {
        static_cast<T*>(a.out)[o] = x[at];
      } else if constexpr (kKind == Kind::MaxGather) {
        static_cast<T*>(a.out)[o] = static_cast<const T*>(a.g)[in_base + at];
      } else {
        atomicAdd(static_cast<T*>(a.out) + in_base + at, static_cast<const T*>(a.g)[o]);
      }
    }
  }
}

// The average's gradient, per input element: the windows holding (h, w) are those with
// oh * stride - pad <= h < oh * stride - pad + kernel.
template <class T>
__global__ void __launch_bounds__(kThreads) avg_pool_grad_kernel(PoolArgs a) {
  using C = compute_of<T>;
  const int64_t per_plane = a.in_h * a.in_w, total = a.planes * per_plane;
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < total; i += step) {
    const int64_t plane = i / per_plane, h = (i % per_plane) / a.in_w, x = i % a.in_w;
    const T* g = static_cast<const T*>(a.g) + plane * a.out_h * a.out_w;
    auto first = [](int64_t pos, int64_t pad, int64_t kernel, int64_t stride) {
      const int64_t n = pos + pad - kernel + 1;
      return n <= 0 ? int64_t{0} : (n + stride - 1) / stride;
    };
    const int64_t oh_lo = first(h, a.pad_top, a.kernel_h, a.stride_h);
    const int64_t ow_lo = first(x, a.pad_left, a.kernel_w, a.stride_w);
    const int64_t oh_hi = min((h + a.pad_top) / a.stride_h + 1, a.out_h);
    const int64_t ow_hi = min((x + a.pad_left) / a.stride_w + 1, a.out_w);
    C sum = 0;
    for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
        const Window w = window_at(a, oh, ow);
        const int64_t count =
            a.count_include_pad ? a.kernel_h * a.kernel_w : (w.h_hi - w.h_lo) * (w.w_hi - w.w_lo);
        sum += widen(g[oh * a.out_w + ow]) / static_cast<C>(count);
      }
    }
    static_cast<T*>(a.out)[i] = narrow<T>(sum);
  }
}

template <Kind kKind>
const char* run(DType type, const PoolArgs& a, const char* name) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    const int64_t total = a.planes * a.out_h * a.out_w;
    if (total > 0) {
      pool_kernel<decltype(t), kKind><<<grid_for(total), kThreads, 0, a.stream>>>(a);
    }
    return name;
  });
}

}  // namespace

const char* launch_max_pool(DType type, const PoolArgs& a) {
  return run<Kind::Max>(type, a, "max_pool2d");
}
const char* launch_avg_pool(DType type, const PoolArgs& a) {
  return run<Kind::Average>(type, a, "avg_pool2d");
}
const char* launch_max_pool_grad(DType type, const PoolArgs& a) {
  return run<Kind::MaxGrad>(type, a, "max_pool2d_grad");
}
const char* launch_max_pool_gather(DType type, const PoolArgs& a) {
  return run<Kind::MaxGather>(type, a, "max_pool2d_gather");
}
const char* launch_avg_pool_grad(DType type, const PoolArgs& a) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    const int64_t total = a.planes * a.in_h * a.in_w;
    if (total > 0) {
      avg_pool_grad_kernel<decltype(t)><<<grid_for(total), kThreads, 0, a.stream>>>(a);
    }
    return "avg_pool2d_grad";
  });
}

}  // namespace tenflowers::cuda
