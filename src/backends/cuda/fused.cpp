// Host side of fused_elementwise on the GPU: each program runs as a kernel generated for it
// (fused_codegen.hpp) and compiled with NVRTC on first use, once per process, program and
// device. Each input is handed over contiguous in the output's shape or as a single value (a
// broadcast input of other shapes is expanded first).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "src/backends/cuda/fused_codegen.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/rtc.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/fused_elementwise.hpp"

namespace tenflowers::cuda {
namespace {

struct KernelKey {
  int device = 0;
  FusedKernelSpec spec;
  auto operator<=>(const KernelKey&) const = default;
};

struct CompiledKernel {
  std::mutex compiling;
  std::string cubin;  // the loaded library's code
  cudaKernel_t kernel = nullptr;
};

// The kernel of `key`, compiled on first use. Compilation holds only its own entry's lock, so
// launches of other programs go on meanwhile, and threads asking for the same program wait for
// one compilation. A failed compilation throws and leaves the entry to be tried again. Entries
// live as long as the process, like the libraries they load.
cudaKernel_t compiled_kernel(KernelKey key) {
  static std::mutex mutex;
  static auto& cache = *new std::map<KernelKey, CompiledKernel>;
  std::map<KernelKey, CompiledKernel>::iterator entry;
  {
    std::lock_guard lock(mutex);
    entry = cache.try_emplace(std::move(key)).first;
  }
  CompiledKernel& compiled = entry->second;
  std::lock_guard lock(compiled.compiling);
  if (!compiled.kernel) {
    const KernelKey& k = entry->first;
    refuse_during_capture(k.device,
                          "compiling a fused kernel with NVRTC for a program not run "
                          "before (loading it is not recorded)");
    compiled.cubin = compile_cubin(fused_kernel_source(k.spec), device_arch(k.device));
    compiled.kernel = load_kernel(compiled.cubin, kFusedKernelName);
  }
  return compiled.kernel;
}

void fused_kernel(KernelContext& ctx) {
  const FusedProgram program = parse_fused_program(ctx.attrs, ctx.inputs.size());
  const Tensor& out = ctx.outputs[0];
  uint32_t single_mask = 0;
  std::vector<Tensor> inputs;
  for (size_t k = 0; k < program.num_inputs; ++k) {
    Tensor x = ctx.inputs[k];
    if (x.numel() == 1) {
      single_mask |= 1u << k;
    } else if (!(x.shape() == out.shape() && x.is_contiguous())) {
      HooksPaused paused;
      x = x.expand(out.shape()).contiguous();
    }
    inputs.push_back(std::move(x));
  }
  FusedKernelSpec spec = fused_kernel_spec(program, out.dtype(), single_mask);
  const int64_t numel = out.numel();
  if (numel == 0) return;
  const int per_thread = fused_elements_per_thread(out.dtype());
  const cudaStream_t stream = use_device(ctx.device.index);
  const cudaKernel_t kernel = compiled_kernel({ctx.device.index, std::move(spec)});

  // The kernel's parameters: the inputs, out, numel and whether every vector access is aligned.
  constexpr uintptr_t kAlign = kFusedAccessBytes;
  std::array<const void*, kMaxFusedInputs> in{};
  void* out_ptr = out.data_ptr();
  long long count = numel;
  bool aligned = reinterpret_cast<uintptr_t>(out_ptr) % kAlign == 0;
  std::array<void*, kMaxFusedInputs + 3> params{};
  size_t num_params = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    in[k] = inputs[k].data_ptr();
    const bool single = (single_mask >> k) & 1u;
    aligned = aligned && (single || reinterpret_cast<uintptr_t>(in[k]) % kAlign == 0);
    params[num_params++] = &in[k];
  }
  params[num_params++] = &out_ptr;
  params[num_params++] = &count;
  params[num_params++] = &aligned;
  const unsigned blocks = grid_for((numel + per_thread - 1) / per_thread);
  // A failed launch also sets the error that finish_launch reports.
  static_cast<void>(cudaLaunchKernel(reinterpret_cast<const void*>(kernel), dim3(blocks),
                                     dim3(kThreads), params.data(), 0, stream));
  finish_launch(ctx, kFusedKernelName, out.dtype());
}

}  // namespace

void register_cuda_fused_kernels(OpRegistry& r) {
  r.add_kernel("fused_elementwise", DeviceType::CUDA, fused_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
