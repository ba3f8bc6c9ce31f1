#pragma once
// Every f32 matrix product of the CPU backend goes through sgemm: oneDNN's, whose kernels are
// generated at run time for the CPU's instruction set. On an Emerald Rapids Xeon (2 threads) it
// ran 12 to 20% faster than OpenBLAS's AVX-512 kernels at the W2 and W3 shapes
// (docs/performance.md). f64 and matrix-vector products stay with OpenBLAS.
#include <dnnl.h>

#include <cstdint>

#include "tenflowers/core/error.hpp"

namespace tenflowers::cpu {

// Row-major c = alpha * op(a) @ op(b) + beta * c with op(a) m x k and op(b) k x n. Inside a
// parallel region it runs on the calling thread; outside, on the OpenMP team.
inline void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  const dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha,
                                          a, lda, b, ldb, beta, c, ldc);
  TF_CHECK(status == dnnl_success, InternalError, "oneDNN's sgemm failed with status ",
           static_cast<int>(status), " for a ", m, "x", k, " by ", k, "x", n, " product");
}

}  // namespace tenflowers::cpu
