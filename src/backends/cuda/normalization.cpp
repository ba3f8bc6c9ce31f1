// Host side of layer_norm and layer_norm_backward on the GPU: strided operands are made dense
// (hidden from tapes, as part of the kernel), then kernels/layer_norm.cu runs on the rows.
#include "src/core/ops/normalization.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/normalization_launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

// The data of an optional operand (undefined: null).
const void* data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

void layer_norm_kernel(KernelContext& ctx) {
  const Tensor x = contiguous(ctx.inputs[0]);
  const LayerNormRows r = layer_norm_rows(x.shape(), ctx.attrs.get_int("axis"), "layer_norm");
  const bool scale = ctx.attrs.get_bool("scale"), center = ctx.attrs.get_bool("center");
  const Tensor gamma = scale ? contiguous(ctx.inputs[1]) : Tensor();
  const Tensor beta = center ? contiguous(ctx.inputs.back()) : Tensor();
  LayerNormArgs a;
  a.rows = r.rows;
  a.size = r.size;
  a.x = x.data_ptr();
  a.gamma = data_or_null(gamma);
  a.beta = data_or_null(beta);
  a.y = ctx.outputs[0].data_ptr();
  a.mean = ctx.outputs[1].data_ptr();
  a.rstd = ctx.outputs[2].data_ptr();
  a.epsilon = ctx.attrs.get_float("epsilon");
  a.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_layer_norm(x.dtype(), a), x.dtype());
}

void layer_norm_backward_kernel(KernelContext& ctx) {
  const Tensor x = contiguous(ctx.inputs[1]);
  const LayerNormRows r =
      layer_norm_rows(x.shape(), ctx.attrs.get_int("axis"), "layer_norm_backward");
  const Tensor dy = contiguous(ctx.inputs[0]);
  const Tensor mean = contiguous(ctx.inputs[2]), rstd = contiguous(ctx.inputs[3]);
  const Tensor gamma = ctx.attrs.get_bool("scale") ? contiguous(ctx.inputs[4]) : Tensor();
  const bool param_grads = ctx.outputs.size() == 3;
  LayerNormBackwardArgs a;
  a.rows = r.rows;
  a.size = r.size;
  a.dy = dy.data_ptr();
  a.x = x.data_ptr();
  a.mean = mean.data_ptr();
  a.rstd = rstd.data_ptr();
  a.gamma = data_or_null(gamma);
  a.dx = ctx.outputs[0].data_ptr();
  if (param_grads) {
    a.dgamma = ctx.outputs[1].data_ptr();
    a.dbeta = ctx.outputs[2].data_ptr();
  }
  Tensor workspace;
  const size_t bytes = layer_norm_backward_workspace_bytes(x.dtype(), r.rows, r.size, param_grads);
  if (bytes > 0) {
    workspace = Tensor::empty({static_cast<int64_t>(bytes)}, DType::U8, ctx.device);
    a.workspace = workspace.data_ptr();
  }
  a.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_layer_norm_backward(x.dtype(), a), x.dtype());
}

}  // namespace

void register_cuda_normalization_kernels(OpRegistry& r) {
  r.add_kernel("layer_norm", DeviceType::CUDA, layer_norm_kernel, kFloatDTypes);
  r.add_kernel("layer_norm_backward", DeviceType::CUDA, layer_norm_backward_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
