// Host side of batch normalization on the GPU: operands are made contiguous (copying only what is
// strided) and seen as [outer, channels, inner] around the channel axis, as the CPU kernels do;
// kernels/batch_norm.cu has the kernels.
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/batch_norm_launch.hpp"
#include "src/backends/cuda/kernels/launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"

namespace tenflowers::cuda {
namespace {

ChannelView view_of(const Tensor& x, const Attrs& attrs) {
  const int64_t axis = normalize_axis(attrs.get_int("axis"), x.rank());
  ChannelView v;
  for (int64_t a = 0; a < x.rank(); ++a) {
    (a < axis ? v.outer : a == axis ? v.channels : v.inner) *= x.size(a);
  }
  // A single channel's elements are one run.
  if (v.channels == 1) v = {1, 1, v.outer * v.inner};
  return v;
}

// The launch arguments every kernel shares, with `keep` holding the contiguous operands alive.
BatchNormArgs common_args(KernelContext& ctx, std::vector<Tensor>& keep) {
  for (const Tensor& t : ctx.inputs) keep.push_back(contiguous(t));
  BatchNormArgs args;
  args.view = view_of(ctx.inputs[0], ctx.attrs);
  args.x = keep[0].data_ptr();
  args.out = ctx.outputs[0].data_ptr();
  args.epsilon = ctx.attrs.get_float("epsilon");
  args.stream = use_device(ctx.device.index);
  return args;
}

Tensor workspace_for(const KernelContext& ctx, const ChannelView& view) {
  const size_t bytes = batch_norm_workspace_bytes(ctx.inputs[0].dtype(), view);
  return Tensor::empty({static_cast<int64_t>(bytes)}, DType::U8, ctx.device);
}

void batch_norm_kernel(KernelContext& ctx) {
  if (ctx.outputs[1].numel() == 0) return;  // no channels
  std::vector<Tensor> keep;
  BatchNormArgs args = common_args(ctx, keep);
  args.gamma = keep[1].data_ptr();
  args.beta = keep[2].data_ptr();
  args.stat0 = ctx.outputs[1].data_ptr();
  args.stat1 = ctx.outputs[2].data_ptr();
  const Tensor workspace = workspace_for(ctx, args.view);
  args.workspace = workspace.data_ptr();
  finish_launch(ctx, launch_batch_norm(ctx.inputs[0].dtype(), args), ctx.inputs[0].dtype());
}

void batch_norm_inference_kernel(KernelContext& ctx) {
  if (ctx.outputs[0].numel() == 0) return;
  std::vector<Tensor> keep;
  BatchNormArgs args = common_args(ctx, keep);
  args.gamma = keep[1].data_ptr();
  args.beta = keep[2].data_ptr();
  args.mean = keep[3].data_ptr();
  args.var = keep[4].data_ptr();
  finish_launch(ctx, launch_batch_norm_inference(ctx.inputs[0].dtype(), args),
                ctx.inputs[0].dtype());
}

void batch_norm_grad_kernel(KernelContext& ctx) {
  const DType type = ctx.inputs[0].dtype();
  if (ctx.outputs[1].numel() == 0) return;  // no channels
  if (ctx.outputs[0].numel() == 0) {
    // No elements: dgamma and dbeta are empty sums.
    const cudaStream_t stream = use_device(ctx.device.index);
    for (int i = 1; i < 3; ++i) {
      const Tensor& out = ctx.outputs[static_cast<size_t>(i)];
      check_launch(ctx.op.name, launch_fill(type, 0.0, out.data_ptr(), out.numel(), stream));
    }
    return;
  }
  std::vector<Tensor> keep;
  BatchNormArgs args = common_args(ctx, keep);
  args.dy = keep[1].data_ptr();
  args.gamma = keep[2].data_ptr();
  args.mean = keep[3].data_ptr();
  args.var = keep[4].data_ptr();
  args.stat0 = ctx.outputs[1].data_ptr();
  args.stat1 = ctx.outputs[2].data_ptr();
  const Tensor workspace = workspace_for(ctx, args.view);
  args.workspace = workspace.data_ptr();
  finish_launch(ctx, launch_batch_norm_grad(type, args), type);
}

}  // namespace

void register_cuda_batch_norm_kernels(OpRegistry& r) {
  r.add_kernel("batch_norm", DeviceType::CUDA, batch_norm_kernel, kFloatDTypes);
  r.add_kernel("batch_norm_inference", DeviceType::CUDA, batch_norm_inference_kernel, kFloatDTypes);
  r.add_kernel("batch_norm_grad", DeviceType::CUDA, batch_norm_grad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
