// matmul on the CPU. f32 goes to oneDNN's sgemm (sgemm.hpp) and f64 to OpenBLAS, reading
// row-major and transposed operands in place (a strided operand neither can read is packed once);
// f16/bf16 convert row blocks to f32 for sgemm; integers, and batches of small matrices of any
// dtype, use a blocked loop run in parallel over row blocks. Broadcast batch entries are addressed
// through their strides, never materialized.
#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "src/backends/cpu/linalg.hpp"
#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/sgemm.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

// OpenBLAS runs a gemm of at most this many multiply-adds on the calling thread
// (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD), so a batch of them gains nothing from its
// threads; and OpenBLAS 0.3.21 called from several threads at once slows down (measured: 4096
// 8x8 products 5x slower on 16 threads than on one). Batches of such matrices therefore use our
// own loop in parallel; BLAS is only called from the calling thread, never nested in ours.
constexpr int64_t kBlasSingleThreadWork = 65536 * 4;
// A batch of f32 products of at most this many multiply-adds each runs one whole product per
// thread (oneDNN's sgemm runs on its calling thread inside the team): for the 24 128x128x64
// products of W6's attention, 30 to 40% faster than each product split over the threads, whose
// fork and join per product cost more than they share out.
constexpr int64_t kSgemmEntryPerThreadWork = int64_t{1} << 22;
// Multiply-adds a parallel chunk of the loop should hold at least.
constexpr int64_t kMinChunkWork = int64_t{1} << 18;
// Rows of a f16/bf16 left operand converted to f32 per sgemm call (bounds the scratch memory).
constexpr int64_t kHalfRowBlock = 512;
// Loop tiles: rows sharing one pass over a (depth x columns) tile of the right operand.
constexpr int64_t kLoopRowBlock = 16, kLoopColBlock = 256, kLoopDepthBlock = 256;

// One batch entry of an operand: a rows x cols matrix with element strides.
struct Matrix {
  int64_t rows = 0, cols = 0, row_stride = 0, col_stride = 0;
};

// How BLAS reads a matrix in place: row-major with leading dimension ld, or (transposed) as the
// transpose of a row-major cols x rows matrix.
struct BlasMatrix {
  bool transposed = false;
  int64_t ld = 1;
};

std::optional<BlasMatrix> blas_matrix(const Matrix& m) {
  if ((m.cols == 1 || m.col_stride == 1) && (m.rows == 1 || m.row_stride >= m.cols)) {
    return BlasMatrix{false, m.rows == 1 ? m.cols : m.row_stride};
  }
  if ((m.rows == 1 || m.row_stride == 1) && (m.cols == 1 || m.col_stride >= m.rows)) {
    return BlasMatrix{true, m.cols == 1 ? m.rows : m.col_stride};
  }
  return std::nullopt;
}

// What a dtype's loop needs from an operand's matrix layout; anything else is packed first.
enum class Need { Blas, UnitColumnStride, AnyStrides };

bool layout_ok(const Matrix& m, Need need) {
  switch (need) {
    case Need::Blas: {
      const auto blas = blas_matrix(m);
      return blas && blas->ld <= INT_MAX;
    }
    case Need::UnitColumnStride:
      return m.cols == 1 || m.col_stride == 1;
    case Need::AnyStrides:
      return true;
  }
  return false;
}

// The matrix of an operand's batch entries: a 1-d left operand is one row, a 1-d right operand
// one column (the stride of the missing axis is never used).
Matrix matrix_of(const Tensor& t, bool right) {
  const Dims& shape = t.shape();
  const Dims& strides = t.strides();
  const size_t r = shape.size();
  if (r == 1) {
    return right ? Matrix{shape[0], 1, strides[0], 0} : Matrix{1, shape[0], 0, strides[0]};
  }
  return {shape[r - 2], shape[r - 1], strides[r - 2], strides[r - 1]};
}

// A contiguous copy of t, made by the copy kernel directly (a kernel dispatches no ops). Batch
// axes of stride 0 (expanded) shrink to extent 1 first: batch broadcasting re-expands them, so
// the copy never materializes the expansion.
Tensor packed_copy(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>(*t.impl());
  impl->id = TensorImpl::next_id();
  for (size_t i = 0; i + 2 < impl->shape.size(); ++i) {
    if (impl->strides[i] == 0) impl->shape[i] = std::min<int64_t>(impl->shape[i], 1);
  }
  const Tensor source(std::move(impl));
  Tensor outputs[] = {Tensor::empty(source.shape(), source.dtype(), source.device())};
  const OpDef& copy = registry().get("copy");
  const Attrs no_attrs;
  KernelContext ctx{copy, std::span<const Tensor>(&source, 1), no_attrs, outputs, source.device()};
  copy.kernel(DeviceType::CPU).fn(ctx);
  return outputs[0];
}

struct Operand {
  Tensor tensor;  // the input, or its packed copy
  const char* base = nullptr;
  Matrix mat;
  Dims batch_strides;  // element strides over the broadcast batch shape, 0 where broadcast
};

Operand make_operand(const Tensor& t, bool right, Need need, const Dims& batch_shape) {
  Operand op;
  op.tensor = layout_ok(matrix_of(t, right), need) ? t : packed_copy(t);
  op.mat = matrix_of(op.tensor, right);
  op.base = static_cast<const char*>(op.tensor.data_ptr());
  const size_t own_batch = op.tensor.shape().size() >= 2 ? op.tensor.shape().size() - 2 : 0;
  const size_t lead = batch_shape.size() - own_batch;
  op.batch_strides = Dims(batch_shape.size(), 0);
  for (size_t i = 0; i < own_batch; ++i) {
    if (op.tensor.shape()[i] != 1) op.batch_strides[lead + i] = op.tensor.strides()[i];
  }
  return op;
}

// The whole call: C[i] = A[i] @ B[i] for every entry i of the broadcast batch, with C dense.
struct Plan {
  Dims batch_shape;
  int64_t count = 1;  // batch entries
  int64_t m = 0, n = 0, k = 0;
  Operand a, b;

  // Element offsets of batch entry i in a and b.
  std::pair<int64_t, int64_t> offsets(int64_t i) const {
    int64_t oa = 0, ob = 0;
    for (size_t d = batch_shape.size(); d-- > 0;) {
      const int64_t index = i % batch_shape[d];
      i /= batch_shape[d];
      oa += index * a.batch_strides[d];
      ob += index * b.batch_strides[d];
    }
    return {oa, ob};
  }
  // A batch of matrices too small for BLAS threads to help (see kBlasSingleThreadWork).
  bool small_batch() const { return count > 1 && m * n * k <= kBlasSingleThreadWork; }
  // A batch of f32 gemms (not gemv: OpenBLAS's) to split over the threads by entry (see
  // kSgemmEntryPerThreadWork).
  bool sgemm_entries_per_thread() const {
    return count >= get_num_threads() && m > 1 && n > 1 && m * n * k <= kSgemmEntryPerThreadWork;
  }
};

Plan make_plan(const Tensor& a, const Tensor& b, const Tensor& out, Need need_a, Need need_b) {
  Plan p;
  const size_t matrix_axes = (a.rank() >= 2 ? 1 : 0) + (b.rank() >= 2 ? 1 : 0);
  p.batch_shape = Dims(out.shape().begin(), out.shape().end() - matrix_axes);
  p.count = p.batch_shape.numel();
  p.a = make_operand(a, false, need_a, p.batch_shape);
  p.b = make_operand(b, true, need_b, p.batch_shape);
  p.m = p.a.mat.rows;
  p.k = p.a.mat.cols;
  p.n = p.b.mat.cols;
  return p;
}

void check_blas_dims(const Plan& p) {
  TF_CHECK(p.m <= INT_MAX && p.n <= INT_MAX && p.k <= INT_MAX, UnsupportedError,
           "matmul: matrix dimensions (", p.m, ", ", p.k, ", ", p.n,
           ") exceed the BLAS integer range (", INT_MAX, ")");
}

// ---- BLAS ----------------------------------------------------------------------------------

void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const float* a, int lda,
               const float* b, int ldb, float* c, int ldc) {
  sgemm(ta == CblasTrans, tb == CblasTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, const double* a,
               int lda, const double* b, int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}
void blas_gemv(CBLAS_TRANSPOSE t, int rows, int cols, const float* a, int lda, const float* x,
               int incx, float* y) {
  cblas_sgemv(CblasRowMajor, t, rows, cols, 1.0f, a, lda, x, incx, 0.0f, y, 1);
}
void blas_gemv(CBLAS_TRANSPOSE t, int rows, int cols, const double* a, int lda, const double* x,
               int incx, double* y) {
  cblas_dgemv(CblasRowMajor, t, rows, cols, 1.0, a, lda, x, incx, 0.0, y, 1);
}

// c (m x n, dense) = a (m x k) @ b (k x n) in one BLAS call; a matrix-vector product goes to
// gemv (OpenBLAS gemm packs the vector side).
template <class T>
void gemm(const T* a, BlasMatrix la, const T* b, BlasMatrix lb, int64_t m, int64_t n, int64_t k,
          T* c) {
  const auto lda = static_cast<int>(la.ld), ldb = static_cast<int>(lb.ld);
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  if (n == 1) {
    // c = op(a) x with x the single column of b.
    const int incx = lb.transposed ? 1 : ldb;
    if (la.transposed) {
      blas_gemv(CblasTrans, ki, mi, a, lda, b, incx, c);
    } else {
      blas_gemv(CblasNoTrans, mi, ki, a, lda, b, incx, c);
    }
  } else if (m == 1) {
    // c = op(b)^T x with x the single row of a.
    const int incx = la.transposed ? lda : 1;
    if (lb.transposed) {
      blas_gemv(CblasNoTrans, ni, ki, b, ldb, a, incx, c);
    } else {
      blas_gemv(CblasTrans, ki, ni, b, ldb, a, incx, c);
    }
  } else {
    blas_gemm(la.transposed ? CblasTrans : CblasNoTrans, lb.transposed ? CblasTrans : CblasNoTrans,
              mi, ni, ki, a, lda, b, ldb, c, ni);
  }
}

// True when b is the same matrix for every entry and a's entries are consecutive row blocks
// (row-major, entry i at i * m * lda): then the batch is one gemm with count * m rows.
bool rows_stack(const Plan& p, BlasMatrix la) {
  if (la.transposed || p.count * p.m > INT_MAX) return false;
  int64_t expected = p.m * la.ld;
  for (size_t d = p.batch_shape.size(); d-- > 0;) {
    if (p.b.batch_strides[d] != 0) return false;
    if (p.batch_shape[d] == 1) continue;
    if (p.a.batch_strides[d] != expected) return false;
    expected *= p.batch_shape[d];
  }
  return true;
}

// ---- the blocked loop (integers, small batches) ---------------------------------------------

// What the loop accumulates in: 64-bit unsigned for integers (wrapping is defined there and equals
// the two's complement result, which the narrowing store keeps modulo the output width, as
// NumPy), float for f16/bf16, the type itself for f32/f64.
template <class T>
using LoopAcc = std::conditional_t<std::is_integral_v<T>, uint64_t, compute_t<T>>;

template <class T>
LoopAcc<T> widen(T v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<uint64_t>(static_cast<int64_t>(v));
  } else {
    return static_cast<LoopAcc<T>>(v);
  }
}

template <class T>
T narrow(LoopAcc<T> v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(static_cast<int64_t>(v));
  } else {
    return T(v);
  }
}

// Rows [row0, row0 + rows) of c = a @ b for one batch entry; b has unit column stride.
template <class T>
void loop_rows(const T* a, const Matrix& am, const T* b, const Matrix& bm, int64_t n, int64_t k,
               int64_t row0, int64_t rows, T* c, LoopAcc<T>* acc) {
  for (int64_t j0 = 0; j0 < n; j0 += kLoopColBlock) {
    const int64_t cols = std::min(kLoopColBlock, n - j0);
    std::fill(acc, acc + rows * cols, LoopAcc<T>{0});
    for (int64_t k0 = 0; k0 < k; k0 += kLoopDepthBlock) {
      const int64_t k1 = std::min(k, k0 + kLoopDepthBlock);
      for (int64_t r = 0; r < rows; ++r) {
        LoopAcc<T>* acc_row = acc + r * cols;
        const T* a_row = a + (row0 + r) * am.row_stride;
        for (int64_t kk = k0; kk < k1; ++kk) {
          const LoopAcc<T> x = widen(a_row[kk * am.col_stride]);
          const T* b_row = b + kk * bm.row_stride + j0;
          for (int64_t j = 0; j < cols; ++j) acc_row[j] += x * widen(b_row[j]);
        }
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      T* c_row = c + (row0 + r) * n + j0;
      for (int64_t j = 0; j < cols; ++j) c_row[j] = narrow<T>(acc[r * cols + j]);
    }
  }
}

template <class T>
void matmul_loop(Plan& p, T* c) {
  p.b = make_operand(p.b.tensor, true, Need::UnitColumnStride, p.batch_shape);
  const T* a = reinterpret_cast<const T*>(p.a.base);
  const T* b = reinterpret_cast<const T*>(p.b.base);
  const int64_t blocks_per_entry = (p.m + kLoopRowBlock - 1) / kLoopRowBlock;
  const int64_t block_work = std::max<int64_t>(1, std::min(kLoopRowBlock, p.m) * p.n * p.k);
  parallel_for(0, p.count * blocks_per_entry, std::max<int64_t>(1, kMinChunkWork / block_work),
               [&](int64_t lo, int64_t hi) {
                 std::vector<LoopAcc<T>> acc(static_cast<size_t>(kLoopRowBlock * kLoopColBlock));
                 for (int64_t item = lo; item < hi; ++item) {
                   const int64_t entry = item / blocks_per_entry;
                   const int64_t row0 = (item % blocks_per_entry) * kLoopRowBlock;
                   const auto [oa, ob] = p.offsets(entry);
                   loop_rows(a + oa, p.a.mat, b + ob, p.b.mat, p.n, p.k, row0,
                             std::min(kLoopRowBlock, p.m - row0), c + entry * p.m * p.n,
                             acc.data());
                 }
               });
}

// ---- f32 / f64 -----------------------------------------------------------------------------

template <class T>
void matmul_blas(Plan& p, T* c) {
  check_blas_dims(p);
  const BlasMatrix la = *blas_matrix(p.a.mat), lb = *blas_matrix(p.b.mat);
  const T* a = reinterpret_cast<const T*>(p.a.base);
  const T* b = reinterpret_cast<const T*>(p.b.base);
  const auto entries = [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const auto [oa, ob] = p.offsets(i);
      gemm(a + oa, la, b + ob, lb, p.m, p.n, p.k, c + i * p.m * p.n);
    }
  };
  if (p.count == 1 || rows_stack(p, la)) {
    gemm(a, la, b, lb, p.count * p.m, p.n, p.k, c);
  } else if (p.small_batch()) {
    matmul_loop(p, c);
  } else if (std::is_same_v<T, float> && p.sgemm_entries_per_thread()) {
    parallel_for(0, p.count, 1, entries);
  } else {
    entries(0, p.count);
  }
}

// ---- f16 / bf16 ----------------------------------------------------------------------------

// Rows [row0, row0 + rows) of a strided matrix, as dense row-major floats.
template <class T>
void rows_to_float(const T* src, const Matrix& mat, int64_t row0, int64_t rows, float* dst) {
  const int64_t cols = mat.cols;
  parallel_for(0, rows, std::max<int64_t>(1, 32768 / cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* row = src + (row0 + r) * mat.row_stride;
      float* out = dst + r * cols;
      if (mat.col_stride == 1) {
        for (int64_t j = 0; j < cols; ++j) out[j] = static_cast<float>(row[j]);
      } else {
        for (int64_t j = 0; j < cols; ++j) out[j] = static_cast<float>(row[j * mat.col_stride]);
      }
    }
  });
}

template <class T>
void matmul_half(Plan& p, T* c) {
  if (p.small_batch()) {
    matmul_loop(p, c);
    return;
  }
  check_blas_dims(p);
  const T* a = reinterpret_cast<const T*>(p.a.base);
  const T* b = reinterpret_cast<const T*>(p.b.base);
  const int64_t row_block = std::min(p.m, kHalfRowBlock);
  std::vector<float> b32(static_cast<size_t>(p.k * p.n));
  std::vector<float> a32(static_cast<size_t>(row_block * p.k));
  std::vector<float> c32(static_cast<size_t>(row_block * p.n));
  std::optional<int64_t> b_converted;  // offset of the right operand now in b32
  for (int64_t i = 0; i < p.count; ++i) {
    const auto [oa, ob] = p.offsets(i);
    if (b_converted != ob) {
      rows_to_float(b + ob, p.b.mat, 0, p.k, b32.data());
      b_converted = ob;
    }
    for (int64_t r0 = 0; r0 < p.m; r0 += row_block) {
      const int64_t rows = std::min(row_block, p.m - r0);
      rows_to_float(a + oa, p.a.mat, r0, rows, a32.data());
      gemm(a32.data(), BlasMatrix{false, p.k}, b32.data(), BlasMatrix{false, p.n}, rows, p.n, p.k,
           c32.data());
      T* out = c + i * p.m * p.n + r0 * p.n;
      for (int64_t j = 0; j < rows * p.n; ++j) out[j] = T(c32[static_cast<size_t>(j)]);
    }
  }
}

void matmul_kernel(KernelContext& ctx) {
  const Tensor& a = ctx.inputs[0];
  const Tensor& b = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  if (a.shape()[a.shape().size() - 1] == 0) {  // empty sums: every element is zero
    std::memset(out.data_ptr(), 0, out.nbytes());
    return;
  }
  const DType dtype = out.dtype();
  const bool blas = dtype == DType::F32 || dtype == DType::F64;
  const Need need = blas ? Need::Blas : Need::AnyStrides;
  Plan plan = make_plan(a, b, out, need, need);
  TF_DISPATCH_NUMERIC(dtype, "matmul", [&] {
    scalar_t* c = out.data<scalar_t>();
    if constexpr (std::is_same_v<scalar_t, float> || std::is_same_v<scalar_t, double>) {
      matmul_blas(plan, c);
    } else if constexpr (std::is_same_v<scalar_t, Half> || std::is_same_v<scalar_t, BFloat16>) {
      matmul_half(plan, c);
    } else {
      matmul_loop(plan, c);
    }
  });
}

}  // namespace

void register_cpu_matmul_kernels(OpRegistry& r) {
  r.add_kernel("matmul", DeviceType::CPU, matmul_kernel, kNumericDTypes);
}

}  // namespace tenflowers::cpu
