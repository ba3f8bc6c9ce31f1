// softmax and log_softmax along the lanes of [outer, length, inner], and their gradients from
// the output y (softmax_grad: y * (dy - sum(dy * y)), log_softmax_grad: dy - exp(y) * sum(dy)),
// as the CPU kernels (src/backends/cpu/linalg_softmax.cpp). The 16-bit floats compute in f32.
// Two kernels for each op:
//   rows: contiguous lanes (inner == 1) of up to 1024 elements (512 in f64). A group of up to
//     32 threads of one warp holds a row in registers, loaded and stored with 16-byte vectors
//     where aligned, and combines its values with warp shuffles (no shared memory, no barrier):
//     memory sees one read of each input and one write.
//   lanes: any other lane (long rows, columns), laid out as in reduction.cuh. softmax reads a
//     lane twice (an online maximum and sum, then the outputs), the gradients read y and dy
//     twice (their sum, then the outputs); the lane's threads combine once in shared memory.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "src/backends/cuda/kernels/reduction.cuh"

namespace tenflowers::cuda {
namespace {

constexpr int64_t kMinPerThread = 4;  // elements per thread before a lane gets more threads
constexpr unsigned kFullMask = 0xffffffffu;
constexpr unsigned kRowThreads = 128;  // threads of a block of the row kernels
constexpr int kMaxRowWidth = 32;       // threads holding one row: at most a warp

template <class T>
inline constexpr int kVec = 16 / static_cast<int>(sizeof(T));  // elements per 16-byte vector
// Elements of a row one thread holds in registers, per input: 32 registers' worth (32 f32 or
// 16 f64 values), so the gradient kernels, holding two inputs, stay near 100 registers.
template <class T>
inline constexpr int kMaxPerThread = 128 / static_cast<int>(sizeof(compute_of<T>));
template <class T>
inline constexpr int kMaxChunks = kMaxPerThread<T> / kVec<T>;

template <class T>
struct alignas(16) Vec {
  T v[kVec<T>];
};

// The maximum ignoring NaN; a NaN still reaches every output of its lane through the sum.
template <class C>
__device__ __forceinline__ C greater(C a, C b) {
  return b > a ? b : a;
}

// ---- rows held in registers ----------------------------------------------------------------

// Thread `part` of a row's `width` holds chunks c = 0..kChunks-1, each the kVec elements from
// (c * width + part) * kVec, so a warp's loads of one chunk cover consecutive bytes.
template <class T, int kChunks>
using RowValues = compute_of<T>[kChunks][kVec<T>];

struct RowPos {
  int64_t first;  // element offset of the row
  int64_t n;      // its length, 0 for a group past the last row
  int part, width;
};

__device__ __forceinline__ RowPos row_position(int64_t rows, int64_t length, int width) {
  const int64_t thread = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  const int64_t row = thread / width;
  const bool valid = row < rows;
  return {valid ? row * length : 0, valid ? length : 0, static_cast<int>(threadIdx.x) & (width - 1),
          width};
}

// `fill` stands for the elements past the row's end.
template <class T, int kChunks>
__device__ __forceinline__ void load_row(const T* __restrict__ in, const RowPos& p, bool aligned,
                                         compute_of<T> fill, RowValues<T, kChunks>& v) {
  constexpr int V = kVec<T>;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int64_t i = p.first + (int64_t{c} * p.width + p.part) * V;
    const int64_t end = p.first + p.n;
    if (aligned && i + V <= end) {
      const Vec<T> pack = *reinterpret_cast<const Vec<T>*>(in + i);
#pragma unroll
      for (int j = 0; j < V; ++j) v[c][j] = widen(pack.v[j]);
    } else {
#pragma unroll
      for (int j = 0; j < V; ++j) v[c][j] = i + j < end ? widen(in[i + j]) : fill;
    }
  }
}

template <class T, int kChunks>
__device__ __forceinline__ void store_row(T* __restrict__ out, const RowPos& p, bool aligned,
                                          const RowValues<T, kChunks>& v) {
  constexpr int V = kVec<T>;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
    const int64_t i = p.first + (int64_t{c} * p.width + p.part) * V;
    const int64_t end = p.first + p.n;
    if (aligned && i + V <= end) {
      Vec<T> pack;
#pragma unroll
      for (int j = 0; j < V; ++j) pack.v[j] = narrow<T>(v[c][j]);
      *reinterpret_cast<Vec<T>*>(out + i) = pack;
    } else {
#pragma unroll
      for (int j = 0; j < V; ++j) {
        if (i + j < end) out[i + j] = narrow<T>(v[c][j]);
      }
    }
  }
}

// Combines the values of a row's threads (an aligned group of `width` lanes of the warp); every
// thread gets the result, bit for bit the same since each step merges the same two values.
template <class C, class Merge>
__device__ __forceinline__ C combine_row(C value, int width, Merge merge) {
  for (int offset = width / 2; offset > 0; offset /= 2) {
    value = merge(value, __shfl_xor_sync(kFullMask, value, offset, width));
  }
  return value;
}

template <class T, bool kLog, int kChunks>
__global__ void __launch_bounds__(kRowThreads)
    softmax_rows(const T* __restrict__ in, T* __restrict__ out, int64_t rows, int64_t length,
                 int width, bool aligned) {
  using C = compute_of<T>;
  constexpr int V = kVec<T>;
  const RowPos p = row_position(rows, length, width);
  RowValues<T, kChunks> x;
  // Elements past the end are -inf: they change neither the maximum nor the sum.
  load_row<T, kChunks>(in, p, aligned, -std::numeric_limits<C>::infinity(), x);
  C top = -std::numeric_limits<C>::infinity();
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
#pragma unroll
    for (int j = 0; j < V; ++j) top = greater(top, x[c][j]);
  }
  top = combine_row(top, width, [](C a, C b) { return greater(a, b); });
  C sum = 0;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const C e = std::exp(x[c][j] - top);
      sum += e;
      if constexpr (!kLog) x[c][j] = e;
    }
  }
  sum = combine_row(sum, width, [](C a, C b) { return a + b; });
  const C scale = kLog ? std::log(sum) : C(1) / sum;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
#pragma unroll
    for (int j = 0; j < V; ++j) x[c][j] = kLog ? (x[c][j] - top) - scale : x[c][j] * scale;
  }
  store_row<T, kChunks>(out, p, aligned, x);
}

template <class T, bool kLog, int kChunks>
__global__ void __launch_bounds__(kRowThreads)
    softmax_grad_rows(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                      int64_t rows, int64_t length, int width, bool aligned) {
  using C = compute_of<T>;
  constexpr int V = kVec<T>;
  const RowPos p = row_position(rows, length, width);
  RowValues<T, kChunks> yv, dv;
  load_row<T, kChunks>(y, p, aligned, C(0), yv);
  load_row<T, kChunks>(dy, p, aligned, C(0), dv);
  C sum = 0;
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
#pragma unroll
    for (int j = 0; j < V; ++j) sum += kLog ? dv[c][j] : dv[c][j] * yv[c][j];
  }
  sum = combine_row(sum, width, [](C a, C b) { return a + b; });
#pragma unroll
  for (int c = 0; c < kChunks; ++c) {
#pragma unroll
    for (int j = 0; j < V; ++j) {
      dv[c][j] = kLog ? dv[c][j] - std::exp(yv[c][j]) * sum : yv[c][j] * (dv[c][j] - sum);
    }
  }
  store_row<T, kChunks>(dx, p, aligned, dv);
}

// How the row kernels hold rows of a view: `width` threads a row, `chunks` vectors each;
// width 0 when the lanes are not rows or too long for registers.
struct RowFit {
  int width = 0, chunks = 0;
  bool aligned = false;  // every row of every pointer starts on a 16-byte boundary
};

template <class T>
RowFit fit_rows(const AxisView& view, std::initializer_list<const void*> pointers) {
  RowFit f;
  if (view.inner != 1) return f;
  const int64_t vectors = (view.length + kVec<T> - 1) / kVec<T>;
  int width = 1;
  while (width < kMaxRowWidth && width < vectors) width *= 2;
  int chunks = 1;
  while (int64_t{chunks} * width < vectors) chunks *= 2;
  if (chunks > kMaxChunks<T>) return f;
  f.width = width;
  f.chunks = chunks;
  f.aligned = view.length % kVec<T> == 0;
  for (const void* p : pointers) f.aligned = f.aligned && reinterpret_cast<uintptr_t>(p) % 16 == 0;
  return f;
}

// Calls fn(std::integral_constant<int, chunks>{}); chunks is a power of two up to kMaxChunks<T>.
template <class T, int K = 1, class Fn>
void with_chunks(int chunks, Fn&& fn) {
  if (chunks == K) {
    fn(std::integral_constant<int, K>{});
  } else if constexpr (K < kMaxChunks<T>) {
    with_chunks<T, K * 2>(chunks, fn);
  }
}

unsigned row_blocks(const AxisView& view, const RowFit& f) {
  return static_cast<unsigned>((view.outer * f.width + kRowThreads - 1) / kRowThreads);
}

// ---- any lanes -----------------------------------------------------------------------------

// A running maximum and the sum of exponentials shifted by it.
template <class C>
struct MaxSum {
  C top, sum;
};

// sum scaled from maximum `from` to `to` (>= from): exactly kept when they are equal, which
// also covers two infinite maxima.
template <class C>
__device__ __forceinline__ C rescale(C sum, C from, C to) {
  return from == to ? sum : sum * std::exp(from - to);
}

template <class T, bool kLog>
__global__ void __launch_bounds__(kMaxParts)
    softmax_lanes(const T* __restrict__ in, T* __restrict__ out, AxisView view) {
  using C = compute_of<T>;
  constexpr C kInf = std::numeric_limits<C>::infinity();
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  auto* shared = reinterpret_cast<MaxSum<C>*>(shared_bytes);
  const LanePos p = lane_position(view);
  const int64_t n = p.valid ? view.length : 0;
  const T* x = in + (p.valid ? p.first : 0);
  // One read for both: -inf elements add nothing (exp(-inf) = 0), NaN ones make the sum NaN.
  MaxSum<C> acc{-kInf, 0};
  for (int64_t r = p.part; r < n; r += p.parts) {
    const C v = widen(x[r * p.stride]);
    if (v > acc.top) {
      acc.sum = rescale(acc.sum, acc.top, v) + 1;
      acc.top = v;
    } else if (v != -kInf) {
      acc.sum += std::exp(v - acc.top);
    }
  }
  acc = combine_parts(acc, shared, p, [](MaxSum<C> a, MaxSum<C> b) {
    const C top = greater(a.top, b.top);
    return MaxSum<C>{top, rescale(a.sum, a.top, top) + rescale(b.sum, b.top, top)};
  });
  // An infinite maximum gives NaN everywhere, as exp(x - max) does in the CPU's sum.
  const C sum = std::isinf(acc.top) ? std::numeric_limits<C>::quiet_NaN() : acc.sum;
  T* y = out + (p.valid ? p.first : 0);
  const C scale = kLog ? std::log(sum) : C(1) / sum;
  for (int64_t r = p.part; r < n; r += p.parts) {
    const C shifted = widen(x[r * p.stride]) - acc.top;
    y[r * p.stride] = narrow<T>(kLog ? shifted - scale : std::exp(shifted) * scale);
  }
}

template <class T, bool kLog>
__global__ void __launch_bounds__(kMaxParts)
    softmax_grad_lanes(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                       AxisView view) {
  using C = compute_of<T>;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  C* shared = reinterpret_cast<C*>(shared_bytes);
  const LanePos p = lane_position(view);
  const int64_t n = p.valid ? view.length : 0;
  const int64_t first = p.valid ? p.first : 0;
  C sum = 0;
  for (int64_t r = p.part; r < n; r += p.parts) {
    const int64_t i = first + r * p.stride;
    sum += kLog ? widen(dy[i]) : widen(dy[i]) * widen(y[i]);
  }
  sum = combine_parts(sum, shared, p, [](C a, C b) { return a + b; });
  for (int64_t r = p.part; r < n; r += p.parts) {
    const int64_t i = first + r * p.stride;
    const C yi = widen(y[i]), di = widen(dy[i]);
    dx[i] = narrow<T>(kLog ? di - std::exp(yi) * sum : yi * (di - sum));
  }
}

template <class Value>
size_t lane_shared_bytes(const LaneGrid& g) {
  return size_t{g.bx} * g.by * sizeof(Value);
}

}  // namespace

const char* launch_softmax(bool log, DType type, AxisView view, const void* in, void* out,
                           cudaStream_t stream) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    const char* name = log ? "log_softmax" : "softmax";
    if (view.outer * view.inner == 0 || view.length == 0) return name;
    const T* x = static_cast<const T*>(in);
    T* y = static_cast<T*>(out);
    if (const RowFit f = fit_rows<T>(view, {in, out}); f.width > 0) {
      with_chunks<T>(f.chunks, [&](auto chunks) {
        auto* kernel = log ? softmax_rows<T, true, decltype(chunks)::value>
                           : softmax_rows<T, false, decltype(chunks)::value>;
        kernel<<<row_blocks(view, f), kRowThreads, 0, stream>>>(x, y, view.outer, view.length,
                                                                f.width, f.aligned);
      });
      return name;
    }
    const LaneGrid g = lane_grid(view, kMinPerThread);
    auto* kernel = log ? softmax_lanes<T, true> : softmax_lanes<T, false>;
    kernel<<<static_cast<unsigned>(g.blocks), dim3(g.bx, g.by),
             lane_shared_bytes<MaxSum<compute_of<T>>>(g), stream>>>(x, y, view);
    return name;
  });
}

const char* launch_softmax_grad(bool log, DType type, AxisView view, const void* y, const void* dy,
                                void* dx, cudaStream_t stream) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    const char* name = log ? "log_softmax_grad" : "softmax_grad";
    if (view.outer * view.inner == 0 || view.length == 0) return name;
    const T* yp = static_cast<const T*>(y);
    const T* dyp = static_cast<const T*>(dy);
    T* dxp = static_cast<T*>(dx);
    if (const RowFit f = fit_rows<T>(view, {y, dy, dx}); f.width > 0) {
      with_chunks<T>(f.chunks, [&](auto chunks) {
        auto* kernel = log ? softmax_grad_rows<T, true, decltype(chunks)::value>
                           : softmax_grad_rows<T, false, decltype(chunks)::value>;
        kernel<<<row_blocks(view, f), kRowThreads, 0, stream>>>(yp, dyp, dxp, view.outer,
                                                                view.length, f.width, f.aligned);
      });
      return name;
    }
    const LaneGrid g = lane_grid(view, kMinPerThread);
    auto* kernel = log ? softmax_grad_lanes<T, true> : softmax_grad_lanes<T, false>;
    kernel<<<static_cast<unsigned>(g.blocks), dim3(g.bx, g.by), lane_shared_bytes<compute_of<T>>(g),
             stream>>>(yp, dyp, dxp, view);
    return name;
  });
}

}  // namespace tenflowers::cuda
