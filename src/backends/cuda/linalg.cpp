// matmul on the GPU: floating dtypes through cuBLAS (strided batched gemm; f16/bf16 on the
// tensor cores with f32 accumulation; f32 in full precision unless TF32 is allowed), integers
// through a wrapping kernel. Operands are read in place when each batch entry is row-major or
// transposed with a uniform batch stride (broadcast batches have stride 0); others are copied
// contiguous first.
#include <climits>
#include <optional>
#include <string>

#include "src/backends/cuda/blas.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/matmul_launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

// A batch of matrices as gemm reads it: element strides of rows and columns, and of the batch.
struct Operand {
  Tensor tensor;  // keeps a packed copy alive
  const void* data = nullptr;
  int64_t batch_stride = 0, row_stride = 0, col_stride = 0;
  // False where no single stride walks the batch entries (a permuted view such as attention's
  // [N, heads, T, d] over [N, T, heads, d]): gemm then reads them through arrays of pointers.
  bool uniform = true;
};

// The batch stride of `t`'s leading `batch_rank` axes if one stride walks them all.
std::optional<int64_t> uniform_batch_stride(const Tensor& t, size_t batch_rank) {
  std::optional<int64_t> stride;
  int64_t span = 0;  // elements one step of the inner batch axes covers
  for (size_t d = batch_rank; d-- > 0;) {
    const int64_t extent = t.shape()[d], s = t.strides()[d];
    if (extent == 1) continue;
    if (!stride) {
      stride = s;
      span = s * extent;
    } else if (s == span) {
      span *= extent;
    } else {
      return std::nullopt;
    }
  }
  return stride.value_or(0);
}

// `t` (rank >= 2, batch axes already broadcast to the output's) as a gemm operand. Entries
// that are readable matrices at scattered offsets stay in place where `scattered_ok`.
Operand make_operand(Tensor t, size_t batch_rank, bool scattered_ok) {
  const int64_t rows = t.shape()[batch_rank], cols = t.shape()[batch_rank + 1];
  const int64_t rs = t.strides()[batch_rank], cs = t.strides()[batch_rank + 1];
  const bool row_major = (cols == 1 || cs == 1) && (rows == 1 || rs >= cols);
  const bool col_major = (rows == 1 || rs == 1) && (cols == 1 || cs >= rows);
  std::optional<int64_t> stride = uniform_batch_stride(t, batch_rank);
  if (!(row_major || col_major) || (!stride && !scattered_ok)) {
    HooksPaused paused;
    t = t.contiguous();
    stride = uniform_batch_stride(t, batch_rank);
  }
  Operand op;
  op.uniform = stride.has_value();
  op.batch_stride = stride.value_or(0);
  op.row_stride = t.strides()[batch_rank];
  op.col_stride = t.strides()[batch_rank + 1];
  op.data = t.data_ptr();
  op.tensor = std::move(t);
  return op;
}

// The address of every batch entry of `x`, in the output's (row-major) batch order.
void append_entry_addresses(const Operand& x, const Dims& batch_shape, size_t elem,
                            std::vector<int64_t>& addresses) {
  const int64_t count = batch_shape.numel();
  const auto base = reinterpret_cast<int64_t>(x.data);
  for (int64_t i = 0; i < count; ++i) {
    int64_t offset = 0;
    for (int64_t d = static_cast<int64_t>(batch_shape.size()), rest = i; d-- > 0;) {
      offset += rest % batch_shape[d] * x.tensor.strides()[d];
      rest /= batch_shape[d];
    }
    addresses.push_back(base + offset * static_cast<int64_t>(elem));
  }
}

// cuBLAS's view of a row-major operand: column-major reads it transposed. Returns the op that
// makes it the row-major matrix, and its leading dimension.
std::pair<cublasOperation_t, int64_t> blas_layout(const Operand& x, int64_t rows, int64_t cols) {
  if ((cols == 1 || x.col_stride == 1) && (rows == 1 || x.row_stride >= cols)) {
    return {CUBLAS_OP_N, rows == 1 ? cols : x.row_stride};
  }
  return {CUBLAS_OP_T, cols == 1 ? rows : x.col_stride};
}

// Whether the batch of A (row-major entries, each `m` rows of `k`) times one B (batch stride 0)
// reads as one matrix of batch * m rows; if so, A's row stride becomes that matrix's.
bool fold_batch_into_rows(Operand& a, const Operand& b, int64_t batch, int64_t m, int64_t k) {
  if (batch == 1 || !a.uniform || !b.uniform || b.batch_stride != 0) return false;
  if (k != 1 && a.col_stride != 1) return false;
  const int64_t row_stride = m == 1 ? a.batch_stride : a.row_stride;
  if (row_stride < k || a.batch_stride != m * row_stride) return false;
  a.row_stride = row_stride;
  a.col_stride = 1;
  return true;
}

int checked_int(int64_t v, const char* what) {
  if (v > INT_MAX) {
    throw UnsupportedError(std::string("matmul on the GPU: ") + what + " of " + std::to_string(v) +
                           " exceeds cuBLAS's 32-bit limit");
  }
  return static_cast<int>(v);
}

void matmul_kernel(KernelContext& ctx) {
  Tensor a = ctx.inputs[0], b = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const DType type = a.dtype();
  {
    HooksPaused paused;
    if (a.rank() == 1) a = a.unsqueeze(0);
    if (b.rank() == 1) b = b.unsqueeze(1);
  }
  const int64_t m = a.shape()[a.rank() - 2], k = a.shape()[a.rank() - 1];
  const int64_t n = b.shape()[b.rank() - 1];
  // The output's batch axes, with the two operands broadcast to them (views).
  const Dims batch_shape = broadcast_shapes(Dims(a.shape().begin(), a.shape().end() - 2),
                                            Dims(b.shape().begin(), b.shape().end() - 2));
  const size_t batch_rank = batch_shape.size();
  const int64_t batch = batch_shape.numel();
  if (out.numel() == 0) return;
  const cudaStream_t stream = use_device(ctx.device.index);
  if (k == 0) {
    check(cudaMemsetAsync(out.data_ptr(), 0, out.nbytes(), stream), "cudaMemsetAsync");
    return;
  }
  Operand A, B;
  {
    HooksPaused paused;
    Dims a_shape = batch_shape, b_shape = batch_shape;
    a_shape.push_back(m);
    a_shape.push_back(k);
    b_shape.push_back(k);
    b_shape.push_back(n);
    const bool scattered_ok = !is_integral(type);
    A = make_operand(a.expand(a_shape), batch_rank, scattered_ok);
    B = make_operand(b.expand(b_shape), batch_rank, scattered_ok);
  }
  if (is_integral(type)) {
    constexpr int64_t kMaxGridZ = 65535;
    for (int64_t first = 0; first < batch; first += kMaxGridZ) {
      const size_t elem = dtype_size(type);
      IntMatmulArgs args{static_cast<const char*>(A.data) + first * A.batch_stride * elem,
                         static_cast<const char*>(B.data) + first * B.batch_stride * elem,
                         static_cast<char*>(out.data_ptr()) + first * m * n * elem,
                         std::min(kMaxGridZ, batch - first),
                         m,
                         n,
                         k,
                         A.batch_stride,
                         A.row_stride,
                         A.col_stride,
                         B.batch_stride,
                         B.row_stride,
                         B.col_stride,
                         stream};
      finish_launch(ctx, launch_int_matmul(type, args), type);
    }
    return;
  }
  cudaDataType_t data_type;
  cublasComputeType_t compute;
  const float one_f = 1.0f, zero_f = 0.0f;
  const double one_d = 1.0, zero_d = 0.0;
  const void* alpha = &one_f;
  const void* beta = &zero_f;
  switch (type) {
    case DType::F16:
      data_type = CUDA_R_16F;
      compute = CUBLAS_COMPUTE_32F;
      break;
    case DType::BF16:
      data_type = CUDA_R_16BF;
      compute = CUBLAS_COMPUTE_32F;
      break;
    case DType::F32:
      data_type = CUDA_R_32F;
      compute = matmul_allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      break;
    case DType::F64:
      data_type = CUDA_R_64F;
      compute = CUBLAS_COMPUTE_64F;
      alpha = &one_d;
      beta = &zero_d;
      break;
    default:
      throw DTypeError("no CUDA matmul for " + std::string(dtype_name(type)));
  }
  // A batch against one shared right matrix whose left rows are evenly spaced is a single gemm
  // with batch * m rows: cuBLAS then picks tiles for the large product rather than per entry.
  int64_t rows = m, count = batch;
  if (fold_batch_into_rows(A, B, batch, m, k)) {
    rows = batch * m;
    count = 1;
  }
  // Row-major C = A B is column-major C^T = B^T A^T: cuBLAS's first operand is B.
  const auto [op_b, ldb] = blas_layout(B, k, n);
  const auto [op_a, lda] = blas_layout(A, rows, k);
  const cublasHandle_t handle = blas_handle(ctx.device.index);
  const int n32 = checked_int(n, "n"), m32 = checked_int(rows, "m"), k32 = checked_int(k, "k");
  const int ldb32 = checked_int(ldb, "ldb"), lda32 = checked_int(lda, "lda");
  if (!A.uniform || !B.uniform) {
    // One array of entry addresses per operand and the output, uploaded in stream order (the
    // allocator reuses the block only for later work on the same stream).
    std::vector<int64_t> addresses;
    const size_t elem = dtype_size(type);
    append_entry_addresses(B, batch_shape, elem, addresses);
    append_entry_addresses(A, batch_shape, elem, addresses);
    const auto c = reinterpret_cast<int64_t>(out.data_ptr());
    for (int64_t i = 0; i < batch; ++i) addresses.push_back(c + i * m * n * int64_t(elem));
    Tensor table;
    {
      HooksPaused paused;
      table = Tensor::from_data(addresses.data(), addresses.size(), DType::I64,
                                {static_cast<int64_t>(addresses.size())})
                  .to(ctx.device);
    }
    const auto* entries = static_cast<const void* const*>(table.data_ptr());
    check_blas(cublasGemmBatchedEx(handle, op_b, op_a, n32, m32, k32, alpha, entries, data_type,
                                   ldb32, entries + batch, data_type, lda32, beta,
                                   const_cast<void* const*>(entries + 2 * batch), data_type, n32,
                                   checked_int(batch, "batch"), compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmBatchedEx (matmul)");
    return;
  }
  if (type == DType::F16 || type == DType::BF16) {
    // cuBLASLt's heuristics reach Hopper's newest tensor-core kernels for the half types.
    lt_gemm(ctx.device.index, {op_b, op_a, n, rows, k, B.data, ldb, B.batch_stride, A.data, lda,
                               A.batch_stride, out.data_ptr(), n, rows * n, count, data_type});
    return;
  }
  if (count == 1) {
    // The single-product entry point: its heuristics see no batch and choose among more kernels.
    check_blas(cublasGemmEx(handle, op_b, op_a, n32, m32, k32, alpha, B.data, data_type, ldb32,
                            A.data, data_type, lda32, beta, out.data_ptr(), data_type, n32, compute,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx (matmul)");
    return;
  }
  check_blas(cublasGemmStridedBatchedEx(
                 handle, op_b, op_a, n32, m32, k32, alpha, B.data, data_type, ldb32, B.batch_stride,
                 A.data, data_type, lda32, A.batch_stride, beta, out.data_ptr(), data_type, n32,
                 rows * n, checked_int(count, "batch"), compute, CUBLAS_GEMM_DEFAULT),
             "cublasGemmStridedBatchedEx (matmul)");
}

}  // namespace

void register_cuda_linalg_kernels(OpRegistry& r) {
  r.add_kernel("matmul", DeviceType::CUDA, matmul_kernel, kNumericDTypes);
}

}  // namespace tenflowers::cuda
