// Wires the backends into the core registry. The umbrella header calls init() from every
// translation unit that includes it, so users never call it by hand; it runs once.
#include "tenflowers/tenflowers.hpp"

#include <mutex>

#include "src/backends/cpu/register.hpp"
#ifdef TF_HAVE_CUDA
#include "src/backends/cuda/register.hpp"
#endif

namespace tenflowers {

bool init() {
  static std::once_flag once;
  std::call_once(once, [] {
    cpu::register_cpu_backend(registry());
#ifdef TF_HAVE_CUDA
    cuda::register_cuda_backend(registry());  // a no-op without a GPU
#endif
  });
  return true;
}

}  // namespace tenflowers
