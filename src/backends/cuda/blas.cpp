#include "src/backends/cuda/blas.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::cuda {

void check_blas(cublasStatus_t status, std::string_view what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  const std::string message = std::string(what) + " failed: " + cublasGetStatusName(status) + " (" +
                              cublasGetStatusString(status) + ")";
  if (status == CUBLAS_STATUS_ALLOC_FAILED) throw OutOfMemoryError(message);
  throw DeviceError(message);
}

namespace {
constexpr size_t kWorkspaceBytes = size_t{32} << 20;
}  // namespace

const BlasHandles& blas_handles(int device) {
  // Made once per device and kept for the process (destroying them at exit races the runtime's
  // own teardown).
  static std::mutex mutex;
  static std::vector<BlasHandles>* handles =
      new std::vector<BlasHandles>(static_cast<size_t>(visible_device_count()));
  const cudaStream_t stream = use_device(device);
  std::lock_guard lock(mutex);
  BlasHandles& h = handles->at(static_cast<size_t>(device));
  if (!h.blas) {
    refuse_during_capture(stream, "creating the cuBLAS handles (the device's first matmul)");
    check_blas(cublasCreate(&h.blas), "cublasCreate");
    check_blas(cublasSetStream(h.blas, stream), "cublasSetStream");
    check_blas(cublasLtCreate(&h.lt), "cublasLtCreate");
    // A workspace of its own lets cuBLAS pick its fastest Hopper kernels (split-K, larger
    // tiles); it stays for the process, like the handles.
    check(cudaMalloc(&h.workspace, kWorkspaceBytes), "cudaMalloc (cuBLAS workspace)");
    h.workspace_bytes = kWorkspaceBytes;
    check_blas(cublasSetWorkspace(h.blas, h.workspace, kWorkspaceBytes), "cublasSetWorkspace");
  }
  return h;
}

namespace {

// The largest power of two, up to 256, that divides the address: what cuBLASLt's heuristics
// must assume of the operand.
uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

template <class T, class Destroy>
auto owned(T handle, Destroy destroy) {
  return std::unique_ptr<std::remove_pointer_t<T>, Destroy>(handle, destroy);
}

}  // namespace

void lt_gemm(int device, const LtGemm& g) {
  const BlasHandles& h = blas_handles(device);
  cublasLtMatmulDesc_t raw_desc = nullptr;
  check_blas(cublasLtMatmulDescCreate(&raw_desc, g.compute, CUDA_R_32F),
             "cublasLtMatmulDescCreate");
  const auto desc = owned(raw_desc, &cublasLtMatmulDescDestroy);
  if (g.epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
    check_blas(cublasLtMatmulDescSetAttribute(desc.get(), CUBLASLT_MATMUL_DESC_EPILOGUE,
                                              &g.epilogue, sizeof(g.epilogue)),
               "cublasLtMatmulDescSetAttribute");
  }
  if (g.bias) {
    check_blas(cublasLtMatmulDescSetAttribute(desc.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                              &g.bias, sizeof(g.bias)),
               "cublasLtMatmulDescSetAttribute");
  }
  check_blas(cublasLtMatmulDescSetAttribute(desc.get(), CUBLASLT_MATMUL_DESC_TRANSA, &g.op_a,
                                            sizeof(g.op_a)),
             "cublasLtMatmulDescSetAttribute");
  check_blas(cublasLtMatmulDescSetAttribute(desc.get(), CUBLASLT_MATMUL_DESC_TRANSB, &g.op_b,
                                            sizeof(g.op_b)),
             "cublasLtMatmulDescSetAttribute");
  // A layout as stored: op(X) is rows x cols, so X itself is transposed where op is T.
  auto layout = [&](bool transposed, int64_t rows, int64_t cols, int64_t ld, int64_t stride) {
    cublasLtMatrixLayout_t raw = nullptr;
    check_blas(cublasLtMatrixLayoutCreate(&raw, g.type, transposed ? cols : rows,
                                          transposed ? rows : cols, ld),
               "cublasLtMatrixLayoutCreate");
    auto made = owned(raw, &cublasLtMatrixLayoutDestroy);
    const int32_t count = static_cast<int32_t>(g.batch);
    check_blas(cublasLtMatrixLayoutSetAttribute(made.get(), CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                &count, sizeof(count)),
               "cublasLtMatrixLayoutSetAttribute");
    check_blas(
        cublasLtMatrixLayoutSetAttribute(made.get(), CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                         &stride, sizeof(stride)),
        "cublasLtMatrixLayoutSetAttribute");
    return made;
  };
  const auto a = layout(g.op_a != CUBLAS_OP_N, g.m, g.k, g.lda, g.stride_a);
  const auto b = layout(g.op_b != CUBLAS_OP_N, g.k, g.n, g.ldb, g.stride_b);
  const auto c = layout(false, g.m, g.n, g.ldc, g.stride_c);

  const uint32_t align_a = alignment_of(g.a), align_b = alignment_of(g.b),
                 align_c = alignment_of(g.c);
  using Key = std::tuple<int, int, int, int, int, int, std::vector<int64_t>>;
  static std::mutex mutex;
  static std::map<Key, cublasLtMatmulAlgo_t> chosen;
  const Key key{device,
                static_cast<int>(g.type),
                static_cast<int>(g.op_a) * 4 + int(g.op_b),
                static_cast<int>(align_a * 1024 * 1024 + align_b * 1024 + align_c),
                static_cast<int>(g.compute),
                static_cast<int>(g.epilogue),
                {g.m, g.n, g.k, g.lda, g.ldb, g.ldc, g.stride_a, g.stride_b, g.stride_c, g.batch}};
  cublasLtMatmulAlgo_t algo;
  {
    std::lock_guard lock(mutex);
    auto it = chosen.find(key);
    if (it == chosen.end()) {
      cublasLtMatmulPreference_t raw_pref = nullptr;
      check_blas(cublasLtMatmulPreferenceCreate(&raw_pref), "cublasLtMatmulPreferenceCreate");
      const auto pref = owned(raw_pref, &cublasLtMatmulPreferenceDestroy);
      const uint64_t bytes = h.workspace_bytes;
      check_blas(cublasLtMatmulPreferenceSetAttribute(
                     pref.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &bytes, sizeof(bytes)),
                 "cublasLtMatmulPreferenceSetAttribute");
      for (const auto& [attribute, value] :
           {std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, align_a},
            std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, align_b},
            std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_c},
            std::pair{CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_c}}) {
        check_blas(
            cublasLtMatmulPreferenceSetAttribute(pref.get(), attribute, &value, sizeof(value)),
            "cublasLtMatmulPreferenceSetAttribute");
      }
      cublasLtMatmulHeuristicResult_t result{};
      int found = 0;
      check_blas(cublasLtMatmulAlgoGetHeuristic(h.lt, desc.get(), a.get(), b.get(), c.get(),
                                                c.get(), pref.get(), 1, &result, &found),
                 "cublasLtMatmulAlgoGetHeuristic");
      if (found == 0) {
        throw UnsupportedError("cuBLASLt has no algorithm for a " + std::to_string(g.m) + "x" +
                               std::to_string(g.n) + "x" + std::to_string(g.k) + " product");
      }
      it = chosen.emplace(key, result.algo).first;
    }
    algo = it->second;
  }
  const float one = 1.0f, zero = 0.0f;
  check_blas(
      cublasLtMatmul(h.lt, desc.get(), &one, g.a, a.get(), g.b, b.get(), &zero, g.c, c.get(), g.c,
                     c.get(), &algo, h.workspace, h.workspace_bytes, use_device(device)),
      "cublasLtMatmul (matmul)");
}

}  // namespace tenflowers::cuda
