#pragma once
// cuBLAS as the backend uses it: one handle per device, bound to the device's stream, and
// checked calls.
#include <cublas_v2.h>

#include <string_view>

namespace tenflowers::cuda {

// The device's handle, on its stream; the device is made current.
cublasHandle_t blas_handle(int device);
void check_blas(cublasStatus_t status, std::string_view what);

}  // namespace tenflowers::cuda
