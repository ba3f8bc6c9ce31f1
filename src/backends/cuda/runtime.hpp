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

// Graph capture (include/tenflowers/core/cuda_graph.hpp). Whether work queued on `stream` is
// being recorded (an invalidated capture counts: its work is not run either).
bool capturing(cudaStream_t stream);
// Throws UnsupportedError naming `what` when `stream` (or `device`'s stream) is being captured:
// for work that blocks the host, reads results on it, or must run once rather than at every
// replay.
void refuse_during_capture(cudaStream_t stream, std::string_view what);
void refuse_during_capture(int device, std::string_view what);

// Lets this thread call what stream capture counts as unsafe (cudaMalloc, cudaHostAlloc) while
// it captures: such calls are not recorded, and in this mode they do not invalidate the capture.
class RelaxedCaptureMode {
 public:
  RelaxedCaptureMode();
  ~RelaxedCaptureMode();
  RelaxedCaptureMode(const RelaxedCaptureMode&) = delete;
  RelaxedCaptureMode& operator=(const RelaxedCaptureMode&) = delete;

 private:
  cudaStreamCaptureMode saved_ = cudaStreamCaptureModeRelaxed;
};

}  // namespace tenflowers::cuda
