// Training on the GPU with the same code as on the CPU (only the device differs): the same
// results, and device memory that stays flat over many steps. Skipped without a CUDA device.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/models.hpp"
#include "tenflowers/nn/optimizers.hpp"
#include "tenflowers/tenflowers.hpp"

namespace tenflowers::testing {
namespace {

class CudaTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_backend(DeviceType::CUDA)) GTEST_SKIP() << "no CUDA device in this process";
  }
  const Device gpu = Device::cuda(0);
};

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
  const std::vector<Variable> cpu_vars = on_cpu->trainable_variables();
  const std::vector<Variable> gpu_vars = on_gpu->trainable_variables();
  ASSERT_EQ(cpu_vars.size(), gpu_vars.size());
  for (size_t i = 0; i < cpu_vars.size(); ++i) {
    EXPECT_EQ(gpu_vars[i].device(), gpu);
    const std::vector<float> a = cpu_vars[i].handle().to_vector<float>();
    const std::vector<float> b = gpu_vars[i].handle().to_vector<float>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      ASSERT_NEAR(a[j], b[j], 1e-4) << cpu_vars[i].name() << "[" << j << "]";
    }
  }
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
