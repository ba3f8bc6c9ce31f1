#include "tenflowers/core/parallel.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {
std::atomic<int> g_threads{0};
std::mutex g_listener_mutex;
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
  const int n = g_threads.load();
  return n > 0 ? n : std::max(1u, std::thread::hardware_concurrency());
}

void on_num_threads_changed(std::function<void(int)> listener) {
  std::lock_guard lock(g_listener_mutex);
  listener(get_num_threads());
  listeners().push_back(std::move(listener));
}

}  // namespace tenflowers
