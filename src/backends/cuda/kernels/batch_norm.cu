// Batch normalization on the GPU (batch_norm_launch.hpp). The element at position j of channel c
// (j < outer * inner) is at ((j / inner) * channels + c) * inner + j % inner. A block takes bx
// channels and one chunk of their positions (grid: channel blocks x chunks); its by = 256 / bx
// threads per channel walk the chunk in groups of four positions, each thread every by-th group.
//   inner > 1 (NCHW): one channel per block; a group is four elements of a run, read and
//     written as one vector when the run length and the pointers allow;
//   inner == 1 (channels last): up to 32 consecutive channels per block, so a warp reads whole
//     rows.
// batch_norm: kernel 1 writes each block's count, mean and sum of squared deviations per channel
// (a thread folds each group's own two-pass moments into its running ones by Chan's formula;
// the block combines its threads pairwise); kernel 2 combines a channel's partials, in the same
// order in every block so that all agree, writes mean and var once and normalizes. batch_norm_grad
// is the same pair of passes with the partial sums of dy and dy * (x - mean). Memory sees x read
// twice and y written once forward; x and dy read twice and dx written once backward.
#include "src/backends/cuda/kernels/batch_norm_launch.hpp"
#include "src/backends/cuda/kernels/reduction.cuh"

namespace tenflowers::cuda {
namespace {

constexpr unsigned kBlockThreads = 256;
constexpr int kGroup = kPerThread;           // positions per group: one Pack
constexpr int64_t kTargetBlocks = 1024;      // fewer blocks than this split channels into chunks
constexpr int64_t kMinBlockElements = 4096;  // elements of a block, at least, once split

// Count, mean and sum of squared deviations of a set of values.
template <class A>
struct Moments {
  int64_t n;
  A mean, m2;
};

// Chan et al.'s combination of two sets' moments.
template <class A>
__device__ __forceinline__ Moments<A> merge(const Moments<A>& a, const Moments<A>& b) {
  if (b.n == 0) return a;
  if (a.n == 0) return b;
  const int64_t n = a.n + b.n;
  const A share = static_cast<A>(b.n) / static_cast<A>(n);
  const A delta = b.mean - a.mean;
  return {n, a.mean + delta * share, a.m2 + b.m2 + delta * delta * static_cast<A>(a.n) * share};
}

// sum(dy) and sum(dy * (x - mean)) of a set of positions.
template <class A>
struct GradSums {
  A dy, dy_xc;
};

template <class A>
__device__ __forceinline__ GradSums<A> merge(const GradSums<A>& a, const GradSums<A>& b) {
  return {a.dy + b.dy, a.dy_xc + b.dy_xc};
}

struct Geometry {
  unsigned bx = 1, by = kBlockThreads;
  int64_t blocks = 0, splits = 1, chunk = 0;
  dim3 grid() const { return {static_cast<unsigned>(blocks), static_cast<unsigned>(splits)}; }
  dim3 block() const { return {bx, by}; }
};

// Launch shape for a view with at least one channel and one position per channel.
Geometry geometry_for(const ChannelView& v) {
  Geometry g;
  if (v.inner == 1) {
    while (g.bx < 32 && g.bx < v.channels) g.bx *= 2;
    g.by = kBlockThreads / g.bx;
  }
  g.blocks = (v.channels + g.bx - 1) / g.bx;
  const int64_t count = v.outer * v.inner;
  const int64_t wanted = (kTargetBlocks + g.blocks - 1) / g.blocks;
  const int64_t most = (count * g.bx + kMinBlockElements - 1) / kMinBlockElements;
  g.splits = std::max<int64_t>(1, std::min(wanted, most));
  g.chunk = ((count + g.splits - 1) / g.splits + kGroup - 1) / kGroup * kGroup;
  g.splits = (count + g.chunk - 1) / g.chunk;  // no empty chunk
  return g;
}

// This thread's channel, its block's chunk of positions and its place among the channel's
// threads (for combine_parts).
struct Slice {
  int64_t c;
  bool valid;
  int64_t j0, j1;
  LanePos lane;
};

__device__ __forceinline__ Slice slice_of(const ChannelView& v, int64_t chunk) {
  Slice s;
  s.c = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  s.valid = s.c < v.channels;
  s.j0 = int64_t{blockIdx.y} * chunk;
  s.j1 = std::min(v.outer * v.inner, s.j0 + chunk);
  s.lane.slot = static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
  s.lane.part = static_cast<int>(threadIdx.y);
  s.lane.parts = static_cast<int>(blockDim.y);
  s.lane.part_stride = static_cast<int>(blockDim.x);
  return s;
}

// Calls body(n, off) for each of this thread's groups: off[k] is the element offset of the
// group's k-th position, valid for k < n. Divides only once per thread: the run and the position
// in it advance by the fixed step between a thread's groups.
template <class Body>
__device__ __forceinline__ void for_each_group(const ChannelView& v, const Slice& s, Body body) {
  const int64_t step = int64_t{kGroup} * s.lane.parts;
  int64_t j = s.j0 + int64_t{kGroup} * s.lane.part;
  if (!s.valid || j >= s.j1) return;
  int64_t run = j / v.inner, pos = j % v.inner;
  const int64_t run_step = step / v.inner, pos_step = step % v.inner;
  const int64_t run_stride = v.channels * v.inner, channel_offset = s.c * v.inner;
  for (; j < s.j1; j += step) {
    int64_t off[kGroup];
    int64_t r = run, i = pos;
#pragma unroll
    for (int k = 0; k < kGroup; ++k) {
      off[k] = r * run_stride + channel_offset + i;
      if (++i == v.inner) {
        i = 0;
        ++r;
      }
    }
    body(static_cast<int>(std::min(int64_t{kGroup}, s.j1 - j)), off);
    run += run_step;
    pos += pos_step;
    if (pos >= v.inner) {
      pos -= v.inner;
      ++run;
    }
  }
}

// The group's values in the compute type (0 past n). `vec`: the group is four consecutive
// elements in one aligned Pack, and always full.
template <class T>
__device__ __forceinline__ void load_group(const T* __restrict__ p, const int64_t (&off)[kGroup],
                                           int n, bool vec, compute_of<T> (&out)[kGroup]) {
  if (vec) {
    const Pack<T> pack = *reinterpret_cast<const Pack<T>*>(p + off[0]);
#pragma unroll
    for (int k = 0; k < kGroup; ++k) out[k] = widen(pack.v[k]);
    return;
  }
#pragma unroll
  for (int k = 0; k < kGroup; ++k) out[k] = k < n ? widen(p[off[k]]) : compute_of<T>(0);
}

template <class T>
__device__ __forceinline__ void store_group(T* __restrict__ p, const int64_t (&off)[kGroup], int n,
                                            bool vec, const compute_of<T> (&values)[kGroup]) {
  if (vec) {
    Pack<T> pack;
#pragma unroll
    for (int k = 0; k < kGroup; ++k) pack.v[k] = narrow<T>(values[k]);
    *reinterpret_cast<Pack<T>*>(p + off[0]) = pack;
    return;
  }
#pragma unroll
  for (int k = 0; k < kGroup; ++k) {
    if (k < n) p[off[k]] = narrow<T>(values[k]);
  }
}

// The block's per-channel result from each thread's: every thread gets it.
template <class Acc>
__device__ __forceinline__ Acc combine_block(const Acc& value, const Slice& s) {
  extern __shared__ __align__(16) unsigned char shared_memory[];
  return combine_parts(value, reinterpret_cast<Acc*>(shared_memory), s.lane,
                       [](const Acc& a, const Acc& b) { return merge(a, b); });
}

// A channel's partials (one per chunk), combined the same way in every block. Every thread of
// the block calls it.
template <class Acc>
__device__ __forceinline__ Acc combine_partials(const Acc* __restrict__ partials, int64_t splits,
                                                int64_t channels, const Slice& s) {
  Acc acc{};
  if (s.valid) {
    for (int64_t k = s.lane.part; k < splits; k += s.lane.parts) {
      acc = merge(acc, partials[k * channels + s.c]);
    }
  }
  return combine_block(acc, s);
}

template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    partial_moments(const T* __restrict__ x, ChannelView v, int64_t chunk, bool vec,
                    Moments<compute_of<T>>* __restrict__ partials) {
  using A = compute_of<T>;
  const Slice s = slice_of(v, chunk);
  Moments<A> m{};
  for_each_group(v, s, [&](int n, const int64_t(&off)[kGroup]) {
    A values[kGroup];
    load_group(x, off, n, vec, values);
    A sum = 0;
#pragma unroll
    for (int k = 0; k < kGroup; ++k) sum += values[k];
    const A mean = sum / static_cast<A>(n);
    A m2 = 0;
#pragma unroll
    for (int k = 0; k < kGroup; ++k) {
      const A d = values[k] - mean;
      if (k < n) m2 += d * d;
    }
    m = merge(m, Moments<A>{n, mean, m2});
  });
  m = combine_block(m, s);
  if (s.valid && s.lane.part == 0) partials[int64_t{blockIdx.y} * v.channels + s.c] = m;
}

// y = (x - mean) * gamma * rstd + beta. kBatch: the statistics come from partial_moments'
// partials (and are written to mean_out and var_out once); otherwise from mean_in and var_in.
template <class T, bool kBatch>
__global__ void __launch_bounds__(kBlockThreads)
    normalize(const T* __restrict__ x, T* __restrict__ y, ChannelView v, int64_t chunk, bool vec,
              const Moments<compute_of<T>>* __restrict__ partials, int64_t splits,
              const T* __restrict__ mean_in, const T* __restrict__ var_in,
              const T* __restrict__ gamma, const T* __restrict__ beta, double epsilon,
              T* __restrict__ mean_out, T* __restrict__ var_out) {
  using A = compute_of<T>;
  const Slice s = slice_of(v, chunk);
  A mean, var;
  if constexpr (kBatch) {
    const Moments<A> m = combine_partials(partials, splits, v.channels, s);
    mean = m.mean;
    var = m.m2 / static_cast<A>(m.n);
    if (s.valid && s.lane.part == 0 && blockIdx.y == 0) {
      mean_out[s.c] = narrow<T>(mean);
      var_out[s.c] = narrow<T>(var);
    }
  }
  if (!s.valid) return;
  if constexpr (!kBatch) {
    mean = widen(mean_in[s.c]);
    var = widen(var_in[s.c]);
  }
  const A scale = widen(gamma[s.c]) / std::sqrt(var + static_cast<A>(epsilon));
  const A shift = widen(beta[s.c]);
  for_each_group(v, s, [&](int n, const int64_t(&off)[kGroup]) {
    A values[kGroup];
    load_group(x, off, n, vec, values);
#pragma unroll
    for (int k = 0; k < kGroup; ++k) values[k] = (values[k] - mean) * scale + shift;
    store_group(y, off, n, vec, values);
  });
}

template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    partial_grad_sums(const T* __restrict__ x, const T* __restrict__ dy, ChannelView v,
                      int64_t chunk, bool vec, const T* __restrict__ mean,
                      GradSums<compute_of<T>>* __restrict__ partials) {
  using A = compute_of<T>;
  const Slice s = slice_of(v, chunk);
  const A m = s.valid ? widen(mean[s.c]) : A(0);
  GradSums<A> acc{};
  for_each_group(v, s, [&](int n, const int64_t(&off)[kGroup]) {
    A xs[kGroup], gs[kGroup];
    load_group(x, off, n, vec, xs);
    load_group(dy, off, n, vec, gs);
#pragma unroll
    for (int k = 0; k < kGroup; ++k) {
      acc.dy += gs[k];
      acc.dy_xc += gs[k] * (xs[k] - m);
    }
  });
  acc = combine_block(acc, s);
  if (s.valid && s.lane.part == 0) partials[int64_t{blockIdx.y} * v.channels + s.c] = acc;
}

// With A = sum(dy), B = sum(dy * (x - mean)) and M positions: dgamma = B * rstd, dbeta = A,
// dx = (dy - A / M) * gain + (x - mean) * p with gain = gamma * rstd and
// p = -gain * rstd^2 * B / M.
template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    grad_input(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx, ChannelView v,
               int64_t chunk, bool vec, const GradSums<compute_of<T>>* __restrict__ partials,
               int64_t splits, const T* __restrict__ gamma, const T* __restrict__ mean,
               const T* __restrict__ var, double epsilon, T* __restrict__ dgamma,
               T* __restrict__ dbeta) {
  using A = compute_of<T>;
  const Slice s = slice_of(v, chunk);
  const GradSums<A> sums = combine_partials(partials, splits, v.channels, s);
  if (!s.valid) return;
  const A count = static_cast<A>(v.outer * v.inner);
  const A rstd = A(1) / std::sqrt(widen(var[s.c]) + static_cast<A>(epsilon));
  const A gain = widen(gamma[s.c]) * rstd;
  const A a = sums.dy / count;
  const A p = -gain * rstd * rstd * sums.dy_xc / count;
  const A m = widen(mean[s.c]);
  if (s.lane.part == 0 && blockIdx.y == 0) {
    dgamma[s.c] = narrow<T>(sums.dy_xc * rstd);
    dbeta[s.c] = narrow<T>(sums.dy);
  }
  for_each_group(v, s, [&](int n, const int64_t(&off)[kGroup]) {
    A xs[kGroup], gs[kGroup];
    load_group(x, off, n, vec, xs);
    load_group(dy, off, n, vec, gs);
#pragma unroll
    for (int k = 0; k < kGroup; ++k) gs[k] = (gs[k] - a) * gain + (xs[k] - m) * p;
    store_group(dx, off, n, vec, gs);
  });
}

template <class T>
bool aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % alignof(Pack<T>) == 0;
}

// Whether every group is one aligned Pack of each of the given operands.
template <class T>
bool vector_groups(const ChannelView& v, std::initializer_list<const void*> pointers) {
  bool ok = v.inner % kGroup == 0;
  for (const void* p : pointers) ok = ok && aligned<T>(p);
  return ok;
}

// combine_parts' shared memory: one accumulator per thread.
template <class Acc>
size_t shared_bytes(const Geometry& g) {
  return size_t{g.bx} * g.by * sizeof(Acc);
}

}  // namespace

size_t batch_norm_workspace_bytes(DType type, const ChannelView& view) {
  if (view.channels == 0 || view.outer * view.inner == 0) return 0;
  const Geometry g = geometry_for(view);
  const size_t per_channel =
      type == DType::F64 ? sizeof(Moments<double>) : sizeof(Moments<float>);  // the larger one
  return static_cast<size_t>(g.splits * view.channels) * per_channel;
}

const char* launch_batch_norm(DType type, const BatchNormArgs& args) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    using M = Moments<compute_of<T>>;
    const ChannelView& v = args.view;
    const Geometry g = geometry_for(v);
    const auto* x = static_cast<const T*>(args.x);
    auto* partials = static_cast<M*>(args.workspace);
    const bool vec = vector_groups<T>(v, {args.x, args.out});
    partial_moments<T>
        <<<g.grid(), g.block(), shared_bytes<M>(g), args.stream>>>(x, v, g.chunk, vec, partials);
    normalize<T, true><<<g.grid(), g.block(), shared_bytes<M>(g), args.stream>>>(
        x, static_cast<T*>(args.out), v, g.chunk, vec, partials, g.splits, nullptr, nullptr,
        static_cast<const T*>(args.gamma), static_cast<const T*>(args.beta), args.epsilon,
        static_cast<T*>(args.stat0), static_cast<T*>(args.stat1));
    return "batch_norm";
  });
}

const char* launch_batch_norm_inference(DType type, const BatchNormArgs& args) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    const ChannelView& v = args.view;
    const Geometry g = geometry_for(v);
    normalize<T, false><<<g.grid(), g.block(), 0, args.stream>>>(
        static_cast<const T*>(args.x), static_cast<T*>(args.out), v, g.chunk,
        vector_groups<T>(v, {args.x, args.out}), nullptr, 0, static_cast<const T*>(args.mean),
        static_cast<const T*>(args.var), static_cast<const T*>(args.gamma),
        static_cast<const T*>(args.beta), args.epsilon, nullptr, nullptr);
    return "batch_norm_inference";
  });
}

const char* launch_batch_norm_grad(DType type, const BatchNormArgs& args) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    using S = GradSums<compute_of<T>>;
    const ChannelView& v = args.view;
    const Geometry g = geometry_for(v);
    const auto* x = static_cast<const T*>(args.x);
    const auto* dy = static_cast<const T*>(args.dy);
    const auto* mean = static_cast<const T*>(args.mean);
    auto* partials = static_cast<S*>(args.workspace);
    const bool vec = vector_groups<T>(v, {args.x, args.dy, args.out});
    partial_grad_sums<T><<<g.grid(), g.block(), shared_bytes<S>(g), args.stream>>>(
        x, dy, v, g.chunk, vec, mean, partials);
    grad_input<T><<<g.grid(), g.block(), shared_bytes<S>(g), args.stream>>>(
        x, dy, static_cast<T*>(args.out), v, g.chunk, vec, partials, g.splits,
        static_cast<const T*>(args.gamma), mean, static_cast<const T*>(args.var), args.epsilon,
        static_cast<T*>(args.stat0), static_cast<T*>(args.stat1));
    return "batch_norm_grad";
  });
}

}  // namespace tenflowers::cuda
