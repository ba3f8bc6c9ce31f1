#include "tenflowers/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {
std::atomic<int> g_threads{0};
std::mutex g_listener_mutex;
thread_local int t_thread_limit = 0;  // 0: no cap on this thread
std::vector<std::function<void(int)>>& listeners() {
  static std::vector<std::function<void(int)>> list;
  return list;
}
}  // namespace

void set_num_threads(int threads) {
  TF_CHECK(threads >= 1, InvalidArgument, "set_num_threads: expected at least 1 thread, got ",
           threads);
  g_threads.store(threads);
  std::lock_guard lock(g_listener_mutex);
  for (auto& listener : listeners()) listener(threads);
}

int get_num_threads() {
  // glibc answers hardware_concurrency by reading sysfs, far too slow for every op call.
  static const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int global = g_threads.load(std::memory_order_relaxed);
  const int n = global > 0 ? global : hardware;
  return t_thread_limit > 0 ? std::min(n, t_thread_limit) : n;
}

void on_num_threads_changed(std::function<void(int)> listener) {
  std::lock_guard lock(g_listener_mutex);
  listener(get_num_threads());
  listeners().push_back(std::move(listener));
}

ThreadLimitScope::ThreadLimitScope(int threads) : previous_(t_thread_limit) {
  TF_CHECK(threads >= 1, InvalidArgument, "ThreadLimitScope: expected at least 1 thread, got ",
           threads);
  t_thread_limit = previous_ > 0 ? std::min(previous_, threads) : threads;
}

ThreadLimitScope::~ThreadLimitScope() {
  t_thread_limit = previous_;
}

}  // namespace tenflowers
