#pragma once
// parallel_for over an index range on the CPU backend's OpenMP team, honouring
// tenflowers::set_num_threads. Ranges smaller than `grain` run on the calling thread. An
// exception thrown by the body is carried out of the parallel region and rethrown.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>

#include "tenflowers/core/parallel.hpp"

namespace tenflowers::cpu {

template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& body) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t chunks = n / std::max<int64_t>(grain, 1);
  if (chunks <= 1) {  // one thread's work: skip asking for the team (tiny ops' common case)
    body(begin, end);
    return;
  }
  const int threads = static_cast<int>(std::min<int64_t>(get_num_threads(), chunks));
  if (threads <= 1 || omp_in_parallel()) {
    body(begin, end);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num();
    const int64_t team = omp_get_num_threads();
    const int64_t chunk = (n + team - 1) / team;
    const int64_t lo = begin + t * chunk;
    const int64_t hi = std::min(end, lo + chunk);
    if (lo < hi) {
      try {
        body(lo, hi);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace tenflowers::cpu
