#include "src/backends/cuda/runtime.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tenflowers/core/error.hpp"

namespace tenflowers::cuda {
namespace {

struct LastLaunch {
  std::string op;
  const char* kernel = nullptr;
};
thread_local LastLaunch t_last_launch;
thread_local int t_current_device = -1;

struct DeviceState {
  cudaStream_t stream = nullptr;
  cudaDeviceProp props{};
};

// Streams and properties of every device, made on first use and kept for the process: the
// streams outlive every tensor, so no kernel is ever queued on a destroyed stream.
std::vector<DeviceState>& devices() {
  static std::vector<DeviceState>* states = [] {
    auto* made = new std::vector<DeviceState>(static_cast<size_t>(visible_device_count()));
    for (size_t i = 0; i < made->size(); ++i) {
      check(cudaSetDevice(static_cast<int>(i)), "cudaSetDevice");
      check(cudaStreamCreateWithFlags(&(*made)[i].stream, cudaStreamNonBlocking),
            "cudaStreamCreateWithFlags");
      check(cudaGetDeviceProperties(&(*made)[i].props, static_cast<int>(i)),
            "cudaGetDeviceProperties");
    }
    if (!made->empty()) check(cudaSetDevice(0), "cudaSetDevice");
    t_current_device = made->empty() ? -1 : 0;
    return made;
  }();
  return *states;
}

}  // namespace

void check(cudaError_t status, std::string_view what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clears a non-sticky error so that later calls are not blamed for it
  std::string message = std::string(what) + " failed: " + cudaGetErrorName(status) + " (" +
                        cudaGetErrorString(status) + ")";
  if (t_last_launch.kernel) {
    message += "; the last kernel launched by this thread was '" +
               std::string(t_last_launch.kernel) + "' for op '" + t_last_launch.op + "'";
  }
  if (status == cudaErrorMemoryAllocation) throw OutOfMemoryError(message);
  throw DeviceError(message);
}

void check_launch(std::string_view op, const char* kernel) {
  t_last_launch.op.assign(op);
  t_last_launch.kernel = kernel;
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    throw DeviceError("CUDA kernel '" + std::string(kernel) + "' of op '" + std::string(op) +
                      "' failed to launch: " + cudaGetErrorName(status) + " (" +
                      cudaGetErrorString(status) + ")");
  }
}

int visible_device_count() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

cudaStream_t use_device(int device) {
  DeviceState& state = devices().at(static_cast<size_t>(device));
  if (t_current_device != device) {
    check(cudaSetDevice(device), "cudaSetDevice");
    t_current_device = device;
  }
  return state.stream;
}

const cudaDeviceProp& properties(int device) {
  return devices().at(static_cast<size_t>(device)).props;
}

bool capturing(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  check(cudaStreamIsCapturing(stream, &status), "cudaStreamIsCapturing");
  return status != cudaStreamCaptureStatusNone;
}

void refuse_during_capture(int device, std::string_view what) {
  refuse_during_capture(use_device(device), what);
}

void refuse_during_capture(cudaStream_t stream, std::string_view what) {
  if (!capturing(stream)) return;
  throw UnsupportedError(std::string(what) +
                         " during a CUDA graph capture: it cannot be recorded (it blocks the host, "
                         "reads a result on it, or "
                         "must run once rather than at every replay); run the step once before "
                         "capturing (warm-up) or move this out of the captured function");
}

RelaxedCaptureMode::RelaxedCaptureMode() {
  check(cudaThreadExchangeStreamCaptureMode(&saved_), "cudaThreadExchangeStreamCaptureMode");
}

RelaxedCaptureMode::~RelaxedCaptureMode() {
  cudaThreadExchangeStreamCaptureMode(&saved_);
}

}  // namespace tenflowers::cuda
