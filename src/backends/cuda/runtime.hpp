#pragma once
// The CUDA runtime as the backend uses it: checked calls that raise typed errors naming what
// failed, one compute stream per device (every kernel, library call and copy of that device is
// ordered on it), and the device a thread's calls go to.
#include <cuda_runtime_api.h>

#include <string_view>

namespace tenflowers::cuda {

// Throws OutOfMemoryError for allocation failures and DeviceError otherwise, naming `what`, the
// CUDA error, and the last kernel this thread launched (an asynchronous fault surfaces at a
// later call, so that kernel is the likely culprit).
void check(cudaError_t status, std::string_view what);
// Checks a kernel launch just made for op `op` and records it as this thread's last launch.
void check_launch(std::string_view op, const char* kernel);

int visible_device_count();  // 0 when there is no driver or no GPU
// Makes `device` current for this thread (a no-op when it already is) and returns its stream.
cudaStream_t use_device(int device);
const cudaDeviceProp& properties(int device);

}  // namespace tenflowers::cuda
