// W7: 10,000 dependent adds of 1-element tensors, without and with a tape recording, and the
// backward pass over the recorded chain. Reported per op (counter us_per_op). The names
// follow bench/compare.py: <workload>_<variant>, matching the peers' RESULT lines.
#include <benchmark/benchmark.h>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;

namespace {

constexpr int kChain = 10000;

void W7_no_tape(benchmark::State& state) {
  const tf::Tensor one = tf::Tensor::from_vec({1.0f}, {1});
  for (auto _ : state) {
    tf::Tensor x = tf::Tensor::from_vec({0.0f}, {1});
    for (int i = 0; i < kChain; ++i) x = x + one;
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations() * kChain);
  state.counters["us_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kChain * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void W7_tape(benchmark::State& state) {
  const tf::Tensor one = tf::Tensor::from_vec({1.0f}, {1});
  for (auto _ : state) {
    tf::Tensor x = tf::Tensor::from_vec({0.0f}, {1});
    tf::GradientTape tape;
    tape.watch(x);
    tf::Tensor y = x;
    for (int i = 0; i < kChain; ++i) y = y + one;
    benchmark::DoNotOptimize(y);
  }
  state.counters["us_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kChain * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void W7_tape_and_backward(benchmark::State& state) {
  const tf::Tensor one = tf::Tensor::from_vec({1.0f}, {1});
  for (auto _ : state) {
    tf::Tensor x = tf::Tensor::from_vec({0.0f}, {1});
    tf::GradientTape tape;
    tape.watch(x);
    tf::Tensor y = x;
    for (int i = 0; i < kChain; ++i) y = y + one;
    benchmark::DoNotOptimize(tape.gradient(y, x));
  }
  state.counters["us_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kChain * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(W7_no_tape)->Unit(benchmark::kMillisecond);
BENCHMARK(W7_tape)->Unit(benchmark::kMillisecond);
BENCHMARK(W7_tape_and_backward)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
