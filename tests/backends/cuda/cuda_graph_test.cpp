// CUDA graph capture (tenflowers/core/cuda_graph.hpp): whole training steps captured once and
// replayed match the same steps run eagerly, for every optimizer; replays allocate nothing; a
// capture's uploads read snapshots of their own; synchronizing calls inside a capture raise a
// typed error and leave the process usable; a graph's memory comes back when it is gone.
// Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tenflowers/core/cuda_graph.hpp"
#include "tenflowers/nn/layers/conv.hpp"
#include "tenflowers/nn/layers/core.hpp"
#include "tenflowers/nn/layers/normalization.hpp"
#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/models.hpp"
#include "tenflowers/nn/optimizers.hpp"
#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"

namespace tenflowers::testing {
namespace {

class CudaGraphs : public CudaTest {};

using ModelFactory = std::function<std::shared_ptr<nn::Sequential>()>;
using OptimizerFactory = std::function<std::shared_ptr<nn::Optimizer>(bool capturable)>;

// A custom training loop's step on fixed (static) inputs: forward under a tape, softmax
// cross-entropy, gradients, one optimizer update. `loss` is the last step's loss.
struct TrainStep {
  std::shared_ptr<nn::Sequential> model;
  std::shared_ptr<nn::Optimizer> optimizer;
  Tensor x, y, loss;
  void operator()() {
    GradientTape tape;
    loss = nn::losses::SparseCategoricalCrossentropy(true)(y, (*model)(x));
    const std::vector<Variable> vars = model->trainable_variables();
    optimizer->apply_gradients(tape.gradient(loss, vars), vars);
  }
};

// The same model (same seed, so the same initial weights) on the GPU, in training mode.
TrainStep make_step(const ModelFactory& model, const Dims& sample,
                    std::shared_ptr<nn::Optimizer> opt, const Tensor& x, const Tensor& y) {
  manual_seed(11);
  TrainStep step{model(), std::move(opt), x, y, {}};
  step.model->to(x.device());
  step.model->build_for({sample});
  step.model->set_training(true);
  return step;
}

double max_difference(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  EXPECT_EQ(va.size(), vb.size());
  double worst = 0.0;
  for (size_t i = 0; i < va.size() && i < vb.size(); ++i) {
    worst = std::max(worst, std::abs(va[i] - vb[i]));
  }
  return worst;
}

// `steps` eager steps against one eager warm-up step, a capture and steps - 1 replays: every
// variable (moving statistics included) and each step's loss agree within `tolerance`.
void expect_replays_match_eager(const ModelFactory& model, const Dims& sample,
                                const OptimizerFactory& optimizer, int64_t batch, int steps,
                                double tolerance) {
  const Device gpu = Device::cuda(0);
  manual_seed(5);
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), sample.begin(), sample.end());
  const Tensor x = uniform(Dims(shape), 0.0, 1.0).to(gpu);
  const Tensor y = uniform({batch}, 0.0, 10.0).cast(DType::I64).to(gpu);
  TrainStep eager = make_step(model, sample, optimizer(false), x, y);
  TrainStep graphed = make_step(model, sample, optimizer(true), x, y);

  std::vector<double> eager_losses;
  for (int i = 0; i < steps; ++i) {
    eager();
    eager_losses.push_back(eager.loss.item<double>());
  }
  graphed();  // warm-up
  EXPECT_NEAR(graphed.loss.item<double>(), eager_losses[0], tolerance);
  CudaGraph graph = CudaGraph::capture(gpu, [&] { graphed(); });
  const Tensor loss = graphed.loss;  // made by the capture, rewritten by each replay
  for (int i = 1; i < steps; ++i) {
    graph.replay();
    EXPECT_NEAR(loss.item<double>(), eager_losses[static_cast<size_t>(i)], tolerance)
        << "loss of step " << i + 1;
  }
  EXPECT_EQ(graphed.optimizer->iterations(), steps);
  const auto a = eager.model->named_variables(), b = graphed.model->named_variables();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LE(max_difference(a[i].second.handle(), b[i].second.handle()), tolerance) << a[i].first;
  }
}

ModelFactory small_mlp() {
  return [] { return nn::models::mlp({64, 32}, 10); };
}

// conv2d + max pooling + batch normalization (moving statistics updated in place) + dense.
ModelFactory small_conv_net() {
  return [] {
    using namespace nn;
    ConvOptions same;
    same.padding = "same";
    return std::make_shared<Sequential>(std::vector<LayerPtr>{
        std::make_shared<Conv2D>(8, std::vector<int64_t>{3}, same),
        std::make_shared<BatchNormalization>(), std::make_shared<Activation>("relu"),
        std::make_shared<MaxPool2D>(), std::make_shared<Flatten>(), std::make_shared<Dense>(10)});
  };
}

template <class O, class Options>
OptimizerFactory optimizer_of(Options options) {
  return [options](bool capturable) {
    Options o = options;
    o.common.capturable = capturable;
    return std::make_shared<O>(o);
  };
}

TEST_F(CudaGraphs, MlpAdamStepReplayedMatchesEagerSteps) {
  expect_replays_match_eager(small_mlp(), Dims{20}, optimizer_of<nn::Adam>(nn::AdamOptions{}), 32,
                             21, 1e-5);
}

TEST_F(CudaGraphs, EveryOptimizerIsCorrectUnderReplay) {
  const auto decay = std::make_shared<nn::ExponentialDecay>(5e-2, 4, 0.7);
  const std::vector<std::pair<std::string, OptimizerFactory>> optimizers{
      {"sgd", optimizer_of<nn::SGD>(nn::SGDOptions{.learning_rate = 5e-2})},
      {"sgd momentum schedule",
       optimizer_of<nn::SGD>(nn::SGDOptions{.learning_rate = decay, .momentum = 0.9})},
      {"nesterov", optimizer_of<nn::SGD>(nn::SGDOptions{.momentum = 0.8, .nesterov = true})},
      {"adam amsgrad schedule",
       optimizer_of<nn::Adam>(nn::AdamOptions{.learning_rate = decay, .amsgrad = true})},
      {"adamw", optimizer_of<nn::AdamW>(nn::AdamWOptions{.learning_rate = 1e-2})},
      {"rmsprop centered momentum", optimizer_of<nn::RMSprop>(nn::RMSpropOptions{
                                        .learning_rate = 1e-3, .momentum = 0.5, .centered = true})},
      {"adagrad", optimizer_of<nn::Adagrad>(nn::AdagradOptions{.learning_rate = 5e-2})},
  };
  for (const auto& [name, optimizer] : optimizers) {
    SCOPED_TRACE(name);
    expect_replays_match_eager(small_mlp(), Dims{20}, optimizer, 16, 12, 1e-5);
  }
}

TEST_F(CudaGraphs, ConvNetSgdMomentumStepReplayedMatchesEagerSteps) {
  expect_replays_match_eager(
      small_conv_net(), Dims{3, 12, 12},
      optimizer_of<nn::SGD>(nn::SGDOptions{.learning_rate = 1e-2, .momentum = 0.9}), 8, 21, 1e-5);
}

TEST_F(CudaGraphs, ReplaysAllocateNothing) {
  manual_seed(6);
  const Tensor x = uniform({32, 20}, 0.0, 1.0).to(gpu);
  const Tensor y = uniform({32}, 0.0, 10.0).cast(DType::I64).to(gpu);
  TrainStep step =
      make_step(small_mlp(), Dims{20}, optimizer_of<nn::Adam>(nn::AdamOptions{})(true), x, y);
  step();
  CudaGraph graph = CudaGraph::capture(gpu, [&] { step(); });
  graph.replay();
  synchronize(gpu);
  const MemoryStats before = memory_stats(gpu);
  for (int i = 0; i < 1000; ++i) graph.replay();
  synchronize(gpu);
  const MemoryStats after = memory_stats(gpu);
  EXPECT_EQ(after.in_use_bytes, before.in_use_bytes);
  EXPECT_EQ(after.device_allocations, before.device_allocations);
  EXPECT_EQ(after.graph_pool_bytes, before.graph_pool_bytes);
  EXPECT_EQ(step.optimizer->iterations(), 1002);
}

// Host values become uploads; a replay must read what was uploaded at capture, even after the
// rotating staging slots have been reused many times.
TEST_F(CudaGraphs, UploadsDuringCaptureReadSnapshots) {
  const Tensor x = Tensor::from_vec<float>({1, 2, 3, 4}, {4}, gpu);
  Tensor y;
  CudaGraph graph = CudaGraph::capture(gpu, [&] { y = x * 1.5 + 0.25; });
  for (int i = 0; i < 2000; ++i) (void)Tensor::from_scalar(static_cast<float>(i), gpu);
  copy_into(x, Tensor::from_vec<float>({10, 20, 30, 40}, {4}));
  graph.replay();
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{15.25f, 30.25f, 45.25f, 60.25f}));
}

TEST_F(CudaGraphs, SynchronizingCallsInsideACaptureThrowAndLeaveTheRuntimeUsable) {
  const Tensor x = Tensor::from_vec<float>({1, 2, 3}, {3}, gpu);
  const std::vector<std::pair<std::string, std::function<void()>>> refused{
      {"item", [&] { (void)sum(x * 2.0).item<float>(); }},
      {"to_vector", [&] { (void)(x + 1.0).to_vector<float>(); }},
      {"to cpu", [&] { (void)(x * 3.0).to(Device::cpu()); }},
      {"synchronize", [&] { synchronize(gpu); }},
      {"release_cached_memory", [&] { release_cached_memory(gpu); }},
      {"random op", [&] { (void)uniform({3}, 0.0, 1.0, DType::F32, std::nullopt, gpu); }},
      {"non-capturable optimizer",
       [&] {
         Variable v(zeros({3}, DType::F32, gpu), "v");
         nn::SGD sgd;
         sgd.apply_gradients({&x, 1}, {&v, 1});
       }},
  };
  for (const auto& [name, fn] : refused) {
    SCOPED_TRACE(name);
    try {
      CudaGraph::capture(gpu, [&] {
        (void)(x * 2.0);
        fn();
      });
      ADD_FAILURE() << "expected UnsupportedError";
    } catch (const UnsupportedError& e) {
      EXPECT_NE(std::string(e.what()).find("capture"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(capturing(gpu));
    EXPECT_EQ((x * 2.0).to_vector<float>(), (std::vector<float>{2, 4, 6}));
    synchronize(gpu);
  }
  Tensor y;
  CudaGraph graph = CudaGraph::capture(gpu, [&] { y = x + 1.0; });
  graph.replay();
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{2, 3, 4}));
}

TEST_F(CudaGraphs, GraphMemoryIsReturnedWhenTheGraphAndItsTensorsAreGone) {
  const Tensor x = uniform({256, 256}, 0.0, 1.0).to(gpu);
  (void)matmul(x, x);  // warm-up: the cuBLAS handles are made outside the capture
  synchronize(gpu);
  const MemoryStats before = memory_stats(gpu);
  {
    Tensor kept;
    const void* freed_in_capture = nullptr;
    {
      CudaGraph graph = CudaGraph::capture(gpu, [&] {
        const Tensor t = matmul(x, x);  // freed inside the capture: stays in the graph's pool
        freed_in_capture = t.data_ptr();
        kept = relu(t + 1.0);
      });
      graph.replay();
      EXPECT_GT(memory_stats(gpu).graph_pool_bytes, before.graph_pool_bytes);
      EXPECT_GT(memory_stats(gpu).in_use_bytes, before.in_use_bytes);
      const Tensor outside = x * 2.0;  // eager work never gets the graph's blocks
      EXPECT_NE(outside.data_ptr(), freed_in_capture);
    }
    // The graph is gone; its free blocks are cached again, the tensor it made still lives.
    EXPECT_EQ(memory_stats(gpu).graph_pool_bytes, before.graph_pool_bytes);
    EXPECT_EQ(kept.shape(), (Dims{256, 256}));
  }
  const MemoryStats after = memory_stats(gpu);
  EXPECT_EQ(after.in_use_bytes, before.in_use_bytes);
  EXPECT_EQ(after.graph_pool_bytes, before.graph_pool_bytes);
  EXPECT_GE(after.cached_bytes, before.cached_bytes);
}

}  // namespace
}  // namespace tenflowers::testing
