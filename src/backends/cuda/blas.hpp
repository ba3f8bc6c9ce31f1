#pragma once
// cuBLAS and cuBLASLt as the backend uses them: one handle of each per device, bound to the
// device's stream and sharing one workspace, and checked calls.
#include <cublasLt.h>
#include <cublas_v2.h>

#include <string_view>

namespace tenflowers::cuda {

struct BlasHandles {
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;  // used by both, in stream order
  size_t workspace_bytes = 0;
};

// The device's handles, on its stream; the device is made current.
const BlasHandles& blas_handles(int device);
inline cublasHandle_t blas_handle(int device) {
  return blas_handles(device).blas;
}
void check_blas(cublasStatus_t status, std::string_view what);

// One (strided-batched) column-major product D = op(A) op(B), in cuBLAS's argument order, run
// through cuBLASLt with the algorithm its heuristics rank first for the shape and the operands'
// alignments (asked once per configuration). f32 scaling: f32 (full or TF32 compute), and f16
// and bf16 on tensor cores.
struct LtGemm {
  cublasOperation_t op_a, op_b;
  int64_t m, n, k;
  const void* a;
  int64_t lda, stride_a;
  const void* b;
  int64_t ldb, stride_b;
  void* c;
  int64_t ldc, stride_c;
  int64_t batch;
  cudaDataType_t type;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;  // or CUBLAS_COMPUTE_32F_FAST_TF32
  // Applied to the product before it is stored: a bias per row of D (`bias`, D's dtype) and
  // an activation (CUBLASLT_EPILOGUE_BIAS, _RELU_BIAS, _RELU).
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
};
void lt_gemm(int device, const LtGemm& g);

}  // namespace tenflowers::cuda
