#pragma once
// SpinLock: a test-and-test-and-set lock for critical sections of a few instructions, such as a
// pool's free-list push and pop, where a pthread mutex's lock and unlock cost more than the work
// they guard. Waiters spin briefly, then yield the processor, so a holder that does slow work
// now and then (returning memory to the device) costs waiters time but not correctness.
#include <atomic>
#include <thread>

namespace tenflowers {

class SpinLock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < kSpinsBeforeYield) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept {
    locked_.store(false, std::memory_order_release);
  }

 private:
  static constexpr int kSpinsBeforeYield = 64;
  std::atomic<bool> locked_{false};
};

}  // namespace tenflowers
