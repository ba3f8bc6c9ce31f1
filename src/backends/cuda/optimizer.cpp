// Host side of the fused optimizer updates on the GPU: the same operand rules as the CPU
// (optimizer_host.hpp); state inputs that are not their outputs are copied into them first, and
// a strided gradient is made contiguous, so the kernel reads and writes plain arrays.
#include <string>

#include "src/backends/common/optimizer_host.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/optimizer_launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/dispatch.hpp"

namespace tenflowers::cuda {
namespace {

void run(KernelContext& ctx, OptimizerRule rule, size_t states) {
  check_optimizer_operands(ctx, states);
  Tensor grad = ctx.inputs[1];
  {
    HooksPaused paused;
    for (size_t k = 0; k < states; ++k) {
      const Tensor& in = ctx.inputs[optimizer_state_input(k)];
      if (!is_same_tensor(in, ctx.outputs[k])) {
        dispatch_into(registry().get("copy"), {in}, Attrs{}, ctx.outputs[k]);
      }
    }
    grad = grad.contiguous();
  }
  OptimizerArgs args{};
  for (size_t k = 0; k < states; ++k) args.state[k] = ctx.outputs[k].data_ptr();
  args.grad = grad.data_ptr();
  args.numel = ctx.outputs[0].numel();
  args.hyper = hyper_from(ctx.attrs);
  Tensor step;
  if (ctx.attrs.get_bool_or("step_on_device", false)) {
    HooksPaused paused;
    step = ctx.inputs.back().contiguous();
    args.step = static_cast<const double*>(step.data_ptr());
  }
  args.stream = use_device(ctx.device.index);
  const DType type = ctx.outputs[0].dtype();
  finish_launch(ctx, launch_optimizer(rule, type, args), type);
}

void sgd_kernel(KernelContext& ctx) {
  const Attrs& a = ctx.attrs;
  if (a.get_float("momentum") == 0.0) return run(ctx, OptimizerRule::Sgd, 1);
  const bool nesterov = a.get_bool("nesterov"), first = a.get_bool("initialize");
  const OptimizerRule rule =
      nesterov
          ? (first ? OptimizerRule::SgdMomentumNesterovFirst : OptimizerRule::SgdMomentumNesterov)
          : (first ? OptimizerRule::SgdMomentumFirst : OptimizerRule::SgdMomentum);
  run(ctx, rule, 2);
}

void adam_kernel(KernelContext& ctx) {
  const bool amsgrad = ctx.attrs.get_bool("amsgrad");
  run(ctx, amsgrad ? OptimizerRule::AdamAmsgrad : OptimizerRule::Adam, amsgrad ? 4 : 3);
}

void rmsprop_kernel(KernelContext& ctx) {
  const bool centered = ctx.attrs.get_bool("centered");
  const bool momentum = ctx.attrs.get_float("momentum") != 0.0;
  const OptimizerRule rule =
      centered
          ? (momentum ? OptimizerRule::RmspropCenteredMomentum : OptimizerRule::RmspropCentered)
          : (momentum ? OptimizerRule::RmspropMomentum : OptimizerRule::Rmsprop);
  run(ctx, rule, 2 + (centered ? 1 : 0) + (momentum ? 1 : 0));
}

void adagrad_kernel(KernelContext& ctx) {
  run(ctx, OptimizerRule::Adagrad, 2);
}

void optimizer_step_kernel(KernelContext& ctx) {
  HooksPaused paused;
  const Tensor state = ctx.inputs[0].contiguous();
  const Tensor lr = ctx.inputs[1].contiguous();
  check_launch(
      ctx.op.name,
      launch_optimizer_step(static_cast<double*>(ctx.outputs[0].data_ptr()),
                            static_cast<const double*>(state.data_ptr()),
                            static_cast<const double*>(lr.data_ptr()), ctx.attrs.get_float("beta1"),
                            ctx.attrs.get_float("beta2"), use_device(ctx.device.index)));
}

}  // namespace

void register_cuda_optimizer_kernels(OpRegistry& r) {
  r.add_kernel("optimizer_step", DeviceType::CUDA, optimizer_step_kernel, dtype_mask({DType::F64}));
  r.add_kernel("sgd_update", DeviceType::CUDA, sgd_kernel, kFloatDTypes);
  r.add_kernel("adam_update", DeviceType::CUDA, adam_kernel, kFloatDTypes);
  r.add_kernel("rmsprop_update", DeviceType::CUDA, rmsprop_kernel, kFloatDTypes);
  r.add_kernel("adagrad_update", DeviceType::CUDA, adagrad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
