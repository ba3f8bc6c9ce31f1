#pragma once
// Integer matmul on the GPU (cuBLAS has no wrapping integer gemm): plain structs only.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

// C[b] (m x n, contiguous) = A[b] (m x k) * B[b] (k x n); element strides per operand, batch b
// of A at a + b * a_batch_stride (likewise B). Accumulates in 64-bit unsigned arithmetic and
// truncates, as the CPU loop.
struct IntMatmulArgs {
  const void* a;
  const void* b;
  void* c;
  int64_t batch, m, n, k;
  int64_t a_batch_stride, a_row_stride, a_col_stride;
  int64_t b_batch_stride, b_row_stride, b_col_stride;
  cudaStream_t stream;
};
const char* launch_int_matmul(DType type, const IntMatmulArgs& args);

}  // namespace tenflowers::cuda
