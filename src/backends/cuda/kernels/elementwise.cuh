#pragma once
// The elementwise kernels: out[i] = op(in_0[i], ...) over a contiguous output, in two forms.
// The linear form reads contiguous inputs (or single values) four elements per thread, with
// vector loads and stores when every pointer is aligned; the strided form computes each
// input's offset from the merged sizes and byte strides.
#include <utility>

#include "src/backends/cuda/kernels/device_types.cuh"

namespace tenflowers::cuda {

inline constexpr int kPerThread = 4;

template <class T>
struct alignas(sizeof(T) * kPerThread) Pack {
  T v[kPerThread];
};

template <int N>
struct InputPtrs {
  const char* p[N];
};

template <class Out, class In, class Op, int N, size_t... K>
__device__ __forceinline__ Out apply(const Op& op, const compute_of<In> (&x)[N],
                                     std::index_sequence<K...>) {
  return narrow<Out>(op(x[K]...));
}

// What op returns for N arguments of type C.
template <class Op, class C, size_t... K>
auto result_of_n(std::index_sequence<K...>)
    -> decltype(std::declval<const Op&>()((static_cast<void>(K), std::declval<C>())...));

template <class Out, class In, class First, int N, class Op>
__global__ void __launch_bounds__(kThreads)
    elementwise_linear(Op op, Out* __restrict__ out, InputPtrs<N> in, uint32_t single_mask,
                       int64_t numel, bool aligned) {
  using C = compute_of<In>;
  const int64_t step = int64_t{gridDim.x} * kThreads * kPerThread;
  int64_t base = (int64_t{blockIdx.x} * kThreads + threadIdx.x) * kPerThread;
  for (; base < numel; base += step) {
    compute_of<In> x[kPerThread][N];
    const bool full = base + kPerThread <= numel;
#pragma unroll
    for (int k = 0; k < N; ++k) {
      const bool single = (single_mask >> k) & 1u;
      if (k == 0 && !std::is_same_v<First, In>) {
        const First* p = reinterpret_cast<const First*>(in.p[k]);
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) {
          const int64_t i = single ? 0 : base + j;
          x[j][k] = (single || base + j < numel) ? static_cast<C>(p[i]) : C{};
        }
        continue;
      }
      const In* p = reinterpret_cast<const In*>(in.p[k]);
      if (single) {
        const C v = widen(p[0]);
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) x[j][k] = v;
      } else if (full && aligned) {
        const Pack<In> pack = *reinterpret_cast<const Pack<In>*>(p + base);
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) x[j][k] = widen(pack.v[j]);
      } else {
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) x[j][k] = base + j < numel ? widen(p[base + j]) : C{};
      }
    }
    Pack<Out> result;
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      result.v[j] = apply<Out, In, Op, N>(op, x[j], std::make_index_sequence<N>{});
    }
    if (full && aligned) {
      *reinterpret_cast<Pack<Out>*>(out + base) = result;
    } else {
      for (int j = 0; j < kPerThread && base + j < numel; ++j) out[base + j] = result.v[j];
    }
  }
}

struct StridedLayout {
  int ndim;
  int64_t sizes[kMaxDims];
  int64_t byte_strides[kMaxInputs][kMaxDims];
};

template <class Out, class In, class First, int N, class Op>
__global__ void __launch_bounds__(kThreads)
    elementwise_strided(Op op, Out* __restrict__ out, InputPtrs<N> in, StridedLayout layout,
                        int64_t numel) {
  using C = compute_of<In>;
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < numel; i += step) {
    int64_t offset[N] = {};
    int64_t rem = i;
    for (int d = layout.ndim - 1; d >= 0; --d) {
      const int64_t size = layout.sizes[d];
      const int64_t index = rem % size;
      rem /= size;
#pragma unroll
      for (int k = 0; k < N; ++k) offset[k] += index * layout.byte_strides[k][d];
    }
    C x[N];
#pragma unroll
    for (int k = 0; k < N; ++k) {
      if (k == 0 && !std::is_same_v<First, In>) {
        x[k] = static_cast<C>(*reinterpret_cast<const First*>(in.p[k] + offset[k]));
      } else {
        x[k] = widen(*reinterpret_cast<const In*>(in.p[k] + offset[k]));
      }
    }
    out[i] = apply<Out, In, Op, N>(op, x, std::make_index_sequence<N>{});
  }
}

// Launches op over args. Inputs are In, except that the first may be First (where's bool
// condition); every input reaches op in In's compute type. The output is In, or bool when op
// returns bool.
template <class In, class First = In, int N, class Op>
const char* launch_elementwise(const Op& op, const ElementwiseArgs& args, const char* name) {
  using Result = decltype(result_of_n<Op, compute_of<In>>(std::make_index_sequence<N>{}));
  using Out = std::conditional_t<std::is_same_v<Result, bool>, bool, In>;
  if (args.numel == 0) return name;
  InputPtrs<N> in;
  for (int k = 0; k < N; ++k) in.p[k] = static_cast<const char*>(args.in[k]);
  Out* out = static_cast<Out*>(args.out);
  if (args.linear) {
    constexpr uintptr_t kOutAlign = alignof(Pack<Out>), kInAlign = alignof(Pack<In>);
    bool aligned = reinterpret_cast<uintptr_t>(out) % kOutAlign == 0;
    for (int k = 0; k < N; ++k) {
      const bool needs = !((args.single_mask >> k) & 1u) && !(k == 0 && !std::is_same_v<First, In>);
      if (needs) aligned = aligned && reinterpret_cast<uintptr_t>(in.p[k]) % kInAlign == 0;
    }
    const unsigned blocks = grid_for((args.numel + kPerThread - 1) / kPerThread);
    elementwise_linear<Out, In, First, N>
        <<<blocks, kThreads, 0, args.stream>>>(op, out, in, args.single_mask, args.numel, aligned);
  } else {
    StridedLayout layout;
    layout.ndim = args.ndim;
    for (int d = 0; d < args.ndim; ++d) {
      layout.sizes[d] = args.sizes[d];
      for (int k = 0; k < N; ++k) layout.byte_strides[k][d] = args.byte_strides[k][d];
    }
    elementwise_strided<Out, In, First, N>
        <<<grid_for(args.numel), kThreads, 0, args.stream>>>(op, out, in, layout, args.numel);
  }
  return name;
}

}  // namespace tenflowers::cuda
