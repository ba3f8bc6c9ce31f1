// Pinned host memory where there is no CUDA device (CI): asking for it is a typed error, and
// ordinary tensors are not pinned. tests/backends/cuda/cuda_pinned_test.cpp covers the GPU side.
#include <gtest/gtest.h>

#include <string>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::Tensor;

namespace {

class PinnedWithoutCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tf::has_backend(tf::DeviceType::CUDA)) {
      GTEST_SKIP() << "a CUDA device is present; cuda_tests cover pinned memory there";
    }
  }
};

TEST_F(PinnedWithoutCuda, PinMemoryIsADeviceErrorNamingCuda) {
  const Tensor x = Tensor::from_vec({1.f, 2.f, 3.f}, {3});
  try {
    x.pin_memory();
    FAIL() << "pin_memory() succeeded without a CUDA device";
  } catch (const tf::DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("needs a CUDA device"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tf::pinned_memory_stats(), tf::DeviceError);
  EXPECT_THROW(tf::release_cached_pinned_memory(), tf::DeviceError);
}

TEST_F(PinnedWithoutCuda, NonBlockingCopyWithinTheCpuIsTheTensorItself) {
  const Tensor x = Tensor::from_vec({1.f, 2.f}, {2});
  EXPECT_TRUE(x.to(tf::Device::cpu(), true).shares_storage(x));
}

TEST(Pinned, OrdinaryTensorsAreNotPinned) {
  const Tensor x = tf::arange(6.0).reshape({2, 3});
  EXPECT_FALSE(x.is_pinned());
  EXPECT_FALSE(x.t().is_pinned());
  EXPECT_FALSE(Tensor::meta({2}, tf::DType::F32).is_pinned());
  float external[2] = {1.f, 2.f};
  EXPECT_FALSE(Tensor::from_blob(external, {2}, {1}, tf::DType::F32, tf::Device::cpu(), nullptr)
                   .is_pinned());
}

}  // namespace
