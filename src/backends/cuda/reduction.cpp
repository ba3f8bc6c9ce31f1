// Host side of the CUDA reductions, softmax, its gradient ops and scans. Inputs are cast on the
// GPU to the dtype the CPU kernels compute in wherever the kernels take fewer dtypes than the
// ops (integer and bool inputs: sums, products and scans in i64, floating results in f64 and
// softmax in f32; all/any read bool), then laid out as a contiguous [outer, length, inner]
// (kernels/reduction_launch.hpp), copying only when the layout needs it.
#include <cmath>
#include <string>
#include <vector>

#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/reduction_launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "src/core/ops/infer.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

struct Laid {
  Tensor x;  // contiguous
  AxisView view;
};

// x laid out for a reduction over `axes` (normalized and sorted): lanes are the outputs in
// row-major order of the kept axes, and positions along a lane are row-major over the reduced
// axes (argmax's indices). A contiguous input whose reduced axes are adjacent (extent-1 axes
// aside) is used as it is; any other is permuted to kept axes first and copied.
Laid lay_out_reduction(const Tensor& x, const std::vector<int64_t>& axes) {
  const Dims& shape = x.shape();
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes) {
    if (a < x.rank()) reduced[static_cast<size_t>(a)] = true;  // a 0-d input's axis is implicit
  }
  if (x.numel() > 0 && x.is_contiguous()) {
    // Kept axes before the reduced run, the run, kept axes after it.
    AxisView view;
    int phase = 0;
    bool adjacent = true;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 1) continue;
      if (reduced[i]) {
        adjacent = adjacent && phase < 2;
        phase = 1;
        view.length *= shape[i];
      } else {
        if (phase == 1) phase = 2;
        (phase == 0 ? view.outer : view.inner) *= shape[i];
      }
    }
    if (adjacent) return {x, view};
  }
  Dims order;
  AxisView view;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!reduced[i]) {
      order.push_back(static_cast<int64_t>(i));
      view.outer *= shape[i];
    }
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (reduced[i]) {
      order.push_back(static_cast<int64_t>(i));
      view.length *= shape[i];
    }
  }
  if (x.numel() == 0) return {x, view};  // nothing to read: the kernels write outputs only
  HooksPaused paused;
  return {x.permute(order).contiguous(), view};
}

// x as a contiguous [outer, length, inner] around `axis`; a 0-d input is a single element.
Laid lay_out_along(const Tensor& x, int64_t axis) {
  axis = normalize_axis(axis, x.rank());
  AxisView view;
  for (int64_t i = 0; i < x.rank(); ++i) {
    const int64_t extent = x.shape()[static_cast<size_t>(i)];
    (i < axis ? view.outer : i == axis ? view.length : view.inner) *= extent;
  }
  HooksPaused paused;
  return {x.contiguous(), view};
}

// The dtype a reduction's kernel reads, from the input's.
enum class Compute { Input, Sum, Real, Bool };

DType compute_dtype(DType in, Compute compute) {
  switch (compute) {
    case Compute::Input:
      return in;
    case Compute::Sum:
      return is_floating(in) ? in : DType::I64;
    case Compute::Real:
      return is_floating(in) ? in : DType::F64;
    case Compute::Bool:
      return DType::Bool;
  }
  throw InternalError("unknown reduction compute rule");
}

void run_reduction(KernelContext& ctx, ReduceOp op, Compute compute,
                   const std::vector<int64_t>& axes) {
  const Tensor& out = ctx.outputs[0];
  const DType type = compute_dtype(ctx.inputs[0].dtype(), compute);
  const Laid laid = lay_out_reduction(as_type(ctx.inputs[0], type), axes);
  if (!out.is_contiguous() || out.numel() != laid.view.outer * laid.view.inner) {
    throw InternalError("CUDA " + ctx.op.name + ": the output does not match the reduction");
  }
  ReduceArgs args;
  args.view = laid.view;
  args.out = out.numel() > 0 ? out.data_ptr() : nullptr;
  args.in = laid.x.numel() > 0 ? laid.x.data_ptr() : nullptr;
  args.correction = ctx.attrs.get_int_or("correction", 1);
  args.p = ctx.attrs.get_float_or("p", 2.0);
  args.stream = use_device(ctx.device.index);
  Tensor workspace;
  if (const size_t bytes = reduce_workspace_bytes(op, laid.view); bytes > 0) {
    workspace = Tensor::empty({static_cast<int64_t>(bytes)}, DType::U8, ctx.device);
    args.workspace = workspace.data_ptr();
  }
  finish_launch(ctx, launch_reduce(op, type, out.dtype(), args), type);
}

void axes_reduction(KernelContext& ctx, ReduceOp op, Compute compute) {
  run_reduction(ctx, op, compute,
                infer::reduction_axes(ctx.attrs.get_ints("axes"), ctx.inputs[0].rank()));
}

// argmax/argmin: one optional "axis"; without it the input is reduced as if flattened.
void arg_reduction(KernelContext& ctx, ReduceOp op) {
  const int64_t rank = ctx.inputs[0].rank();
  std::vector<int64_t> axes;
  if (ctx.attrs.has("axis")) axes.push_back(normalize_axis(ctx.attrs.get_int("axis"), rank));
  run_reduction(ctx, op, Compute::Input, infer::reduction_axes(axes, rank));
}

void norm_kernel(KernelContext& ctx) {
  TF_CHECK(!std::isnan(ctx.attrs.get_float_or("p", 2.0)), InvalidArgument,
           "norm: p must be a number, got NaN");
  axes_reduction(ctx, ReduceOp::Norm, Compute::Real);
}

// Integer and bool inputs compute in f32, as the CPU kernel.
void softmax_kernel(KernelContext& ctx, bool log) {
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const DType type = to_floating(ctx.inputs[0].dtype());
  const Laid laid = lay_out_along(as_type(ctx.inputs[0], type), ctx.attrs.get_int("axis"));
  finish_launch(ctx,
                launch_softmax(log, type, laid.view, laid.x.data_ptr(), out.data_ptr(),
                               use_device(ctx.device.index)),
                type);
}

void softmax_grad_kernel(KernelContext& ctx, bool log) {
  const Tensor& dx = ctx.outputs[0];
  if (dx.numel() == 0) return;
  const int64_t axis = ctx.attrs.get_int("axis");
  const Laid y = lay_out_along(ctx.inputs[0], axis);
  const Laid dy = lay_out_along(ctx.inputs[1], axis);
  finish_launch(ctx,
                launch_softmax_grad(log, dx.dtype(), y.view, y.x.data_ptr(), dy.x.data_ptr(),
                                    dx.data_ptr(), use_device(ctx.device.index)),
                dx.dtype());
}

void scan_kernel(KernelContext& ctx, bool product) {
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const DType in = ctx.inputs[0].dtype();
  const DType type = is_floating(in) ? in : DType::I64;
  const Laid laid = lay_out_along(as_type(ctx.inputs[0], type), ctx.attrs.get_int("axis"));
  finish_launch(ctx,
                launch_scan(product, type, laid.view, laid.x.data_ptr(), out.data_ptr(),
                            use_device(ctx.device.index)),
                type);
}

struct AxesSpec {
  const char* op;
  ReduceOp code;
  Compute compute;
};

constexpr AxesSpec kAxesReductions[] = {
    {"sum", ReduceOp::Sum, Compute::Sum},    {"prod", ReduceOp::Prod, Compute::Sum},
    {"mean", ReduceOp::Mean, Compute::Real}, {"max", ReduceOp::Max, Compute::Input},
    {"min", ReduceOp::Min, Compute::Input},  {"all", ReduceOp::All, Compute::Bool},
    {"any", ReduceOp::Any, Compute::Bool},   {"var", ReduceOp::Var, Compute::Real},
    {"std", ReduceOp::Std, Compute::Real},   {"logsumexp", ReduceOp::LogSumExp, Compute::Real},
};

}  // namespace

void register_cuda_reduction_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  for (const AxesSpec& spec : kAxesReductions) {
    r.add_kernel(
        spec.op, cuda, [spec](KernelContext& ctx) { axes_reduction(ctx, spec.code, spec.compute); },
        kAllDTypes);
  }
  r.add_kernel("norm", cuda, norm_kernel, kAllDTypes);
  r.add_kernel(
      "argmax", cuda, [](KernelContext& ctx) { arg_reduction(ctx, ReduceOp::ArgMax); }, kAllDTypes);
  r.add_kernel(
      "argmin", cuda, [](KernelContext& ctx) { arg_reduction(ctx, ReduceOp::ArgMin); }, kAllDTypes);
  r.add_kernel(
      "softmax", cuda, [](KernelContext& ctx) { softmax_kernel(ctx, false); }, kAllDTypes);
  r.add_kernel(
      "log_softmax", cuda, [](KernelContext& ctx) { softmax_kernel(ctx, true); }, kAllDTypes);
  r.add_kernel(
      "softmax_grad", cuda, [](KernelContext& ctx) { softmax_grad_kernel(ctx, false); },
      kFloatDTypes);
  r.add_kernel(
      "log_softmax_grad", cuda, [](KernelContext& ctx) { softmax_grad_kernel(ctx, true); },
      kFloatDTypes);
  r.add_kernel(
      "cumsum", cuda, [](KernelContext& ctx) { scan_kernel(ctx, false); }, kAllDTypes);
  r.add_kernel(
      "cumprod", cuda, [](KernelContext& ctx) { scan_kernel(ctx, true); }, kAllDTypes);
}

}  // namespace tenflowers::cuda
