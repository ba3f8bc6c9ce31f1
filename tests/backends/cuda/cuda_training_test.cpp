// Training on the GPU with the same code as on the CPU (only the device differs): the same
// results, and device memory that stays flat over many steps. Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/models.hpp"
#include "tenflowers/nn/optimizers.hpp"
#include "tenflowers/tenflowers.hpp"
#include "tests/backends/cuda/cuda_fixture.hpp"
#include "tests/support/f64_weights.hpp"

namespace tenflowers::testing {
namespace {

class CudaTraining : public CudaTest {};

// Every variable of the two models, trainable or not, agrees within `tolerance`; the second
// model's are on `device`.
void expect_same_variables(const nn::Layer& on_cpu, const nn::Layer& on_device, Device device,
                           double tolerance) {
  const nn::NamedVariables cpu_vars = on_cpu.named_variables();
  const nn::NamedVariables device_vars = on_device.named_variables();
  ASSERT_EQ(cpu_vars.size(), device_vars.size());
  for (size_t i = 0; i < cpu_vars.size(); ++i) {
    EXPECT_EQ(device_vars[i].second.device(), device);
    const std::vector<double> a = cpu_vars[i].second.handle().to_vector<double>();
    const std::vector<double> b = device_vars[i].second.handle().to_vector<double>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      ASSERT_NEAR(a[j], b[j], tolerance) << cpu_vars[i].first << "[" << j << "]";
    }
  }
}

// A small classifier trained `steps` steps on fixed random data, on `device`.
std::shared_ptr<nn::Sequential> trained_mlp(Device device, int steps, const Tensor& x,
                                            const Tensor& y) {
  manual_seed(7);
  auto model = nn::models::mlp({64, 32}, 10);
  model->to(device);
  model->compile(std::make_shared<nn::Adam>(nn::AdamOptions{.learning_rate = 1e-3}),
                 std::make_shared<nn::losses::SparseCategoricalCrossentropy>(true));
  model->build_for({Dims{20}});
  for (int i = 0; i < steps; ++i) model->train_step({x}, {y});
  return model;
}

TEST_F(CudaTraining, TrainsLikeTheCpu) {
  manual_seed(3);
  const Tensor x = normal({64, 20});
  const Tensor y = uniform({64}, 0.0, 10.0).cast(DType::I64);
  const auto on_cpu = trained_mlp(Device::cpu(), 20, x, y);
  const auto on_gpu = trained_mlp(gpu, 20, x, y);
  expect_same_variables(*on_cpu, *on_gpu, gpu, 1e-4);
}

// W5's ResNet-18 after one SGD-momentum step on fixed data, on `device`.
std::shared_ptr<nn::Sequential> resnet_after_one_step(Device device, const Tensor& x,
                                                      const Tensor& y) {
  manual_seed(8);
  auto model = nn::models::resnet18(10);
  model->to(device);
  model->compile(std::make_shared<nn::SGD>(nn::SGDOptions{.learning_rate = 0.1, .momentum = 0.9}),
                 std::make_shared<nn::losses::SparseCategoricalCrossentropy>(true));
  model->train_step({x}, {y});
  return model;
}

// One step covers cuDNN convolutions, batch statistics and their moving averages, residual adds
// and the momentum update. In f64 because a small batch leaves some ReLU inputs within f32
// rounding of zero: one of them flipping between devices moves a gradient by percents (as it
// does between f32 and f64 on the CPU), beyond any useful f32 tolerance.
TEST_F(CudaTraining, ResNet18StepMatchesTheCpu) {
  F64Weights f64;
  manual_seed(3);
  const Tensor x = normal({4, 3, 16, 16}, 0.0, 1.0, DType::F64);
  const Tensor y = uniform({4}, 0.0, 10.0).cast(DType::I64);
  const auto on_cpu = resnet_after_one_step(Device::cpu(), x, y);
  const auto on_gpu = resnet_after_one_step(gpu, x, y);
  expect_same_variables(*on_cpu, *on_gpu, gpu, 1e-9);
}

TEST_F(CudaTraining, DeviceMemoryInUseStaysFlatOverThousandsOfSteps) {
  manual_seed(4);
  const Tensor x = normal({32, 20}).to(gpu);
  const Tensor y = uniform({32}, 0.0, 10.0).cast(DType::I64).to(gpu);
  auto model = trained_mlp(gpu, 10, x, y);  // slots and caches exist after the first steps
  const size_t settled = memory_stats(gpu).in_use_bytes;
  for (int i = 0; i < 3000; ++i) model->train_step({x}, {y});
  EXPECT_EQ(memory_stats(gpu).in_use_bytes, settled);
}

}  // namespace
}  // namespace tenflowers::testing
