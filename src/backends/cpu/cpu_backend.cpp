// The CPU backend: 64-byte aligned host memory behind a caching pool, memcpy transfers and the
// thread-count listener that keeps OpenMP and BLAS in step with set_num_threads.
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/parallel.hpp"

extern "C" void openblas_set_num_threads(int);

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

}  // namespace

void register_cpu_backend(OpRegistry& r) {
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
