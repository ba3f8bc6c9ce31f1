// W1: y = relu(x * 1.5 + 0.25) over 16M f32 (GB/s of one read and one write), eager and as a
// graph Function (traced once, the chain fused into one pass), with a plain copy of the same
// tensor as the bandwidth ceiling. W2: f32 GEMM 2048^3 (GFLOP/s).
#include <benchmark/benchmark.h>

#include <tenflowers/tenflowers.hpp>

#include "bench/workload_counters.hpp"

namespace tf = tenflowers;

namespace {

constexpr int64_t kW1Elements = int64_t{1} << 24;
constexpr int64_t kW2Size = 2048;

void W1_n16M(benchmark::State& state) {
  const tf::Tensor x = tf::uniform({kW1Elements}, -1.0, 1.0, tf::DType::F32, 1);
  for (auto _ : state) benchmark::DoNotOptimize(tf::relu(x * 1.5 + 0.25));
  tf::bench::report_rate(state, "GB_per_s", 2.0 * 4 * kW1Elements, 1e-9);
}

void W1_graph_n16M(benchmark::State& state) {
  const tf::Tensor x = tf::uniform({kW1Elements}, -1.0, 1.0, tf::DType::F32, 1);
  tf::graph::Function f([](const tf::Tensor& t) { return tf::relu(t * 1.5 + 0.25); });
  for (auto _ : state) benchmark::DoNotOptimize(f.call1(x));
  tf::bench::report_rate(state, "GB_per_s", 2.0 * 4 * kW1Elements, 1e-9);
}

void copy_n16M(benchmark::State& state) {
  const tf::Tensor x = tf::uniform({kW1Elements}, -1.0, 1.0, tf::DType::F32, 1);
  for (auto _ : state) benchmark::DoNotOptimize(x.copy());
  tf::bench::report_rate(state, "GB_per_s", 2.0 * 4 * kW1Elements, 1e-9);
}

void W2_n2048(benchmark::State& state) {
  const tf::Tensor a = tf::uniform({kW2Size, kW2Size}, -1.0, 1.0, tf::DType::F32, 2);
  const tf::Tensor b = tf::uniform({kW2Size, kW2Size}, -1.0, 1.0, tf::DType::F32, 3);
  for (auto _ : state) benchmark::DoNotOptimize(tf::matmul(a, b));
  tf::bench::report_rate(state, "GFLOP_per_s", 2.0 * kW2Size * kW2Size * kW2Size, 1e-9);
}

}  // namespace

BENCHMARK(W1_n16M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W1_graph_n16M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(copy_n16M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W2_n2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
