// Convolution and pooling over NCHW images: conv2d (weights OIHW), conv_transpose2d (weights
// (in, out / groups, kh, kw)), max_pool2d and avg_pool2d. The 1-d variants are API compositions.
// Both convolutions take (x, weight) or (x, weight, bias).
#include "src/core/ops/conv.hpp"

#include "src/core/ops/register.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

void expect_nchw(const Tensor& t, const char* op, const char* what, const char* layout) {
  TF_CHECK(t.rank() == 4, ShapeError, op, ": expected a 4-d ", what, " (", layout, "), got shape ",
           t.shape());
}

void expect_floating(const Tensor& t, const char* op) {
  TF_CHECK(is_floating(t.dtype()), DTypeError, op,
           ": expected a floating-point input (f16, bf16, f32 or f64), got ",
           dtype_name(t.dtype()));
}

// Checks the operands both convolutions share: arity, ranks, dtypes and kernel extents.
void check_conv_operands(const InferContext& ctx, const char* op, const char* weight_layout) {
  TF_CHECK(ctx.inputs.size() == 2 || ctx.inputs.size() == 3, InvalidArgument, op,
           ": expected inputs (x, weight) or (x, weight, bias), got ", ctx.inputs.size(),
           " inputs");
  const Tensor& x = ctx.inputs[0];
  const Tensor& weight = ctx.inputs[1];
  expect_nchw(x, op, "input", "batch, channels, height, width");
  expect_nchw(weight, op, "weight", weight_layout);
  expect_floating(x, op);
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    TF_CHECK(ctx.inputs[i].dtype() == x.dtype(), DTypeError, op, ": ", i == 1 ? "weight" : "bias",
             " has dtype ", dtype_name(ctx.inputs[i].dtype()), " but the input has ",
             dtype_name(x.dtype()));
  }
  TF_CHECK(weight.shape()[2] > 0 && weight.shape()[3] > 0, ShapeError, op,
           ": kernel extents must be positive, got weight shape ", weight.shape());
}

void check_bias(const InferContext& ctx, const char* op, int64_t out_channels) {
  if (ctx.inputs.size() < 3) return;
  const Tensor& bias = ctx.inputs[2];
  TF_CHECK(bias.rank() == 1 && bias.shape()[0] == out_channels, ShapeError, op,
           ": expected a bias of shape [", out_channels, "] (one per output channel), got ",
           bias.shape());
}

void check_groups(const char* op, const char* what, int64_t channels, int64_t groups) {
  TF_CHECK(channels % groups == 0, ShapeError, op, ": ", what, " channels (", channels,
           ") are not divisible by groups (", groups, ")");
}

void infer_conv2d(InferContext& ctx) {
  constexpr const char* op = "conv2d";
  check_conv_operands(ctx, op, "out_channels, in_channels / groups, kernel_h, kernel_w");
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, op, false);
  const Dims& x = ctx.inputs[0].shape();
  const Dims& w = ctx.inputs[1].shape();
  check_groups(op, "input", x[1], p.groups);
  TF_CHECK(x[1] == w[1] * p.groups, ShapeError, op, ": input has ", x[1],
           " channels but the weight expects ", w[1] * p.groups, " (weight.shape[1] = ", w[1],
           " times groups = ", p.groups, ")");
  check_groups(op, "output", w[0], p.groups);
  check_bias(ctx, op, w[0]);
  const int64_t out_h =
      conv::window_positions(x[2], p.pads.top + p.pads.bottom, w[2], p.stride_h, p.dilation_h);
  const int64_t out_w =
      conv::window_positions(x[3], p.pads.left + p.pads.right, w[3], p.stride_w, p.dilation_w);
  TF_CHECK(out_h > 0 && out_w > 0, ShapeError, op, ": input ", x[2], "x", x[3], " (padded ",
           x[2] + p.pads.top + p.pads.bottom, "x", x[3] + p.pads.left + p.pads.right,
           ") is smaller than the dilated kernel ", p.dilation_h * (w[2] - 1) + 1, "x",
           p.dilation_w * (w[3] - 1) + 1);
  ctx.add_output(ctx.inputs[0].dtype(), {x[0], w[0], out_h, out_w});
}

void infer_conv_transpose2d(InferContext& ctx) {
  constexpr const char* op = "conv_transpose2d";
  check_conv_operands(ctx, op, "in_channels, out_channels / groups, kernel_h, kernel_w");
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, op, true);
  const Dims& x = ctx.inputs[0].shape();
  const Dims& w = ctx.inputs[1].shape();
  TF_CHECK(x[1] == w[0], ShapeError, op, ": input has ", x[1], " channels but the weight expects ",
           w[0], " (weight.shape[0])");
  check_groups(op, "input", x[1], p.groups);
  const int64_t out_channels = w[1] * p.groups;
  check_bias(ctx, op, out_channels);
  TF_CHECK(x[2] > 0 && x[3] > 0, ShapeError, op, ": expected a non-empty input image, got ", x[2],
           "x", x[3]);
  const int64_t out_h = (x[2] - 1) * p.stride_h - p.pads.top - p.pads.bottom +
                        p.dilation_h * (w[2] - 1) + p.output_padding_h + 1;
  const int64_t out_w = (x[3] - 1) * p.stride_w - p.pads.left - p.pads.right +
                        p.dilation_w * (w[3] - 1) + p.output_padding_w + 1;
  TF_CHECK(out_h > 0 && out_w > 0, ShapeError, op, ": padding ", format_dims(p.pads.list()),
           " (top, left, bottom, right) leaves an empty output of ", out_h, "x", out_w);
  ctx.add_output(ctx.inputs[0].dtype(), {x[0], out_channels, out_h, out_w});
}

void infer_pool2d(InferContext& ctx) {
  const char* op = ctx.op.name.c_str();
  const Tensor& x = ctx.inputs[0];
  expect_nchw(x, op, "input", "batch, channels, height, width");
  expect_floating(x, op);
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, op);
  const Dims& s = x.shape();
  const int64_t out_h =
      conv::window_positions(s[2], p.pads.top + p.pads.bottom, p.kernel_h, p.stride_h, 1);
  const int64_t out_w =
      conv::window_positions(s[3], p.pads.left + p.pads.right, p.kernel_w, p.stride_w, 1);
  TF_CHECK(out_h > 0 && out_w > 0, ShapeError, op, ": input ", s[2], "x", s[3], " (padded ",
           s[2] + p.pads.top + p.pads.bottom, "x", s[3] + p.pads.left + p.pads.right,
           ") is smaller than the kernel ", p.kernel_h, "x", p.kernel_w);
  ctx.add_output(x.dtype(), {s[0], s[1], out_h, out_w});
}

void infer_avg_pool2d(InferContext& ctx) {
  // The kernel reads it; a missing or mistyped attribute fails here, before any work.
  (void)ctx.attrs.get_bool("count_include_pad");
  infer_pool2d(ctx);
}

}  // namespace

void register_conv_ops(OpRegistry& r) {
  r.def("conv2d").variadic().infer(infer_conv2d).onnx("Conv");
  r.def("conv_transpose2d").variadic().infer(infer_conv_transpose2d).onnx("ConvTranspose");
  r.def("max_pool2d").inputs(1).infer(infer_pool2d).onnx("MaxPool");
  r.def("avg_pool2d").inputs(1).infer(infer_avg_pool2d).onnx("AveragePool");
}

}  // namespace tenflowers
