#include "src/backends/cuda/rtc.hpp"

#include <nvrtc.h>

#include <iterator>
#include <string_view>
#include <vector>

#include "src/backends/cuda/rtc_headers.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::cuda {
namespace {

// NVRTC has no C++ standard library: rtc_std.cuh stands in for the standard headers that the
// kernel headers include.
constexpr std::string_view kStandardSubset = "src/backends/cuda/kernels/rtc_std.cuh";
constexpr const char* kStandardHeaders[] = {"cmath", "limits", "type_traits"};

void check_nvrtc(nvrtcResult status, std::string_view what) {
  if (status != NVRTC_SUCCESS) {
    throw DeviceError(std::string(what) + " failed: " + nvrtcGetErrorString(status));
  }
}

class Program {
 public:
  explicit Program(const std::string& source) {
    std::vector<const char*> names, texts;
    for (const RtcHeader& header : rtc_headers()) {
      if (header.path == kStandardSubset) {
        for (const char* name : kStandardHeaders) {
          names.push_back(name);
          texts.push_back(header.text);
        }
      } else {
        names.push_back(header.path);
        texts.push_back(header.text);
      }
    }
    check_nvrtc(nvrtcCreateProgram(&handle_, source.c_str(), "generated.cu",
                                   static_cast<int>(names.size()), texts.data(), names.data()),
                "nvrtcCreateProgram");
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  ~Program() { nvrtcDestroyProgram(&handle_); }

  nvrtcProgram get() const { return handle_; }

  std::string log() const {
    size_t size = 0;
    check_nvrtc(nvrtcGetProgramLogSize(handle_, &size), "nvrtcGetProgramLogSize");
    std::string text(size, '\0');
    check_nvrtc(nvrtcGetProgramLog(handle_, text.data()), "nvrtcGetProgramLog");
    if (!text.empty()) text.pop_back();  // the terminating null
    return text;
  }

 private:
  nvrtcProgram handle_ = nullptr;
};

}  // namespace

std::string compile_cubin(const std::string& source, int arch) {
  Program program(source);
  const std::string target = "--gpu-architecture=sm_" + std::to_string(arch);
  const std::string include = "-I" TF_CUDA_TOOLKIT_INCLUDE;
  // nvcc's defaults otherwise (contraction into fused multiply-adds, IEEE division and square
  // root, no flush to zero): each op computes as in the precompiled kernels. -default-device
  // makes unannotated functions device code, as nvcc treats the headers' lambdas and constexpr
  // functions.
  const char* options[] = {target.c_str(), "-std=c++20", "-default-device", include.c_str()};
  const nvrtcResult status =
      nvrtcCompileProgram(program.get(), static_cast<int>(std::size(options)), options);
  if (status != NVRTC_SUCCESS) {
    throw DeviceError("NVRTC could not compile a generated kernel for sm_" + std::to_string(arch) +
                      " (" + nvrtcGetErrorString(status) + "):\n" + program.log() +
                      "\nThe source:\n" + source);
  }
  size_t size = 0;
  check_nvrtc(nvrtcGetCUBINSize(program.get(), &size), "nvrtcGetCUBINSize");
  std::string cubin(size, '\0');
  check_nvrtc(nvrtcGetCUBIN(program.get(), cubin.data()), "nvrtcGetCUBIN");
  return cubin;
}

int device_arch(int device) {
  const cudaDeviceProp& props = properties(device);
  return props.major * 10 + props.minor;
}

cudaKernel_t load_kernel(const std::string& cubin, const char* name) {
  cudaLibrary_t library = nullptr;
  check(cudaLibraryLoadData(&library, cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
        "cudaLibraryLoadData");
  cudaKernel_t kernel = nullptr;
  check(cudaLibraryGetKernel(&kernel, library, name), "cudaLibraryGetKernel");
  return kernel;
}

}  // namespace tenflowers::cuda
