#pragma once
// The W3/W4/W5 measurement, shared by the CPU and GPU benchmarks: full train steps (forward,
// softmax cross-entropy, backward, the optimizer's update) of a 10-class classifier on fixed
// random data placed on `device`. train_step reads the loss back each step, so on a GPU every
// iteration waits for its work. The graph variant captures the same step, written as a custom
// loop, as a CUDA graph once and replays it.
#include <benchmark/benchmark.h>

#include <memory>
#include <tenflowers/core/cuda_graph.hpp>
#include <tenflowers/tenflowers.hpp>
#include <utility>
#include <vector>

#include "bench/workload_counters.hpp"

namespace tenflowers::bench {

// W3's and W4's optimizer; capturable for the graph variants.
inline std::shared_ptr<nn::Optimizer> w3_w4_adam(bool capturable = false) {
  return std::make_shared<nn::Adam>(
      nn::AdamOptions{.learning_rate = 1e-3, .common = {.capturable = capturable}});
}

// A batch of random samples and 10-class labels on `device`.
inline std::pair<Tensor, Tensor> random_batch(const Dims& sample_shape, int64_t batch,
                                              Device device) {
  manual_seed(1);
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  return {uniform(Dims(shape), 0.0, 1.0).to(device),
          uniform({batch}, 0.0, 10.0).cast(DType::I64).to(device)};
}

inline void run_train_steps(benchmark::State& state, nn::Model& model, const Dims& sample_shape,
                            int64_t batch, std::shared_ptr<nn::Optimizer> optimizer,
                            Device device = Device::cpu()) {
  const auto [x, y] = random_batch(sample_shape, batch, device);
  model.to(device);
  model.compile(std::move(optimizer),
                std::make_shared<nn::losses::SparseCategoricalCrossentropy>(true));
  model.build_for({sample_shape});
  model.train_step({x}, {y});  // warm-up: first-step allocations, slots, algorithm choices
  for (auto _ : state) benchmark::DoNotOptimize(model.train_step({x}, {y}));
  report_rate(state, "samples_per_s", static_cast<double>(batch));
}

// The step as a custom loop (tape, loss, gradients, apply_gradients with a capturable
// optimizer), warmed up once, captured once and replayed; the loss is read back each step.
inline void run_graph_train_steps(benchmark::State& state, nn::Model& model,
                                  const Dims& sample_shape, int64_t batch,
                                  std::shared_ptr<nn::Optimizer> optimizer, Device device) {
  const auto [x, y] = random_batch(sample_shape, batch, device);
  model.to(device);
  model.build_for({sample_shape});
  model.set_training(true);
  const nn::losses::SparseCategoricalCrossentropy loss_fn(true);
  Tensor loss;
  const auto step = [&] {
    GradientTape tape;
    loss = loss_fn(y, model.call({x}));
    const std::vector<Variable> vars = model.trainable_variables();
    optimizer->apply_gradients(tape.gradient(loss, vars), vars);
  };
  step();
  CudaGraph graph = CudaGraph::capture(device, step);
  for (auto _ : state) {
    graph.replay();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  report_rate(state, "samples_per_s", static_cast<double>(batch));
}

}  // namespace tenflowers::bench
