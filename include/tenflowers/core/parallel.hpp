#pragma once
// The thread count CPU kernels (and the BLAS library under them) use. Set at run time and
// honoured by every backend that listens; defaults to the hardware concurrency.
#include <functional>

namespace tenflowers {

void set_num_threads(int threads);  // throws InvalidArgument for threads < 1
int get_num_threads();
// Backends subscribe to keep their own pools (OpenMP, BLAS) in step.
void on_num_threads_changed(std::function<void(int)> listener);

// Caps get_num_threads() on the calling thread while alive (scopes nest; the tighter cap wins).
// Code that runs kernels on several threads at once (data-loading workers) uses it so that W
// threads do not each start a full team of kernel threads. The BLAS pool is process-wide and
// not capped.
class ThreadLimitScope {
 public:
  explicit ThreadLimitScope(int threads);  // throws InvalidArgument for threads < 1
  ~ThreadLimitScope();
  ThreadLimitScope(const ThreadLimitScope&) = delete;
  ThreadLimitScope& operator=(const ThreadLimitScope&) = delete;

 private:
  int previous_;
};

}  // namespace tenflowers
