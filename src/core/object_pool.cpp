#include "src/core/object_pool.hpp"

namespace tenflowers::detail {

constinit thread_local PoolThreadCache t_pool_cache{};

namespace {

void drain(PoolThreadCache& cache) {
  for (size_t c = 0; c < kPoolClasses; ++c) {
    while (PoolFreeBlock* block = cache.head[c]) {
      cache.head[c] = block->next;
      ::operator delete(block);
    }
    cache.count[c] = 0;
  }
}

// Built on a thread's first pooled allocation; its destructor, run at thread exit, returns the
// thread's blocks and sends later frees straight to ::operator delete.
struct ExitGuard {
  bool armed = false;
  ~ExitGuard() {
    t_pool_cache.closed = true;
    drain(t_pool_cache);
  }
};
thread_local ExitGuard t_exit_guard;

}  // namespace

void* pool_allocate_slow(size_t size_class) {
  PoolThreadCache& cache = t_pool_cache;
  if (!cache.registered && !cache.closed) {
    cache.registered = true;
    t_exit_guard.armed = true;  // first use constructs the guard and registers its destructor
  }
  return ::operator new((size_class + 1) * kPoolGranule);
}

void pool_release_thread_cache() {
  drain(t_pool_cache);
}

}  // namespace tenflowers::detail
