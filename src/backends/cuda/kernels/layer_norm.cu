// layer_norm and layer_norm_backward on the GPU (the ops: src/core/ops/normalization.cpp).
//
// Row kernels: a team of threads walks each row of the normalized axes, a warp when the row fits
// in its registers (up to 1024 elements for f32, f16 and bf16, 512 for f64; four rows per block)
// and otherwise a block of 64 to 512 threads per row. Each thread keeps its share of the row in
// registers, so the forward kernel reads x once and writes y once while its three passes (the
// mean; the mean of squared deviations from it, which does not cancel as E[x^2] - E[x]^2 does;
// the outputs) run on registers, and the backward kernel reads dy and x once and writes dx
// once. Elements past the registers (rows longer than 512 threads hold) are read again per
// pass, from cache. Accesses are 16 bytes wide when every row starts 16-byte aligned. Teams sum
// with warp shuffles, then across warps in shared memory.
//
// Gamma's and beta's gradients are column sums over the rows: a kernel sums dy * xhat and dy for
// blocks of 32 columns over slabs of kSlabRows rows, and a second one sums the slabs. The order
// of every sum is fixed by the shape, so results are deterministic.
#include <cstdint>

#include "src/backends/cuda/kernels/device_types.cuh"
#include "src/backends/cuda/kernels/normalization_launch.hpp"

namespace tenflowers::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpRowsPerBlock = 4;  // warp teams: four rows per block
constexpr int kMaxTeam = 512;         // threads of a block team
constexpr int kColumnParts = 16;      // threads summing one column within a block
constexpr int64_t kSlabRows = 256;    // rows per partial column sum
constexpr int64_t kMaxSlabs = 65535;  // gridDim.y

// Elements of the compute type a thread keeps in registers per cached row.
template <class C>
constexpr int kCacheElements = sizeof(C) == 8 ? 16 : 32;

template <class T, int kVec>
struct alignas(sizeof(T) * kVec) Chunk {
  T v[kVec];
};

template <class T, int kVec>
__device__ __forceinline__ void load_chunk(const T* p, int64_t chunk, compute_of<T> (&out)[kVec]) {
  const Chunk<T, kVec> c = reinterpret_cast<const Chunk<T, kVec>*>(p)[chunk];
#pragma unroll
  for (int k = 0; k < kVec; ++k) out[k] = widen(c.v[k]);
}

template <class T, int kVec>
__device__ __forceinline__ void store_chunk(T* p, int64_t chunk, const compute_of<T> (&in)[kVec]) {
  Chunk<T, kVec> c;
#pragma unroll
  for (int k = 0; k < kVec; ++k) c.v[k] = narrow<T>(in[k]);
  reinterpret_cast<Chunk<T, kVec>*>(p)[chunk] = c;
}

// A chunk of gamma or beta, or `fill` for a call without it.
template <class T, int kVec>
__device__ __forceinline__ void param_chunk(const T* p, int64_t chunk, compute_of<T> fill,
                                            compute_of<T> (&out)[kVec]) {
  if (p) {
    load_chunk<T, kVec>(p, chunk, out);
    return;
  }
#pragma unroll
  for (int k = 0; k < kVec; ++k) out[k] = fill;
}

// The row this thread's team walks: warp teams are the rows of a block (threadIdx.y), a block
// team has blockDim.y == 1.
__device__ __forceinline__ int64_t team_row() {
  return int64_t{blockIdx.x} * blockDim.y + threadIdx.y;
}

// The sum of v over the team (threadIdx.x), the same in every thread. `shared` holds a slot per
// warp; block teams end with a barrier, so the next call may reuse it at once.
template <class C>
__device__ C team_sum(C v, C* shared) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  if (blockDim.x == kWarp) return v;
  if (threadIdx.x % kWarp == 0) shared[threadIdx.x / kWarp] = v;
  __syncthreads();
  v = 0;
  for (unsigned w = 0; w < blockDim.x / kWarp; ++w) v += shared[w];
  __syncthreads();
  return v;
}

// Runs f(slot, chunk) over this thread's chunks of a row, chunk = lane + j * team for
// j = 0, 1, ...: slot j while j < kSlots (unrolled, so register caches indexed by the slot stay
// registers), then -1.
template <int kSlots, class F>
__device__ __forceinline__ void for_chunks(int64_t chunks, F&& f) {
  const int64_t lane = threadIdx.x, team = blockDim.x;
#pragma unroll
  for (int j = 0; j < kSlots; ++j) {
    const int64_t chunk = lane + j * team;
    if (chunk < chunks) f(j, chunk);
  }
  for (int64_t chunk = lane + kSlots * team; chunk < chunks; chunk += team) f(-1, chunk);
}

template <class T, int kVec, int kThreads>
__global__ void __launch_bounds__(kThreads) layer_norm_forward(LayerNormArgs a) {
  using C = compute_of<T>;
  constexpr int kSlots = kCacheElements<C> / kVec;
  __shared__ C shared[kMaxTeam / kWarp];
  const int64_t row = team_row();
  if (row >= a.rows) return;  // a whole warp team; block teams always have a row
  const int64_t n = a.size, chunks = n / kVec;
  const T* x = static_cast<const T*>(a.x) + row * n;
  C cache[kSlots][kVec];
  auto values = [&](int slot, int64_t chunk, C(&v)[kVec]) {
    if (slot < 0) return load_chunk<T, kVec>(x, chunk, v);
#pragma unroll
    for (int k = 0; k < kVec; ++k) v[k] = cache[slot][k];
  };
  C sum = 0;
  for_chunks<kSlots>(chunks, [&](int slot, int64_t chunk) {
    C v[kVec];
    load_chunk<T, kVec>(x, chunk, v);
#pragma unroll
    for (int k = 0; k < kVec; ++k) {
      sum += v[k];
      if (slot >= 0) cache[slot][k] = v[k];
    }
  });
  const C mean = team_sum(sum, shared) / static_cast<C>(n);
  C squares = 0;
  for_chunks<kSlots>(chunks, [&](int slot, int64_t chunk) {
    C v[kVec];
    values(slot, chunk, v);
#pragma unroll
    for (int k = 0; k < kVec; ++k) squares += (v[k] - mean) * (v[k] - mean);
  });
  const C variance = team_sum(squares, shared) / static_cast<C>(n);
  const C rstd = C(1) / std::sqrt(variance + static_cast<C>(a.epsilon));
  const T* gamma = static_cast<const T*>(a.gamma);
  const T* beta = static_cast<const T*>(a.beta);
  T* y = static_cast<T*>(a.y) + row * n;
  for_chunks<kSlots>(chunks, [&](int slot, int64_t chunk) {
    C v[kVec], g[kVec], b[kVec];
    values(slot, chunk, v);
    param_chunk<T, kVec>(gamma, chunk, C(1), g);
    param_chunk<T, kVec>(beta, chunk, C(0), b);
#pragma unroll
    for (int k = 0; k < kVec; ++k) v[k] = (v[k] - mean) * rstd * g[k] + b[k];
    store_chunk<T, kVec>(y, chunk, v);
  });
  if (threadIdx.x == 0) {
    static_cast<C*>(a.mean)[row] = mean;
    static_cast<C*>(a.rstd)[row] = rstd;
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with xhat = (x - mean) * rstd and
// g = dy * gamma, xhat and g cached in registers between the sums and the outputs.
template <class T, int kVec, int kThreads>
__global__ void __launch_bounds__(kThreads) layer_norm_dx(LayerNormBackwardArgs a) {
  using C = compute_of<T>;
  constexpr int kSlots = kCacheElements<C> / kVec;
  __shared__ C shared[kMaxTeam / kWarp];
  const int64_t row = team_row();
  if (row >= a.rows) return;
  const int64_t n = a.size, chunks = n / kVec;
  const T* x = static_cast<const T*>(a.x) + row * n;
  const T* dy = static_cast<const T*>(a.dy) + row * n;
  const T* gamma = static_cast<const T*>(a.gamma);
  const C mean = static_cast<const C*>(a.mean)[row];
  const C rstd = static_cast<const C*>(a.rstd)[row];
  auto terms = [&](int64_t chunk, C(&xhat)[kVec], C(&g)[kVec]) {
    C gam[kVec];
    load_chunk<T, kVec>(x, chunk, xhat);
    load_chunk<T, kVec>(dy, chunk, g);
    param_chunk<T, kVec>(gamma, chunk, C(1), gam);
#pragma unroll
    for (int k = 0; k < kVec; ++k) {
      xhat[k] = (xhat[k] - mean) * rstd;
      g[k] *= gam[k];
    }
  };
  C xhat_cache[kSlots][kVec], g_cache[kSlots][kVec];
  C sum_g = 0, sum_gx = 0;
  for_chunks<kSlots>(chunks, [&](int slot, int64_t chunk) {
    C xhat[kVec], g[kVec];
    terms(chunk, xhat, g);
#pragma unroll
    for (int k = 0; k < kVec; ++k) {
      sum_g += g[k];
      sum_gx += g[k] * xhat[k];
      if (slot >= 0) {
        xhat_cache[slot][k] = xhat[k];
        g_cache[slot][k] = g[k];
      }
    }
  });
  const C inv_n = C(1) / static_cast<C>(n);
  const C mean_g = team_sum(sum_g, shared) * inv_n;
  const C mean_gx = team_sum(sum_gx, shared) * inv_n;
  T* dx = static_cast<T*>(a.dx) + row * n;
  for_chunks<kSlots>(chunks, [&](int slot, int64_t chunk) {
    C xhat[kVec], g[kVec];
    if (slot < 0) {
      terms(chunk, xhat, g);
    } else {
#pragma unroll
      for (int k = 0; k < kVec; ++k) {
        xhat[k] = xhat_cache[slot][k];
        g[k] = g_cache[slot][k];
      }
    }
#pragma unroll
    for (int k = 0; k < kVec; ++k) g[k] = rstd * (g[k] - mean_g - xhat[k] * mean_gx);
    store_chunk<T, kVec>(dx, chunk, g);
  });
}

// dy * xhat and dy at (r, c): the terms of gamma's and beta's gradients.
template <class T>
struct ParamTerms {
  using C = compute_of<T>;
  const T* dy;
  const T* x;
  const C* mean;
  const C* rstd;
  int64_t n;
  __device__ void operator()(int64_t r, int64_t c, C& u, C& v) const {
    const int64_t i = r * n + c;
    const C d = widen(dy[i]);
    u += d * ((widen(x[i]) - mean[r]) * rstd[r]);
    v += d;
  }
};

// The per-slab sums of ParamTerms, laid out [slab][2][n].
template <class C>
struct SlabTerms {
  const C* partial;
  int64_t n;
  __device__ void operator()(int64_t s, int64_t c, C& u, C& v) const {
    u += partial[s * 2 * n + c];
    v += partial[s * 2 * n + n + c];
  }
};

// Two column sums of `terms` over the rows of slab blockIdx.y, for the 32 columns of block
// blockIdx.x: kColumnParts rows of threads take every kColumnParts-th row (adjacent threads read
// adjacent columns), then the first row of threads adds the others in order and writes
// out_u[slab * out_stride + c] and out_v likewise.
template <class C, class Out, class Terms>
__global__ void __launch_bounds__(kWarp* kColumnParts)
    column_sums(Terms terms, int64_t rows, int64_t n, int64_t slab_rows, Out* out_u, Out* out_v,
                int64_t out_stride) {
  __shared__ C shared_u[kColumnParts][kWarp], shared_v[kColumnParts][kWarp];
  const int64_t c = int64_t{blockIdx.x} * kWarp + threadIdx.x;
  const int64_t begin = int64_t{blockIdx.y} * slab_rows;
  const int64_t end = begin + slab_rows < rows ? begin + slab_rows : rows;
  C u = 0, v = 0;
  if (c < n) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kColumnParts) terms(r, c, u, v);
  }
  shared_u[threadIdx.y][threadIdx.x] = u;
  shared_v[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.y != 0 || c >= n) return;
  for (int k = 1; k < kColumnParts; ++k) {
    u += shared_u[k][threadIdx.x];
    v += shared_v[k][threadIdx.x];
  }
  out_u[blockIdx.y * out_stride + c] = narrow<Out>(u);
  out_v[blockIdx.y * out_stride + c] = narrow<Out>(v);
}

// Rows per slab: kSlabRows, or more when the slabs would not fit in gridDim.y.
int64_t slab_rows_for(int64_t rows) {
  const int64_t spread = (rows + kMaxSlabs - 1) / kMaxSlabs;
  return spread > kSlabRows ? spread : kSlabRows;
}

int64_t slabs_for(int64_t rows) {
  const int64_t slab_rows = slab_rows_for(rows);
  return rows > slab_rows ? (rows + slab_rows - 1) / slab_rows : 1;
}

template <int kV, int kT>
struct RowConfig {
  static constexpr int kVec = kV, kThreads = kT;
};

// Calls launch(RowConfig, blocks, block) for rows of n elements read kVec at a time: warp teams
// when a warp's registers hold the row, else block teams just large enough (up to kMaxTeam).
template <class T, int kVec, class Launch>
void launch_planned(int64_t rows, int64_t n, const Launch& launch) {
  constexpr int kSlots = kCacheElements<compute_of<T>> / kVec;
  const int64_t chunks = n / kVec;
  if (chunks <= int64_t{kWarp} * kSlots) {
    const int64_t blocks = (rows + kWarpRowsPerBlock - 1) / kWarpRowsPerBlock;
    launch(RowConfig<kVec, kWarp * kWarpRowsPerBlock>{}, blocks, dim3(kWarp, kWarpRowsPerBlock));
    return;
  }
  unsigned team = 2 * kWarp;
  while (team < kMaxTeam && int64_t{team} * kSlots < chunks) team *= 2;
  launch(RowConfig<kVec, kMaxTeam>{}, rows, dim3(team));
}

// 16-byte chunks when every pointer (null ones aside) is aligned to them and rows divide into
// them, else single elements.
template <class T, class Launch>
void launch_rows(int64_t rows, int64_t n, std::initializer_list<const void*> pointers,
                 const Launch& launch) {
  constexpr int kWide = 16 / sizeof(T);
  bool aligned = n % kWide == 0;
  for (const void* p : pointers) aligned = aligned && reinterpret_cast<uintptr_t>(p) % 16 == 0;
  if (aligned) {
    launch_planned<T, kWide>(rows, n, launch);
  } else {
    launch_planned<T, 1>(rows, n, launch);
  }
}

}  // namespace

const char* launch_layer_norm(DType type, const LayerNormArgs& a) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    if (a.rows == 0) return "layer_norm";
    launch_rows<T>(a.rows, a.size, {a.x, a.gamma, a.beta, a.y},
                   [&](auto config, int64_t blocks, dim3 block) {
                     using K = decltype(config);
                     layer_norm_forward<T, K::kVec, K::kThreads>
                         <<<static_cast<unsigned>(blocks), block, 0, a.stream>>>(a);
                   });
    return "layer_norm";
  });
}

size_t layer_norm_backward_workspace_bytes(DType type, int64_t rows, int64_t size,
                                           bool param_grads) {
  const int64_t slabs = slabs_for(rows);
  if (!param_grads || slabs == 1) return 0;
  const size_t element = type == DType::F64 ? sizeof(double) : sizeof(float);
  return static_cast<size_t>(slabs * 2 * size) * element;
}

const char* launch_layer_norm_backward(DType type, const LayerNormBackwardArgs& a) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    using C = compute_of<T>;
    if (a.rows > 0) {
      launch_rows<T>(a.rows, a.size, {a.dy, a.x, a.gamma, a.dx},
                     [&](auto config, int64_t blocks, dim3 block) {
                       using K = decltype(config);
                       layer_norm_dx<T, K::kVec, K::kThreads>
                           <<<static_cast<unsigned>(blocks), block, 0, a.stream>>>(a);
                     });
    }
    if (!a.dgamma) return "layer_norm_backward";
    const int64_t slab_rows = slab_rows_for(a.rows), slabs = slabs_for(a.rows);
    const ParamTerms<T> terms{static_cast<const T*>(a.dy), static_cast<const T*>(a.x),
                              static_cast<const C*>(a.mean), static_cast<const C*>(a.rstd), a.size};
    const auto columns = static_cast<unsigned>((a.size + kWarp - 1) / kWarp);
    const dim3 block(kWarp, kColumnParts);
    T* dgamma = static_cast<T*>(a.dgamma);
    T* dbeta = static_cast<T*>(a.dbeta);
    if (slabs == 1) {
      column_sums<C, T><<<dim3(columns, 1), block, 0, a.stream>>>(terms, a.rows, a.size, slab_rows,
                                                                  dgamma, dbeta, 0);
      return "layer_norm_backward";
    }
    C* partial = static_cast<C*>(a.workspace);
    column_sums<C, C><<<dim3(columns, static_cast<unsigned>(slabs)), block, 0, a.stream>>>(
        terms, a.rows, a.size, slab_rows, partial, partial + a.size, 2 * a.size);
    column_sums<C, T><<<dim3(columns, 1), block, 0, a.stream>>>(
        SlabTerms<C>{partial, a.size}, slabs, a.size, slabs, dgamma, dbeta, 0);
    return "layer_norm_backward";
  });
}

}  // namespace tenflowers::cuda
