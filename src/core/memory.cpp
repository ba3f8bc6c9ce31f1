#include "tenflowers/core/memory.hpp"

#include <algorithm>

#include "tenflowers/core/error.hpp"

namespace tenflowers {

CachingAllocator::CachingAllocator(std::unique_ptr<RawAllocator> raw, size_t cache_limit_bytes)
    : raw_(std::move(raw)),
      cache_limit_(cache_limit_bytes),
      indexed_blocks_(kIndexedLimit / kGranule) {}

CachingAllocator::~CachingAllocator() {
  release_cache();
}

size_t CachingAllocator::round_large(size_t nbytes) {
  // Quarter steps of the next power of two, so that nearby sizes share blocks without wasting
  // more than 25%.
  size_t power = kSmallLimit;
  while (power < nbytes) power <<= 1;
  const size_t step = power / 8;
  return (nbytes + step - 1) / step * step;
}

std::vector<void*>& CachingAllocator::free_list_locked(size_t rounded) {
  if (rounded <= kIndexedLimit) return indexed_blocks_[rounded / kGranule - 1];
  return free_blocks_[rounded];
}

void* CachingAllocator::allocate(size_t nbytes) {
  const size_t size = round_size(nbytes);
  {
    std::lock_guard lock(mutex_);
    ++stats_.allocations;
    std::vector<void*>* list = nullptr;
    if (size <= kIndexedLimit) {
      list = &indexed_blocks_[size / kGranule - 1];
    } else if (auto it = free_blocks_.find(size); it != free_blocks_.end()) {
      list = &it->second;
    }
    if (list && !list->empty()) {
      void* ptr = list->back();
      list->pop_back();
      ++stats_.cache_hits;
      stats_.cached_bytes -= size;
      stats_.in_use_bytes += size;
      stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
      return ptr;
    }
  }
  void* ptr = nullptr;
  try {
    ptr = raw_->allocate(size);
  } catch (const OutOfMemoryError&) {
    release_cache();
    ptr = raw_->allocate(size);  // a second failure propagates
  }
  std::lock_guard lock(mutex_);
  ++stats_.device_allocations;
  stats_.in_use_bytes += size;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  return ptr;
}

void CachingAllocator::deallocate(void* ptr, size_t nbytes) {
  const size_t size = round_size(nbytes);
  std::lock_guard lock(mutex_);
  stats_.in_use_bytes -= size;
  if (stats_.cached_bytes + size > cache_limit_) {
    raw_->deallocate(ptr, size);
    return;
  }
  free_list_locked(size).push_back(ptr);
  stats_.cached_bytes += size;
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
  release_cache_locked();
}

void CachingAllocator::release_cache_locked() {
  for (size_t i = 0; i < indexed_blocks_.size(); ++i) {
    std::vector<void*>& blocks = indexed_blocks_[i];
    for (void* ptr : blocks) raw_->deallocate(ptr, (i + 1) * kGranule);
    blocks = std::vector<void*>();
  }
  for (auto& [size, blocks] : free_blocks_) {
    for (void* ptr : blocks) raw_->deallocate(ptr, size);
  }
  free_blocks_.clear();
  stats_.cached_bytes = 0;
}

void CachingAllocator::set_cache_limit(size_t bytes) {
  std::lock_guard lock(mutex_);
  cache_limit_ = bytes;
  if (stats_.cached_bytes > cache_limit_) release_cache_locked();
}

Storage::Storage(size_t nbytes, CachingAllocator& pool)
    : data_(pool.allocate(nbytes)), nbytes_(nbytes), device_(pool.device()), pool_(&pool) {}

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
