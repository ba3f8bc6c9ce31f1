// Host side of fused_elementwise on the GPU: the program's steps become kernel codes, and each
// input is handed over contiguous in the output's shape or as a single value (a broadcast
// input of other shapes is expanded first).
#include <optional>
#include <string>
#include <vector>

#include "src/backends/cuda/elementwise_codes.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/fused_launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/fused_elementwise.hpp"

namespace tenflowers::cuda {
namespace {

static_assert(kMaxFusedInputs + kMaxFusedSteps == kMaxFusedValues &&
              kMaxFusedInputs <= std::size(FusedArgs{}.in) &&
              kMaxFusedSteps <= std::size(FusedArgs{}.code));

void fused_kernel(KernelContext& ctx) {
  const FusedProgram program = parse_fused_program(ctx.attrs, ctx.inputs.size());
  const Tensor& out = ctx.outputs[0];
  FusedArgs args;
  args.num_inputs = static_cast<int>(program.num_inputs);
  args.num_steps = static_cast<int>(program.steps.size());
  std::vector<Tensor> inputs;
  for (size_t k = 0; k < program.num_inputs; ++k) {
    Tensor x = ctx.inputs[k];
    if (x.numel() == 1) {
      args.single_mask |= 1u << k;
    } else if (!(x.shape() == out.shape() && x.is_contiguous())) {
      HooksPaused paused;
      x = x.expand(out.shape()).contiguous();
    }
    args.in[k] = x.data_ptr();
    inputs.push_back(std::move(x));
  }
  for (size_t j = 0; j < program.steps.size(); ++j) {
    const FusedStep& step = program.steps[j];
    args.binary[j] = step.rhs >= 0;
    args.lhs[j] = static_cast<int8_t>(step.lhs);
    args.rhs[j] = static_cast<int8_t>(step.rhs);
    if (args.binary[j]) {
      const std::optional<BinaryOp> code = binary_op_code(step.op->name);
      TF_CHECK(code.has_value(), UnsupportedError, "fused step '", step.op->name,
               "' has no CUDA code");
      args.code[j] = static_cast<uint8_t>(*code);
    } else {
      const std::optional<UnaryOp> code = unary_op_code(step.op->name);
      TF_CHECK(code.has_value(), UnsupportedError, "fused step '", step.op->name,
               "' has no CUDA code");
      args.code[j] = static_cast<uint8_t>(*code);
    }
  }
  args.out = out.data_ptr();
  args.numel = out.numel();
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_fused(out.dtype(), args), out.dtype());
}

}  // namespace

void register_cuda_fused_kernels(OpRegistry& r) {
  r.add_kernel("fused_elementwise", DeviceType::CUDA, fused_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
