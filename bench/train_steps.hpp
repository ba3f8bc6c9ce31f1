#pragma once
// The W3/W4/W5 measurement, shared by the CPU and GPU benchmarks: full train steps (forward,
// softmax cross-entropy, backward, the optimizer's update) of a 10-class classifier on fixed
// random data placed on `device`. train_step reads the loss back each step, so on a GPU every
// iteration waits for its work.
#include <benchmark/benchmark.h>

#include <memory>
#include <tenflowers/tenflowers.hpp>
#include <vector>

#include "bench/workload_counters.hpp"

namespace tenflowers::bench {

// W3's and W4's optimizer.
inline std::shared_ptr<nn::Optimizer> w3_w4_adam() {
  return std::make_shared<nn::Adam>(nn::AdamOptions{.learning_rate = 1e-3});
}

inline void run_train_steps(benchmark::State& state, nn::Model& model, const Dims& sample_shape,
                            int64_t batch, std::shared_ptr<nn::Optimizer> optimizer,
                            Device device = Device::cpu()) {
  manual_seed(1);
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  const Tensor x = uniform(Dims(shape), 0.0, 1.0).to(device);
  const Tensor y = uniform({batch}, 0.0, 10.0).cast(DType::I64).to(device);
  model.to(device);
  model.compile(std::move(optimizer),
                std::make_shared<nn::losses::SparseCategoricalCrossentropy>(true));
  model.build_for({sample_shape});
  model.train_step({x}, {y});  // warm-up: first-step allocations, slots, algorithm choices
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step({x}, {y}));
  report_rate(state, "samples_per_s", static_cast<double>(batch));
}

}  // namespace tenflowers::bench
