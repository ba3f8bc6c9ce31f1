#pragma once
// Counters in the units bench/compare.py reads: a benchmark named W<n>_<variant> reports its
// figure as one counter (samples_per_s, GB_per_s, ...), computed from wall-clock time.
#include <benchmark/benchmark.h>

namespace tenflowers::bench {

// `per_iteration` units of work (samples, bytes, flops) per iteration, reported per second
// scaled by `scale` (1e-9 for GB/s or GFLOP/s).
inline void report_rate(benchmark::State& state, const char* counter, double per_iteration,
                        double scale = 1.0) {
  state.counters[counter] = benchmark::Counter(
      static_cast<double>(state.iterations()) * per_iteration * scale, benchmark::Counter::kIsRate);
}

}  // namespace tenflowers::bench
