#pragma once
// The step state of a capturable optimizer (OptimizerOptions::capturable): an f64 tensor
// {t, learning_rate, bias_correction1, bias_correction2} on the variables' device, advanced by
// the optimizer_step op once per step, which the fused updates read with `step_on_device`.
// Inside a CUDA graph capture the learning rate comes from a tensor of the graph that the host
// refreshes before each replay, so schedules keep working under replay.
#include <functional>

#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn::detail {

class DeviceStep {
 public:
  // Starts at step count `iterations` on `device`; refuses (UnsupportedError) during a capture.
  DeviceStep(Device device, int64_t iterations, double beta1, double beta2);

  // Advances the state by one step and returns it. Outside a capture the step uses
  // `learning_rate`; inside one, every replay calls `next_rate` on the host first (it returns
  // the replay's rate and counts the step) and the step uses that.
  const Tensor& advance(Device device, double learning_rate, std::function<double()> next_rate);
  // Restarts the count at `iterations` (load_state).
  void restart(int64_t iterations);
  Device device() const { return device_; }

 private:
  Device device_;
  Attrs betas_;
  Tensor state_;
  Tensor rate_;  // the learning rate of eager steps
  double uploaded_rate_ = -1.0;
};

}  // namespace tenflowers::nn::detail
