#pragma once
// The step state of a capturable optimizer (OptimizerOptions::capturable): an f64 tensor
// {t, learning_rate, bias_correction1, bias_correction2} on the variables' device, advanced by
// the optimizer_step op once per step, which the fused updates read with `step_on_device`.
// The learning rate is a device tensor the host refreshes before each eager step and before each
// replay of a captured one, so schedules keep working under replay. It is allocated before any
// capture: a block from the graph's pool could be written by the graph's earlier work during a
// replay, after the host filled it.
#include <functional>
#include <memory>

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
  // The learning rate's tensor and the value last written to it, shared with the replay
  // callbacks of the graphs that captured a step.
  struct Rate {
    Tensor tensor;
    double uploaded = -1.0;
    void set(double value);
  };
  std::shared_ptr<Rate> rate_;
};

}  // namespace tenflowers::nn::detail
