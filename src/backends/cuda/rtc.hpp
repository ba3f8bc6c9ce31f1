#pragma once
// Run-time compilation with NVRTC, for kernels that depend on what only a run knows (the
// programs of fused_elementwise). Sources may include the embedded kernel headers
// (rtc_headers.hpp) and the toolkit's cuda_fp16.h and cuda_bf16.h.
#include <cuda_runtime_api.h>

#include <string>

namespace tenflowers::cuda {

// Machine code of `source` for sm_<arch> (90 for compute capability 9.0), compiled with the
// numerics of the precompiled kernels. Needs no GPU. Throws DeviceError carrying NVRTC's log
// when the source does not compile.
std::string compile_cubin(const std::string& source, int arch);

// The architecture of `device` as compile_cubin takes it.
int device_arch(int device);

// Loads `cubin` as a library and returns its kernel `name`, usable on every device. The library
// stays loaded for the process; the caller keeps `cubin` alive as long.
cudaKernel_t load_kernel(const std::string& cubin, const char* name);

}  // namespace tenflowers::cuda
