// Training steps of the design brief's models: W3 (MLP 784-1024-1024-10, batch 512 and 32), W4
// (the CNN, batch 256), each a full train_step (forward, softmax cross-entropy, backward, Adam),
// and W6 (a Transformer encoder layer, d 768, 12 heads, ff 3072, batch 2 x seq 128, forward and
// backward to every weight).
#include <benchmark/benchmark.h>

#include <tenflowers/tenflowers.hpp>

#include "bench/train_steps.hpp"
#include "bench/workload_counters.hpp"

namespace tf = tenflowers;
namespace nn = tenflowers::nn;

namespace {

using tf::bench::run_train_steps;
using tf::bench::w3_w4_adam;

void W3_batch512(benchmark::State& state) {
  run_train_steps(state, *nn::models::mlp({1024, 1024}, 10), tf::Dims{784}, 512, w3_w4_adam());
}
void W3_batch32(benchmark::State& state) {
  run_train_steps(state, *nn::models::mlp({1024, 1024}, 10), tf::Dims{784}, 32, w3_w4_adam());
}
void W4_batch256(benchmark::State& state) {
  run_train_steps(state, *nn::models::small_cnn(10), tf::Dims{1, 28, 28}, 256, w3_w4_adam());
}

void W6_b2_s128(benchmark::State& state) {
  constexpr int64_t kBatch = 2, kSeq = 128, kModel = 768;
  tf::manual_seed(2);
  nn::TransformerEncoderBlock block(12, 3072);
  const tf::Tensor x = tf::normal({kBatch, kSeq, kModel});
  block(x);  // builds the weights
  const std::vector<tf::Variable> weights = block.trainable_variables();
  auto step = [&] {
    tf::GradientTape tape;
    const tf::Tensor loss = tf::mean(block(x));
    return tape.gradient(loss, weights);
  };
  step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  tf::bench::report_rate(state, "tokens_per_s", static_cast<double>(kBatch * kSeq));
}

}  // namespace

BENCHMARK(W3_batch512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W3_batch32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W4_batch256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W6_b2_s128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
