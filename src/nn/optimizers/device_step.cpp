#include "src/nn/optimizers/device_step.hpp"

#include <memory>

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/cuda_graph.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn::detail {
namespace {

Tensor state_at(int64_t iterations, Device device) {
  return Tensor::from_vec<double>({static_cast<double>(iterations), 0.0, 1.0, 1.0}, {4}, device);
}

}  // namespace

DeviceStep::DeviceStep(Device device, int64_t iterations, double beta1, double beta2)
    : device_(device), betas_{{"beta1", beta1}, {"beta2", beta2}} {
  TF_CHECK(!capturing(device), UnsupportedError,
           "a capturable optimizer's first step runs during a CUDA graph capture: its step state "
           "would be made inside the graph; run one step before capturing (warm-up)");
  state_ = state_at(iterations, device);
  rate_ = std::make_shared<Rate>(Rate{Tensor::empty({}, DType::F64, device)});
}

void DeviceStep::Rate::set(double value) {
  if (value == uploaded) return;
  copy_into(tensor, Tensor::from_scalar(value, Device::cpu()));
  uploaded = value;
}

const Tensor& DeviceStep::advance(Device device, double learning_rate,
                                  std::function<double()> next_rate) {
  TF_CHECK(device == device_, DeviceError, "a capturable optimizer keeps its step on ",
           device_.str(), " but this step's variables are on ", device.str(),
           " (expected every variable on one device)");
  if (capturing(device_)) {
    CudaGraph::before_each_replay(
        device_, [rate = rate_, next_rate = std::move(next_rate)] { rate->set(next_rate()); });
  } else {
    rate_->set(learning_rate);
  }
  dispatch_into(TF_OP("optimizer_step"), {state_, rate_->tensor}, betas_, state_);
  return state_;
}

void DeviceStep::restart(int64_t iterations) {
  copy_into(state_, state_at(iterations, Device::cpu()));
}

}  // namespace tenflowers::nn::detail
