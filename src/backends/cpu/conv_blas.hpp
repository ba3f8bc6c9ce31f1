#pragma once
// Row-major gemm for the float types the convolution kernels compute in (f32 through sgemm.hpp,
// f64 through OpenBLAS), and a scope that keeps OpenBLAS single-threaded while our own thread
// team issues many independent gemms (oneDNN, called inside the team, runs on the calling thread).
#include <cblas.h>

#include <climits>
#include <cstdint>
#include <mutex>

#include "src/backends/cpu/sgemm.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/parallel.hpp"

namespace tenflowers::cpu {

// Every matrix extent and leading dimension must fit BLAS's 32-bit integers.
inline void check_blas_extent(int64_t extent, const char* op) {
  TF_CHECK(extent <= INT_MAX, UnsupportedError, op, ": a matrix extent of ", extent,
           " exceeds the BLAS index range (", INT_MAX, ")");
}

// c = alpha * op(a) @ op(b) + beta * c with op(a) m x k and op(b) k x n.
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc) {
  sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                 const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
                 int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m), static_cast<blasint>(n),
              static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda), b,
              static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

// OpenBLAS's pthread pool is shared by all callers: gemms issued concurrently from our OpenMP
// threads would each try to fan out over it and spin on each other. While any scope is alive,
// BLAS runs single-threaded; the last one to close restores the configured thread count.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() {
    std::lock_guard lock(mutex());
    if (depth()++ == 0) openblas_set_num_threads(1);
  }
  ~SingleThreadedBlas() {
    std::lock_guard lock(mutex());
    if (--depth() == 0) openblas_set_num_threads(get_num_threads());
  }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& depth() {
    static int d = 0;
    return d;
  }
};

}  // namespace tenflowers::cpu
