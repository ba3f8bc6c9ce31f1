// The design brief's GPU workloads on CUDA device 0 (bench/peers/torch_gpu.py runs the same in
// PyTorch): W1 over 512M f32 (eager, as a graph::Function, and a plain copy as the ceiling),
// host-to-device copies of 256 MiB from pageable and from pinned memory, W2 GEMM 8192^3 in fp32,
// tf32 and bf16, the W3/W4 training steps (eager, and captured once as a CUDA graph and
// replayed), W5 (ResNet-18 on 3x32x32, batch
// 256, SGD momentum), W6 (batch 16 x seq 512) and W7 on the GPU. Every iteration ends with a device
// synchronization, so wall-clock time counts the device's work. Exits with a message where there is
// no GPU.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <tenflowers/tenflowers.hpp>

#include "bench/train_steps.hpp"
#include "bench/workload_counters.hpp"

namespace tf = tenflowers;
namespace nn = tenflowers::nn;

namespace {

const tf::Device kGpu = tf::Device::cuda(0);
constexpr int64_t kW1Elements = int64_t{512} << 20;
constexpr int64_t kW2Size = 8192;

tf::Tensor on_gpu(const tf::Tensor& t) {
  return t.to(kGpu);
}

void W1_n512M(benchmark::State& state) {
  const tf::Tensor x = on_gpu(tf::uniform({kW1Elements}, -1.0, 1.0, tf::DType::F32, 1));
  for (auto _ : state) {
    benchmark::DoNotOptimize(tf::relu(x * 1.5 + 0.25));
    tf::synchronize(kGpu);
  }
  tf::bench::report_rate(state, "GB_per_s", 2.0 * 4 * kW1Elements, 1e-9);
}

void W1_graph_n512M(benchmark::State& state) {
  const tf::Tensor x = on_gpu(tf::uniform({kW1Elements}, -1.0, 1.0, tf::DType::F32, 1));
  tf::graph::Function f([](const tf::Tensor& t) { return tf::relu(t * 1.5 + 0.25); });
  f.call1(x);  // traces and optimizes outside the timing
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.call1(x));
    tf::synchronize(kGpu);
  }
  tf::bench::report_rate(state, "GB_per_s", 2.0 * 4 * kW1Elements, 1e-9);
}

void copy_n512M(benchmark::State& state) {
  const tf::Tensor x = on_gpu(tf::uniform({kW1Elements}, -1.0, 1.0, tf::DType::F32, 1));
  for (auto _ : state) {
    benchmark::DoNotOptimize(x.copy());
    tf::synchronize(kGpu);
  }
  tf::bench::report_rate(state, "GB_per_s", 2.0 * 4 * kW1Elements, 1e-9);
}

// Host-to-device bandwidth of 256 MiB of f32: from ordinary (pageable) memory with the default
// copy, which goes through the backend's pinned staging buffers, and from a pinned tensor with a
// non-blocking copy, one direct DMA. Each iteration waits for the copy to land.
constexpr int64_t kH2DElements = int64_t{64} << 20;

void host_to_device(benchmark::State& state, bool pinned) {
  tf::Tensor x = tf::uniform({kH2DElements}, -1.0, 1.0, tf::DType::F32, 4);
  if (pinned) x = x.pin_memory();
  for (auto _ : state) {
    benchmark::DoNotOptimize(x.to(kGpu, /*non_blocking=*/pinned));
    tf::synchronize(kGpu);
  }
  tf::bench::report_rate(state, "GB_per_s", 4.0 * kH2DElements, 1e-9);
}
void H2D_pageable_256M(benchmark::State& state) {
  host_to_device(state, false);
}
void H2D_pinned_256M(benchmark::State& state) {
  host_to_device(state, true);
}

void gemm(benchmark::State& state, tf::DType dtype, bool tf32) {
  const tf::Tensor a = on_gpu(tf::uniform({kW2Size, kW2Size}, -1.0, 1.0, dtype, 2));
  const tf::Tensor b = on_gpu(tf::uniform({kW2Size, kW2Size}, -1.0, 1.0, dtype, 3));
  tf::set_matmul_allow_tf32(tf32);
  tf::matmul(a, b);
  tf::synchronize(kGpu);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tf::matmul(a, b));
    tf::synchronize(kGpu);
  }
  tf::set_matmul_allow_tf32(false);
  tf::bench::report_rate(state, "TFLOP_per_s", 2.0 * kW2Size * kW2Size * kW2Size, 1e-12);
}
void W2_fp32(benchmark::State& state) {
  gemm(state, tf::DType::F32, false);
}
void W2_tf32(benchmark::State& state) {
  gemm(state, tf::DType::F32, true);
}
void W2_bf16(benchmark::State& state) {
  gemm(state, tf::DType::BF16, false);
}

using tf::bench::run_train_steps;
using tf::bench::w3_w4_adam;

void W3_batch512(benchmark::State& state) {
  run_train_steps(state, *nn::models::mlp({1024, 1024}, 10), tf::Dims{784}, 512, w3_w4_adam(),
                  kGpu);
}
void W3_batch32(benchmark::State& state) {
  run_train_steps(state, *nn::models::mlp({1024, 1024}, 10), tf::Dims{784}, 32, w3_w4_adam(), kGpu);
}
void W4_batch256(benchmark::State& state) {
  run_train_steps(state, *nn::models::small_cnn(10), tf::Dims{1, 28, 28}, 256, w3_w4_adam(), kGpu);
}

// The same steps captured once as a CUDA graph and replayed.
using tf::bench::run_graph_train_steps;
void W3_graph_batch512(benchmark::State& state) {
  run_graph_train_steps(state, *nn::models::mlp({1024, 1024}, 10), tf::Dims{784}, 512,
                        w3_w4_adam(true), kGpu);
}
void W3_graph_batch32(benchmark::State& state) {
  run_graph_train_steps(state, *nn::models::mlp({1024, 1024}, 10), tf::Dims{784}, 32,
                        w3_w4_adam(true), kGpu);
}
void W4_graph_batch256(benchmark::State& state) {
  run_graph_train_steps(state, *nn::models::small_cnn(10), tf::Dims{1, 28, 28}, 256,
                        w3_w4_adam(true), kGpu);
}
void W5_batch256(benchmark::State& state) {
  run_train_steps(state, *nn::models::resnet18(10), tf::Dims{3, 32, 32}, 256,
                  std::make_shared<nn::SGD>(nn::SGDOptions{.learning_rate = 0.1, .momentum = 0.9}),
                  kGpu);
}

void W6_b16_s512(benchmark::State& state) {
  constexpr int64_t kBatch = 16, kSeq = 512, kModel = 768;
  tf::manual_seed(2);
  nn::TransformerEncoderBlock block(12, 3072);
  block.to(kGpu);
  const tf::Tensor x = on_gpu(tf::normal({kBatch, kSeq, kModel}));
  block(x);  // builds the weights
  const std::vector<tf::Variable> weights = block.trainable_variables();
  auto step = [&] {
    tf::GradientTape tape;
    const tf::Tensor loss = tf::mean(block(x));
    auto grads = tape.gradient(loss, weights);
    tf::synchronize(kGpu);
    return grads;
  };
  step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  tf::bench::report_rate(state, "tokens_per_s", static_cast<double>(kBatch * kSeq));
}

void W7_no_tape(benchmark::State& state) {
  constexpr int kChain = 10000;
  const tf::Tensor one = on_gpu(tf::Tensor::from_vec({1.0f}, {1}));
  const tf::Tensor zero = on_gpu(tf::Tensor::from_vec({0.0f}, {1}));
  for (auto _ : state) {
    tf::Tensor x = zero;
    for (int i = 0; i < kChain; ++i) x = x + one;
    tf::synchronize(kGpu);
    benchmark::DoNotOptimize(x);
  }
  state.counters["us_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kChain * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(copy_n512M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(H2D_pageable_256M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(H2D_pinned_256M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W1_n512M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W1_graph_n512M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W2_fp32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W2_tf32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W2_bf16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W3_batch512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W3_batch32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W4_batch256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W3_graph_batch512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W3_graph_batch32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W4_graph_batch256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W5_batch256)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W6_b16_s512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(W7_no_tape)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  if (!tf::has_backend(tf::DeviceType::CUDA)) {
    std::fprintf(stderr, "gpu_workloads: no CUDA device (or a build without CUDA)\n");
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
