// Host side of arange, linspace and eye on the GPU; the values are the CPU kernels'
// (src/backends/cpu/creation.cpp). fill is an elementwise kernel (elementwise.cpp).
#include <cmath>

#include "src/backends/cuda/glue.hpp"
#include "src/backends/cuda/kernels/creation_launch.hpp"
#include "src/backends/cuda/register.hpp"

namespace tenflowers::cuda {
namespace {

bool is_whole(double v) {
  return std::floor(v) == v && std::abs(v) < 9.2e18;  // fits int64
}

void arange_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  ArangeArgs args;
  args.out = out.data_ptr();
  args.numel = out.numel();
  args.start = ctx.attrs.get_float("start");
  args.step = ctx.attrs.get_float("step");
  // Whole integers count exactly, with no rounding through double; the infer rule checked that
  // every value fits the dtype.
  args.integers = is_integral(out.dtype()) && is_whole(args.start) && is_whole(args.step);
  if (args.integers) {
    args.first = static_cast<int64_t>(args.start);
    args.delta = static_cast<int64_t>(args.step);
  }
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_arange(out.dtype(), args), out.dtype());
}

void linspace_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const int64_t count = out.numel();
  if (count == 0) return;
  LinspaceArgs args;
  args.out = out.data_ptr();
  args.numel = count;
  args.start = ctx.attrs.get_float("start");
  args.stop = ctx.attrs.get_float("stop");
  args.step = count > 1 ? (args.stop - args.start) / static_cast<double>(count - 1) : 0.0;
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_linspace(out.dtype(), args), out.dtype());
}

void eye_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  finish_launch(ctx,
                launch_eye(dtype_size(out.dtype()), out.data_ptr(), out.shape()[0], out.shape()[1],
                           value_bits(0.0, out.dtype()), value_bits(1.0, out.dtype()),
                           use_device(ctx.device.index)),
                out.dtype());
}

}  // namespace

void register_cuda_creation_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  r.add_kernel("arange", cuda, arange_kernel, kAllDTypes);
  r.add_kernel("linspace", cuda, linspace_kernel, kAllDTypes);
  r.add_kernel("eye", cuda, eye_kernel, kAllDTypes);
}

}  // namespace tenflowers::cuda
