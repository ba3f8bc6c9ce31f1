// Pinned host memory: cudaHostAlloc blocks behind the core caching pool. An asynchronous copy
// from a block marks the block with the copy's device. When the block's storage is freed, an
// event recorded on each marked device's stream fences those copies, and the block goes back to
// the pool only once every fence has passed (looked at on each allocation, statistics call and
// release), so the pool never hands out, to be rewritten, a block that a DMA may still read.
// Blocks with no asynchronous copy go back at once.
#include "src/backends/cuda/pinned_memory.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::cuda {
namespace {

// False when the runtime is unloading at process exit (storages in static objects may be freed
// after it): the driver releases everything then anyway. Throws for any other failure.
bool live(cudaError_t status, std::string_view what) {
  if (status == cudaErrorCudartUnloading) return false;
  check(status, what);
  return true;
}

class HostAllocator final : public RawAllocator {
 public:
  void* allocate(size_t nbytes) override {
    void* ptr = nullptr;
    // Portable: page-locked for every device's context, so one pool serves all GPUs.
    check(cudaHostAlloc(&ptr, nbytes, cudaHostAllocPortable),
          "cudaHostAlloc of " + std::to_string(nbytes) + " pinned bytes");
    return ptr;
  }
  void deallocate(void* ptr, size_t) override { live(cudaFreeHost(ptr), "cudaFreeHost"); }
  Device device() const override { return Device::cpu(); }
};

class CudaPinnedMemory final : public PinnedMemory {
 public:
  explicit CudaPinnedMemory(int device_count)
      : pool_(std::make_unique<HostAllocator>(), kCacheLimit),
        idle_events_(static_cast<size_t>(device_count)) {
    TF_CHECK(device_count <= kMaxDevices, UnsupportedError, "pinned memory supports up to ",
             kMaxDevices, " GPUs, this machine has ", device_count);
  }

  std::shared_ptr<Storage> allocate(size_t nbytes) override {
    reclaim_finished();
    void* block = pool_.allocate(nbytes);
    try {
      return std::make_shared<Storage>(
          block, nbytes, Device::cpu(), [this, nbytes](void* ptr) { free(ptr, nbytes); }, true);
    } catch (...) {
      pool_.deallocate(block, nbytes);
      throw;
    }
  }

  void copy_to_device_async(void* dst, Device device, const Storage& storage, const void* src,
                            size_t nbytes) override {
    TF_CHECK(storage.page_locked() && device.is_cuda(), InternalError,
             "an asynchronous pinned copy needs a pinned source and a CUDA target, got ",
             device.str());
    const cudaStream_t stream = use_device(device.index);
    {
      std::lock_guard lock(mutex_);
      readers_[storage.data()] |= uint64_t{1} << device.index;
    }
    check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync (pinned host to device)");
  }

  MemoryStats stats() override {
    reclaim_finished();
    return pool_.stats();
  }

  void release_cache() override {
    reclaim_finished();
    pool_.release_cache();
  }

 private:
  // Freed blocks kept for reuse, at most; page-locked memory is taken from the OS's pageable pool.
  static constexpr size_t kCacheLimit = size_t{4} << 30;
  static constexpr int kMaxDevices = 64;  // the bits of a reader mask
  struct Fence {
    int device;
    cudaEvent_t event;
  };
  struct Freed {
    void* block;
    size_t nbytes;
    std::vector<Fence> fences;
  };

  // The storage's deleter, on whichever thread drops the last reference.
  void free(void* block, size_t nbytes) {
    std::unique_lock lock(mutex_);
    const auto it = readers_.find(block);
    if (it == readers_.end()) {
      lock.unlock();
      pool_.deallocate(block, nbytes);
      return;
    }
    const uint64_t devices = it->second;
    readers_.erase(it);
    Freed freed{block, nbytes, {}};
    for (int device = 0; device < kMaxDevices; ++device) {
      if (!((devices >> device) & 1)) continue;
      const cudaStream_t stream = use_device(device);
      cudaEvent_t event = nullptr;
      std::vector<cudaEvent_t>& idle = idle_events_[static_cast<size_t>(device)];
      if (!idle.empty()) {
        event = idle.back();
        idle.pop_back();
      } else if (!live(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
                       "cudaEventCreateWithFlags")) {
        return;
      }
      // The event and the stream are on the same device, as cudaEventRecord requires.
      if (!live(cudaEventRecord(event, stream), "cudaEventRecord (fencing a pinned block)")) return;
      freed.fences.push_back({device, event});
    }
    waiting_.push_back(std::move(freed));
  }

  // Returns to the pool every freed block whose fences have all passed.
  void reclaim_finished() {
    std::vector<Freed> done;
    {
      std::lock_guard lock(mutex_);
      for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (!passed(*it)) {
          ++it;
          continue;
        }
        for (const Fence& fence : it->fences) {
          idle_events_[static_cast<size_t>(fence.device)].push_back(fence.event);
        }
        done.push_back(std::move(*it));
        it = waiting_.erase(it);
      }
    }
    for (const Freed& freed : done) pool_.deallocate(freed.block, freed.nbytes);
  }

  static bool passed(const Freed& freed) {
    for (const Fence& fence : freed.fences) {
      const cudaError_t status = cudaEventQuery(fence.event);
      if (status == cudaErrorNotReady) {
        // Not a failure; cleared so that the next launch check does not report it.
        cudaGetLastError();
        return false;
      }
      check(status, "cudaEventQuery (a pinned block's fence)");
    }
    return true;
  }

  CachingAllocator pool_;
  std::mutex mutex_;
  std::unordered_map<void*, uint64_t> readers_;        // live block -> devices copying from it
  std::vector<Freed> waiting_;                         // freed, fences not all passed yet
  std::vector<std::vector<cudaEvent_t>> idle_events_;  // per device, for reuse
};

}  // namespace

std::unique_ptr<PinnedMemory> make_pinned_memory(int device_count) {
  return std::make_unique<CudaPinnedMemory>(device_count);
}

}  // namespace tenflowers::cuda
