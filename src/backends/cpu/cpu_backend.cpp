// The CPU backend: 64-byte aligned host memory behind a caching pool, memcpy transfers, the
// thread-count listener that keeps OpenMP and BLAS in step with set_num_threads, and the choice
// of OpenBLAS's kernels where OpenBLAS does not know the CPU.
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/parallel.hpp"

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
// In OpenBLAS builds with DYNAMIC_ARCH (Debian's): weak, so other builds link too.
__attribute__((weak)) void gotoblas_dynamic_init(void);
__attribute__((weak)) void gotoblas_dynamic_quit(void);
}

namespace tenflowers::cpu {
namespace {

class HostAllocator final : public RawAllocator {
 public:
  void* allocate(size_t nbytes) override {
    void* ptr = std::aligned_alloc(64, (nbytes + 63) & ~size_t{63});
    if (!ptr) {
      throw OutOfMemoryError("host allocation of " + std::to_string(nbytes) + " bytes failed");
    }
    return ptr;
  }
  void deallocate(void* ptr, size_t) override { std::free(ptr); }
  Device device() const override { return Device::cpu(); }
};

class CpuBackend final : public Backend {
 public:
  CpuBackend() : pool_(std::make_unique<HostAllocator>(), kDefaultCacheLimit) {}
  DeviceType type() const override { return DeviceType::CPU; }
  std::string name() const override { return "cpu"; }
  int device_count() const override { return 1; }
  CachingAllocator& pool(int) override { return pool_; }
  void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device,
                  size_t nbytes) override {
    if (!dst_device.is_cpu() || !src_device.is_cpu()) {
      throw DeviceError("the CPU backend cannot copy between " + src_device.str() + " and " +
                        dst_device.str());
    }
    std::memcpy(dst, src, nbytes);
  }

 private:
  static constexpr size_t kDefaultCacheLimit = size_t{2} << 30;
  CachingAllocator pool_;
};

// OpenBLAS picks its kernels by CPU model number, and a release older than the CPU falls back to
// its generic x86-64 kernels: Debian 12's 0.3.21 runs SSE3 ("Prescott") code on an Emerald
// Rapids Xeon, a fifth of the speed its AVX-512 kernels reach there. In that case, and unless the
// user chose a core type with OPENBLAS_CORETYPE, OpenBLAS is set up again with the kernels the
// CPU's features allow.
void choose_openblas_kernels() {
  if (std::getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
  const std::string_view current = openblas_get_corename();
  for (const std::string_view vector_core :
       {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"}) {
    if (current == vector_core) return;  // OpenBLAS knew the CPU (or chose on purpose)
  }
  const char* by_features = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512cd")) {
    by_features = "SkylakeX";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    by_features = "Haswell";
  }
  if (!by_features) return;  // a CPU without AVX2: OpenBLAS's own choice stands
  gotoblas_dynamic_quit();
  setenv("OPENBLAS_CORETYPE", by_features, 0);
  gotoblas_dynamic_init();
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace

void register_cpu_backend(OpRegistry& r) {
  choose_openblas_kernels();
  register_backend(std::make_unique<CpuBackend>());
  on_num_threads_changed([](int threads) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
  });
  register_cpu_copy_kernels(r);
  register_cpu_creation_kernels(r);
  register_cpu_unary_kernels(r);
  register_cpu_binary_kernels(r);
  register_cpu_reduction_kernels(r);
  register_cpu_linalg_kernels(r);
  register_cpu_conv_kernels(r);
  register_cpu_index_kernels(r);
  register_cpu_shape_kernels(r);
  register_cpu_optimizer_kernels(r);
  register_cpu_fused_kernels(r);
  register_cpu_normalization_kernels(r);
  register_cpu_batch_norm_kernels(r);
}

}  // namespace tenflowers::cpu
