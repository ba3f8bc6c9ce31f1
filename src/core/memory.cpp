#include "tenflowers/core/memory.hpp"

#include <algorithm>

#include "tenflowers/core/error.hpp"

namespace tenflowers {

CachingAllocator::CachingAllocator(std::unique_ptr<RawAllocator> raw, size_t cache_limit_bytes)
    : raw_(std::move(raw)), cache_limit_(cache_limit_bytes) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard lock(mutex_);
  capturing_ = nullptr;
  release_cache_locked();
  // Blocks of graph pools still alive at exit are left to the driver.
}

size_t CachingAllocator::round_large(size_t nbytes) {
  // Quarter steps of the next power of two, so that nearby sizes share blocks without wasting
  // more than 25%.
  size_t power = kSmallLimit;
  while (power < nbytes) power <<= 1;
  const size_t step = power / 8;
  return (nbytes + step - 1) / step * step;
}

template <class F>
void CachingAllocator::FreeLists::drain(F&& f) {
  for (size_t i = 0; i < indexed.size(); ++i) {
    for (void* ptr : indexed[i]) f(ptr, (i + 1) * kGranule);
    indexed[i] = std::vector<void*>();
  }
  for (auto& [size, blocks] : large) {
    for (void* ptr : blocks) f(ptr, size);
  }
  large.clear();
}

void* CachingAllocator::take_for_graph_locked(size_t size) {
  GraphPool& pool = *capturing_;
  if (void* ptr = pool.free.pop(size)) {
    stats_.graph_pool_bytes -= size;
    return ptr;
  }
  // A cached block joins the pool: work queued before the capture precedes every replay.
  void* ptr = cache_.pop(size);
  if (ptr) {
    stats_.cached_bytes -= size;
    graph_blocks_.emplace(ptr, &pool);
  }
  return ptr;
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t size = round_size(nbytes);
  bool during_capture = false;
  {
    std::lock_guard lock(mutex_);
    ++stats_.allocations;
    during_capture = capturing_ != nullptr;
    void* ptr = during_capture ? take_for_graph_locked(size) : cache_.pop(size);
    if (ptr) {
      if (during_capture) {
        ++capturing_->live_blocks;
      } else {
        stats_.cached_bytes -= size;
      }
      ++stats_.cache_hits;
      stats_.in_use_bytes += size;
      stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
      return ptr;
    }
  }
  void* ptr = nullptr;
  try {
    ptr = raw_->allocate(size);
  } catch (const OutOfMemoryError& e) {
    if (during_capture) {
      throw OutOfMemoryError(std::string(e.what()) +
                             " during a graph capture (returning the cache to the device would "
                             "synchronize it; call release_cached_memory() before capturing)");
    }
    release_cache();
    ptr = raw_->allocate(size);  // a second failure propagates
  }
  std::lock_guard lock(mutex_);
  ++stats_.device_allocations;
  stats_.in_use_bytes += size;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  if (capturing_) {
    graph_blocks_.emplace(ptr, capturing_);
    ++capturing_->live_blocks;
  }
  return ptr;
}

// A block leaves every graph pool and goes to the cache (or the device when the cache is full
// and no capture runs).
void CachingAllocator::give_back_locked(void* ptr, size_t size) {
  if (capturing_ || stats_.cached_bytes + size <= cache_limit_) {
    cache_.list(size).push_back(ptr);
    stats_.cached_bytes += size;
  } else {
    raw_->deallocate(ptr, size);
  }
}

void CachingAllocator::deallocate(void* ptr, size_t nbytes) {
  const size_t size = round_size(nbytes);
  std::lock_guard lock(mutex_);
  stats_.in_use_bytes -= size;
  GraphPool* owner = nullptr;
  if (!graph_blocks_.empty()) {
    if (auto it = graph_blocks_.find(ptr); it != graph_blocks_.end()) {
      owner = it->second;
      --owner->live_blocks;
    }
  }
  // A block freed during a capture joins its pool whoever owned it: the captured work may have
  // read it, so every replay may read it again.
  GraphPool* target = owner && owner->graph_alive ? owner : capturing_;
  if (owner && owner != target) {
    graph_blocks_.erase(ptr);
    if (owner->live_blocks == 0) {
      std::erase_if(graph_pools_,
                    [owner](const auto& entry) { return entry.second.get() == owner; });
    }
  }
  if (target) {
    graph_blocks_[ptr] = target;
    target->free.list(size).push_back(ptr);
    stats_.graph_pool_bytes += size;
    return;
  }
  give_back_locked(ptr, size);
}

uint64_t CachingAllocator::begin_graph_pool() {
  std::lock_guard lock(mutex_);
  TF_CHECK(!capturing_, InvalidArgument, "a graph capture is already running on ", device().str(),
           " (expected one capture at a time per device)");
  const uint64_t id = next_graph_pool_++;
  capturing_ = graph_pools_.emplace(id, std::make_unique<GraphPool>()).first->second.get();
  return id;
}

void CachingAllocator::end_graph_pool() {
  std::lock_guard lock(mutex_);
  capturing_ = nullptr;
}

bool CachingAllocator::capturing() const {
  std::lock_guard lock(mutex_);
  return capturing_ != nullptr;
}

void CachingAllocator::release_graph_pool(uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = graph_pools_.find(id);
  if (it == graph_pools_.end()) return;
  GraphPool* pool = it->second.get();
  if (pool == capturing_) capturing_ = nullptr;
  pool->graph_alive = false;
  pool->free.drain([&](void* ptr, size_t size) {
    stats_.graph_pool_bytes -= size;
    graph_blocks_.erase(ptr);
    give_back_locked(ptr, size);
  });
  if (pool->live_blocks == 0) graph_pools_.erase(it);
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_in_use_bytes = stats_.in_use_bytes;
}

void CachingAllocator::release_cache() {
  std::lock_guard lock(mutex_);
  TF_CHECK(!capturing_, UnsupportedError, "releasing cached memory of ", device().str(),
           " during a graph capture (freeing device memory synchronizes the device); release it "
           "before or after the capture");
  release_cache_locked();
}

void CachingAllocator::release_cache_locked() {
  cache_.drain([this](void* ptr, size_t size) { raw_->deallocate(ptr, size); });
  stats_.cached_bytes = 0;
}

void CachingAllocator::set_cache_limit(size_t bytes) {
  std::lock_guard lock(mutex_);
  cache_limit_ = bytes;
  if (stats_.cached_bytes > cache_limit_ && !capturing_) release_cache_locked();
}

Storage::Storage(size_t nbytes, CachingAllocator& pool) : nbytes_(nbytes), device_(pool.device()) {
  if (device_.is_cpu() && nbytes <= kInlineBytes) {
    data_ = inline_;
  } else {
    data_ = pool.allocate(nbytes);
    pool_ = &pool;
  }
}

Storage::Storage(void* external, size_t nbytes, Device device, std::function<void(void*)> deleter,
                 bool page_locked)
    : data_(external),
      nbytes_(nbytes),
      device_(device),
      deleter_(std::move(deleter)),
      page_locked_(page_locked) {}

Storage::~Storage() {
  if (pool_) {
    pool_->deallocate(data_, nbytes_);
  } else if (deleter_) {
    deleter_(data_);
  }
}

}  // namespace tenflowers
