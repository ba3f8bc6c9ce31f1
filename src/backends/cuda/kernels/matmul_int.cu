// Integer matmul: one thread per output element, 16x16 tiles of the operands staged in shared
// memory. Integer matmuls are rare and small in practice; correctness matters more than speed.
#include "src/backends/cuda/kernels/device_types.cuh"
#include "src/backends/cuda/kernels/matmul_launch.hpp"

namespace tenflowers::cuda {
namespace {

constexpr int kTile = 16;

template <class T>
__global__ void int_matmul(IntMatmulArgs args) {
  __shared__ uint64_t a_tile[kTile][kTile];
  __shared__ uint64_t b_tile[kTile][kTile];
  const T* a = static_cast<const T*>(args.a) + blockIdx.z * args.a_batch_stride;
  const T* b = static_cast<const T*>(args.b) + blockIdx.z * args.b_batch_stride;
  T* c = static_cast<T*>(args.c) + blockIdx.z * args.m * args.n;
  const int64_t row = int64_t{blockIdx.y} * kTile + threadIdx.y;
  const int64_t col = int64_t{blockIdx.x} * kTile + threadIdx.x;
  uint64_t acc = 0;
  for (int64_t k0 = 0; k0 < args.k; k0 += kTile) {
    const int64_t ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    a_tile[threadIdx.y][threadIdx.x] =
        row < args.m && ka < args.k ? static_cast<uint64_t>(static_cast<int64_t>(
                                          a[row * args.a_row_stride + ka * args.a_col_stride]))
                                    : 0;
    b_tile[threadIdx.y][threadIdx.x] =
        kb < args.k && col < args.n ? static_cast<uint64_t>(static_cast<int64_t>(
                                          b[kb * args.b_row_stride + col * args.b_col_stride]))
                                    : 0;
    __syncthreads();
#pragma unroll
    for (int j = 0; j < kTile; ++j) acc += a_tile[threadIdx.y][j] * b_tile[j][threadIdx.x];
    __syncthreads();
  }
  if (row < args.m && col < args.n) c[row * args.n + col] = static_cast<T>(acc);
}

}  // namespace

const char* launch_int_matmul(DType type, const IntMatmulArgs& args) {
  return with_type(type, IntTypes{}, [&](auto t) {
    using T = decltype(t);
    const dim3 threads(kTile, kTile);
    const dim3 blocks(static_cast<unsigned>((args.n + kTile - 1) / kTile),
                      static_cast<unsigned>((args.m + kTile - 1) / kTile),
                      static_cast<unsigned>(args.batch));
    int_matmul<T><<<blocks, threads, 0, args.stream>>>(args);
    return "int_matmul";
  });
}

}  // namespace tenflowers::cuda
