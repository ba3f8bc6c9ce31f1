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
#include "tenflowers/core/spin_lock.hpp"

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
  size_t graph_pool_bytes = 0;      // freed blocks reserved for captured graphs (not cached_bytes)
};

// A per-device caching pool: freed blocks are kept by rounded size and handed out again, so a
// training loop that allocates the same shapes each step stops calling the device allocator.
// Thread-safe. On a raw allocation failure it releases the cache and retries once.
//
// Graph pools (CUDA graph capture): while a capture runs, every allocation of the device comes
// from a pool reserved for that graph, and every block freed goes into it, since a replay
// writes the graph's blocks and may read any block the captured work read. A block freed during
// the capture is reused by the capture itself (the recorded order is the replay order). After
// the capture the pool's blocks serve no other work until release_graph_pool(); then its free
// blocks join the cache at once and its live ones (tensors the capture made) when they are
// freed. Nothing is returned to the raw allocator while a capture runs (cudaFree would
// synchronize): the out-of-memory retry raises instead and release_cache() refuses.
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
  // Starts routing allocations to a new graph pool and returns its id; throws InvalidArgument
  // when a capture already runs on this device.
  uint64_t begin_graph_pool();
  void end_graph_pool();  // allocations come from the cache again
  bool capturing() const;
  // The graph of pool `id` is gone (no replay will be queued again).
  void release_graph_pool(uint64_t id);
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
  // Free blocks by rounded size.
  struct FreeLists {
    std::vector<std::vector<void*>> indexed =
        std::vector<std::vector<void*>>(kIndexedLimit / kGranule);  // [rounded / 64 - 1]
    std::unordered_map<size_t, std::vector<void*>> large;           // larger blocks
    std::vector<void*>& list(size_t rounded) {
      return rounded <= kIndexedLimit ? indexed[rounded / kGranule - 1] : large[rounded];
    }
    void* pop(size_t rounded) {  // null when there is none
      std::vector<void*>* found = nullptr;
      if (rounded <= kIndexedLimit) {
        found = &indexed[rounded / kGranule - 1];
      } else if (auto it = large.find(rounded); it != large.end()) {
        found = &it->second;
      }
      if (!found || found->empty()) return nullptr;
      void* ptr = found->back();
      found->pop_back();
      return ptr;
    }
    template <class F>
    void drain(F&& f);  // calls f(ptr, rounded) for every block and empties the lists
  };
  struct GraphPool {
    FreeLists free;
    size_t live_blocks = 0;   // handed out and not yet freed
    bool graph_alive = true;  // false after release_graph_pool
  };
  void* take_for_graph_locked(size_t size);
  void give_back_locked(void* ptr, size_t size);
  void release_cache_locked();
  std::unique_ptr<RawAllocator> raw_;
  size_t cache_limit_;
  mutable SpinLock mutex_;  // guards the lists and stats; held for a few instructions
  FreeLists cache_;
  MemoryStats stats_;
  uint64_t next_graph_pool_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<GraphPool>> graph_pools_;
  GraphPool* capturing_ = nullptr;                      // the pool of the running capture
  std::unordered_map<void*, GraphPool*> graph_blocks_;  // every block a graph pool owns
};

// A buffer on one device, shared by every tensor that views it. Either owned (from a pool) or
// borrowed from outside (NumPy, DLPack, the pinned host pool) with a deleter that the last
// reference calls. Host buffers of at most kInlineBytes live inside the Storage itself: scalars
// and other tiny tensors then cost no pool call (a lock and its bookkeeping), and the pool's
// statistics do not count them.
class Storage {
 public:
  static constexpr size_t kInlineBytes = 64;
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
  alignas(16) std::byte inline_[kInlineBytes];
};

}  // namespace tenflowers
