#pragma once
// PoolAllocator: an allocator for std::allocate_shared that keeps freed blocks in per-thread free
// lists by size class and hands them out again. Every op call makes a TensorImpl and a Storage
// (each one control block + object); through malloc that is the slow path whenever many tensors
// stay alive (a tape keeps every intermediate), and freeing them all at once lets glibc return
// the heap top to the system, to fault it back in on the next step. A free list costs a few
// instructions and keeps the blocks.
//
// Blocks come from ::operator new and go back to it when a thread's list is full or when the
// thread exits. A block freed on another thread than the one that made it joins the freeing
// thread's list if that thread allocates from the pool too, else goes back to ::operator delete.
// Each list holds at most kCacheBytes.
#include <cstddef>
#include <cstdint>
#include <new>

namespace tenflowers::detail {

inline constexpr size_t kPoolGranule = 32;
inline constexpr size_t kPoolClasses = 16;                  // blocks of up to 512 bytes are pooled
inline constexpr size_t kPoolCacheBytes = size_t{8} << 20;  // per size class and thread

struct PoolFreeBlock {
  PoolFreeBlock* next;
};

// One thread's free lists. Trivially destructible, so reaching it needs no guard; the lists are
// drained at thread exit by a separate guard object (see pool_register_thread).
struct PoolThreadCache {
  PoolFreeBlock* head[kPoolClasses];
  uint32_t count[kPoolClasses];
  bool registered;  // the exit guard exists
  bool closed;      // the thread is exiting: blocks go straight to ::operator delete
};

// constinit: no dynamic initialization, so access needs no TLS wrapper call.
extern constinit thread_local PoolThreadCache t_pool_cache;
void* pool_allocate_slow(size_t size_class);  // empty list: registers the guard, calls new
void pool_release_thread_cache();             // returns this thread's cached blocks

template <class T>
class PoolAllocator {
 public:
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT: rebinding is implicit

  T* allocate(size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                  "over-aligned types are not pooled");
    if (n != 1 || !kPooled) return static_cast<T*>(::operator new(n * sizeof(T)));
    PoolThreadCache& cache = t_pool_cache;
    PoolFreeBlock* block = cache.head[kClass];
    if (block) {
      cache.head[kClass] = block->next;
      --cache.count[kClass];
      return reinterpret_cast<T*>(block);
    }
    return static_cast<T*>(pool_allocate_slow(kClass));
  }

  void deallocate(T* ptr, size_t n) noexcept {
    if (n != 1 || !kPooled) {
      ::operator delete(ptr);
      return;
    }
    PoolThreadCache& cache = t_pool_cache;
    // Only a thread whose exit guard exists may keep blocks: a thread that frees without ever
    // allocating from the pool would otherwise leak its list when it exits.
    if (!cache.registered || cache.closed || cache.count[kClass] >= kMaxBlocks) {
      ::operator delete(ptr);
      return;
    }
    auto* block = reinterpret_cast<PoolFreeBlock*>(ptr);
    block->next = cache.head[kClass];
    cache.head[kClass] = block;
    ++cache.count[kClass];
  }

  friend bool operator==(const PoolAllocator&, const PoolAllocator&) { return true; }

 private:
  static constexpr size_t kClass = (sizeof(T) + kPoolGranule - 1) / kPoolGranule - 1;
  static constexpr bool kPooled = kClass < kPoolClasses;
  static constexpr size_t kMaxBlocks = kPoolCacheBytes / ((kClass + 1) * kPoolGranule);
};

}  // namespace tenflowers::detail
