#include "src/backends/cuda/blas.hpp"

#include <mutex>
#include <string>
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

cublasHandle_t blas_handle(int device) {
  // Made once per device and kept for the process (destroying them at exit races the runtime's
  // own teardown).
  static std::mutex mutex;
  static std::vector<cublasHandle_t>* handles =
      new std::vector<cublasHandle_t>(static_cast<size_t>(visible_device_count()), nullptr);
  const cudaStream_t stream = use_device(device);
  std::lock_guard lock(mutex);
  cublasHandle_t& handle = handles->at(static_cast<size_t>(device));
  if (!handle) {
    check_blas(cublasCreate(&handle), "cublasCreate");
    check_blas(cublasSetStream(handle, stream), "cublasSetStream");
    // A workspace of its own lets cuBLAS pick its fastest Hopper kernels (split-K, larger
    // tiles); it stays for the process, like the handle.
    void* workspace = nullptr;
    check(cudaMalloc(&workspace, kWorkspaceBytes), "cudaMalloc (cuBLAS workspace)");
    check_blas(cublasSetWorkspace(handle, workspace, kWorkspaceBytes), "cublasSetWorkspace");
  }
  return handle;
}

}  // namespace tenflowers::cuda
