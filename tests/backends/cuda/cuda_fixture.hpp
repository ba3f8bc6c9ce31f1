#pragma once
// The fixture of every CUDA test: skipped where the process has no CUDA device (CI), with the
// device to run on.
#include <gtest/gtest.h>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/device.hpp"

namespace tenflowers::testing {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!has_backend(DeviceType::CUDA)) GTEST_SKIP() << "no CUDA device in this process";
  }
  const Device gpu = Device::cuda(0);
};

}  // namespace tenflowers::testing
