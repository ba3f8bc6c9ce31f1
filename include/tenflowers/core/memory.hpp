#pragma once
// Device memory: the allocator interface backends implement, the caching pool that sits in
// front of each device's raw allocator, and Storage, the reference-counted buffer tensors share.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tenflowers/core/device.hpp"

namespace tenflowers {

// Allocates raw device memory; throws OutOfMemoryError when the device has none left.
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual Device device() const = 0;
};

struct MemoryStats {
  size_t in_use_bytes = 0;          // held by live storages (rounded block sizes)
  size_t peak_in_use_bytes = 0;     // high-water mark of in_use_bytes since the last reset
  size_t cached_bytes = 0;          // freed blocks kept for reuse
  uint64_t allocations = 0;         // allocate() calls served
  uint64_t cache_hits = 0;          // of those, served from the cache
  uint64_t device_allocations = 0;  // calls that reached the raw allocator
};

// A per-device caching pool: freed blocks are kept by rounded size and handed out again, so a
// training loop that allocates the same shapes each step stops calling the device allocator.
// Thread-safe. On a raw allocation failure it releases the cache and retries once.
class CachingAllocator {
 public:
  explicit CachingAllocator(std::unique_ptr<RawAllocator> raw, size_t cache_limit_bytes);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(size_t nbytes);
  void deallocate(void* ptr, size_t nbytes);
  MemoryStats stats() const;
  void reset_peak();
  void release_cache();  // returns every cached block to the device
  void set_cache_limit(size_t bytes);
  Device device() const { return raw_->device(); }
  // 64-byte granules up to 1 MiB; above, quarter steps of the next power of two.
  static size_t round_size(size_t nbytes) {
    if (nbytes == 0) return kGranule;
    if (nbytes <= kSmallLimit) return (nbytes + kGranule - 1) & ~(kGranule - 1);
    return round_large(nbytes);
  }

 private:
  static constexpr size_t kGranule = 64;
  static constexpr size_t kSmallLimit = size_t{1} << 20;
  // Blocks up to this size have their free list found by index, without hashing.
  static constexpr size_t kIndexedLimit = size_t{64} << 10;
  static size_t round_large(size_t nbytes);
  std::vector<void*>& free_list_locked(size_t rounded);
  void release_cache_locked();
  std::unique_ptr<RawAllocator> raw_;
  size_t cache_limit_;
  mutable std::mutex mutex_;
  std::vector<std::vector<void*>> indexed_blocks_;              // [rounded / 64 - 1]
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;  // larger blocks, by size
  MemoryStats stats_;
};

// A buffer on one device, shared by every tensor that views it. Either owned (from a pool) or
// borrowed from outside (NumPy, DLPack, the pinned host pool) with a deleter that the last
// reference calls.
class Storage {
 public:
  Storage(size_t nbytes, CachingAllocator& pool);
  // `page_locked`: host memory a device reads by DMA (see PinnedMemory in backend.hpp).
  Storage(void* external, size_t nbytes, Device device, std::function<void(void*)> deleter,
          bool page_locked = false);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  bool page_locked() const { return page_locked_; }
  // Bumped by every in-place write (dispatch_into, Variable::assign), so a tape can tell that a
  // tensor it saved was overwritten before its gradient was taken.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> version_{0};
  void* data_;
  size_t nbytes_;
  Device device_;
  CachingAllocator* pool_ = nullptr;
  std::function<void(void*)> deleter_;
  bool page_locked_ = false;
};

}  // namespace tenflowers
