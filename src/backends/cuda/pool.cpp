// Host side of the pooling kernels: operands made contiguous, attributes read by the shared
// conv.hpp readers (so the CPU and GPU validate them alike).
#include <string>

#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/pool_launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "src/core/ops/conv.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

using Launcher = const char* (*)(DType, const PoolArgs&);

// `image` is an NCHW tensor of the input's size, `pooled` one of the pool's output size.
PoolArgs pool_args(const KernelContext& ctx, const Dims& image, const Dims& pooled) {
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, ctx.op.name.c_str());
  PoolArgs a;
  a.planes = image[0] * image[1];
  a.in_h = image[2];
  a.in_w = image[3];
  a.out_h = pooled[2];
  a.out_w = pooled[3];
  a.kernel_h = p.kernel_h;
  a.kernel_w = p.kernel_w;
  a.stride_h = p.stride_h;
  a.stride_w = p.stride_w;
  a.pad_top = p.pads.top;
  a.pad_left = p.pads.left;
  a.stream = use_device(ctx.device.index);
  return a;
}

template <Launcher kLauncher>
void pool_kernel(KernelContext& ctx) {
  const Tensor x = contiguous(ctx.inputs[0]);
  const Tensor& out = ctx.outputs[0];
  PoolArgs a = pool_args(ctx, x.shape(), out.shape());
  a.x = x.data_ptr();
  a.out = out.data_ptr();
  if (kLauncher == launch_avg_pool) a.count_include_pad = ctx.attrs.get_bool("count_include_pad");
  finish_launch(ctx, kLauncher(x.dtype(), a), x.dtype());
}

void max_pool_grad_kernel(KernelContext& ctx) {
  const Tensor x = contiguous(ctx.inputs[0]), dy = contiguous(ctx.inputs[1]);
  const Tensor& out = ctx.outputs[0];
  PoolArgs a = pool_args(ctx, x.shape(), dy.shape());
  a.x = x.data_ptr();
  a.g = dy.data_ptr();
  a.out = out.data_ptr();
  check(cudaMemsetAsync(out.data_ptr(), 0, out.nbytes(), a.stream), "cudaMemsetAsync");
  finish_launch(ctx, launch_max_pool_grad(x.dtype(), a), x.dtype());
}

void max_pool_gather_kernel(KernelContext& ctx) {
  const Tensor x = contiguous(ctx.inputs[0]), g = contiguous(ctx.inputs[1]);
  const Tensor& out = ctx.outputs[0];
  PoolArgs a = pool_args(ctx, x.shape(), out.shape());
  a.x = x.data_ptr();
  a.g = g.data_ptr();
  a.out = out.data_ptr();
  finish_launch(ctx, launch_max_pool_gather(x.dtype(), a), x.dtype());
}

void avg_pool_grad_kernel(KernelContext& ctx) {
  const Tensor dy = contiguous(ctx.inputs[0]);
  const Tensor& out = ctx.outputs[0];
  PoolArgs a = pool_args(ctx, out.shape(), dy.shape());
  a.g = dy.data_ptr();
  a.out = out.data_ptr();
  a.count_include_pad = ctx.attrs.get_bool("count_include_pad");
  finish_launch(ctx, launch_avg_pool_grad(dy.dtype(), a), dy.dtype());
}

}  // namespace

void register_cuda_pool_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  r.add_kernel("max_pool2d", cuda, pool_kernel<launch_max_pool>, kFloatDTypes);
  r.add_kernel("avg_pool2d", cuda, pool_kernel<launch_avg_pool>, kFloatDTypes);
  r.add_kernel("max_pool2d_grad", cuda, max_pool_grad_kernel, kFloatDTypes);
  r.add_kernel("max_pool2d_gather", cuda, max_pool_gather_kernel, kFloatDTypes);
  r.add_kernel("avg_pool2d_grad", cuda, avg_pool_grad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
