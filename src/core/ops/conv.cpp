// Convolution and pooling over NCHW images: conv2d (weights OIHW), conv_transpose2d (weights
// (in, out / groups, kh, kw)), max_pool2d and avg_pool2d. The 1-d variants are API compositions.
// Both convolutions take (x, weight) or (x, weight, bias). Their gradients add
// conv2d_weight_grad, max_pool2d_grad (with its adjoint max_pool2d_gather) and avg_pool2d_grad.
#include "src/core/ops/conv.hpp"

#include "src/core/api/op_call.hpp"
#include "src/core/ops/derivatives.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/ops.hpp"
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

void expect_same_dtype(const Tensor& t, const Tensor& x, const char* op, const char* what) {
  TF_CHECK(t.dtype() == x.dtype(), DTypeError, op, ": ", what, " has dtype ", dtype_name(t.dtype()),
           " but the input has ", dtype_name(x.dtype()));
}

// conv2d_weight_grad(x, dy): the gradient of conv2d's weight (attribute weight_shape) given its
// input x and output gradient dy. dy may cover fewer window positions than x allows (the
// transposed convolution's output_padding leaves such rows out).
void infer_conv2d_weight_grad(InferContext& ctx) {
  constexpr const char* op = "conv2d_weight_grad";
  const Tensor& x = ctx.inputs[0];
  const Tensor& dy = ctx.inputs[1];
  expect_nchw(x, op, "input", "batch, channels, height, width");
  expect_nchw(dy, op, "output gradient", "batch, out_channels, out_height, out_width");
  expect_floating(x, op);
  expect_same_dtype(dy, x, op, "the output gradient");
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, op, false);
  const std::vector<int64_t>& w = conv::read_list(ctx.attrs, op, "weight_shape", 4);
  TF_CHECK(w[0] >= 0 && w[1] >= 0 && w[2] > 0 && w[3] > 0, ShapeError, op,
           ": invalid weight_shape ", format_dims(w));
  TF_CHECK(x.shape()[1] == w[1] * p.groups && w[0] % p.groups == 0, ShapeError, op, ": input has ",
           x.shape()[1], " channels; weight_shape ", format_dims(w), " with groups ", p.groups,
           " expects ", w[1] * p.groups, " and output channels divisible by the groups");
  const int64_t max_h = conv::window_positions(x.shape()[2], p.pads.top + p.pads.bottom, w[2],
                                               p.stride_h, p.dilation_h);
  const int64_t max_w = conv::window_positions(x.shape()[3], p.pads.left + p.pads.right, w[3],
                                               p.stride_w, p.dilation_w);
  const Dims& d = dy.shape();
  TF_CHECK(d[0] == x.shape()[0] && d[1] == w[0] && d[2] <= max_h && d[3] <= max_w, ShapeError, op,
           ": output gradient ", d, " does not fit input ", x.shape(), " (expected [", x.shape()[0],
           ", ", w[0], ", at most ", max_h, ", at most ", max_w, "])");
  ctx.add_output(x.dtype(), Dims(w));
}

// max_pool2d_grad(x, dy): dy routed to the position of each window's maximum in x.
void infer_max_pool2d_grad(InferContext& ctx) {
  constexpr const char* op = "max_pool2d_grad";
  infer_pool2d(ctx);
  const Tensor& dy = ctx.inputs[1];
  TF_CHECK(dy.shape() == ctx.outputs[0].shape, ShapeError, op, ": output gradient has shape ",
           dy.shape(), " but the pool's output has ", ctx.outputs[0].shape);
  expect_same_dtype(dy, ctx.inputs[0], op, "the output gradient");
  ctx.outputs[0].shape = ctx.inputs[0].shape();
}

// max_pool2d_gather(x, g): g read at the position of each window's maximum in x (the adjoint
// of max_pool2d_grad in its second input).
void infer_max_pool2d_gather(InferContext& ctx) {
  constexpr const char* op = "max_pool2d_gather";
  infer_pool2d(ctx);
  const Tensor& g = ctx.inputs[1];
  TF_CHECK(g.shape() == ctx.inputs[0].shape(), ShapeError, op, ": gathered tensor has shape ",
           g.shape(), " but the input has ", ctx.inputs[0].shape());
  expect_same_dtype(g, ctx.inputs[0], op, "the gathered tensor");
}

// avg_pool2d_grad(dy): each window's gradient spread evenly over the window of an input of
// spatial size input_size.
void infer_avg_pool2d_grad(InferContext& ctx) {
  constexpr const char* op = "avg_pool2d_grad";
  const Tensor& dy = ctx.inputs[0];
  expect_nchw(dy, op, "output gradient", "batch, channels, out_height, out_width");
  expect_floating(dy, op);
  (void)ctx.attrs.get_bool("count_include_pad");
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, op);
  const auto [in_h, in_w] = conv::read_positive_pair(ctx.attrs, op, "input_size");
  const int64_t out_h =
      conv::window_positions(in_h, p.pads.top + p.pads.bottom, p.kernel_h, p.stride_h, 1);
  const int64_t out_w =
      conv::window_positions(in_w, p.pads.left + p.pads.right, p.kernel_w, p.stride_w, 1);
  TF_CHECK(dy.shape()[2] == out_h && dy.shape()[3] == out_w, ShapeError, op, ": output gradient ",
           dy.shape(), " does not match the ", out_h, "x", out_w, " windows of a ", in_h, "x", in_w,
           " input");
  ctx.add_output(dy.dtype(), {dy.shape()[0], dy.shape()[1], in_h, in_w});
}

// ---- gradient and forward-mode rules ---------------------------------------------------------

// The attributes of the plain convolution a call describes (output_padding and shapes left out).
Attrs conv_attrs(const Attrs& attrs) {
  return Attrs{{"stride", attrs.get_ints("stride")},
               {"pads", attrs.get_ints("pads")},
               {"dilation", attrs.get_ints("dilation")},
               {"groups", attrs.get_int("groups")}};
}

Attrs pool_attrs(const Attrs& attrs) {
  return Attrs{{"kernel", attrs.get_ints("kernel")},
               {"stride", attrs.get_ints("stride")},
               {"pads", attrs.get_ints("pads")}};
}

Attrs avg_pool_attrs(const Attrs& attrs) {
  Attrs a = pool_attrs(attrs);
  a.set("count_include_pad", attrs.get_bool("count_include_pad"));
  return a;
}

// The gradient of conv2d(x, w) in x, for an x of spatial size in_h x in_w: the transposed
// convolution of dy cropped to x's rows. The top crop is the top padding; the bottom crop is
// whatever the windows of dy reach beyond x (never the bottom padding alone, since dy may cover
// fewer windows than fit, as in conv_transpose2d's gradient). Rows no window reached are zeros.
Tensor conv2d_input_grad(const Tensor& dy, const Tensor& w, const Attrs& attrs, int64_t in_h,
                         int64_t in_w) {
  const conv::ConvParams2d p = conv::read_conv_params(attrs, "conv2d", false);
  // Extent of the padded input that dy's windows cover, and the part of it below x.
  auto reach = [](int64_t out, int64_t kernel, int64_t stride, int64_t dilation) {
    return (out - 1) * stride + dilation * (kernel - 1) + 1;
  };
  const int64_t reach_h = reach(dy.size(2), w.size(2), p.stride_h, p.dilation_h);
  const int64_t reach_w = reach(dy.size(3), w.size(3), p.stride_w, p.dilation_w);
  const int64_t rows = std::min(in_h, reach_h - p.pads.top);
  const int64_t cols = std::min(in_w, reach_w - p.pads.left);
  if (rows <= 0 || cols <= 0) {
    return zeros({dy.size(0), w.size(1) * p.groups, in_h, in_w}, dy.dtype(), dy.device());
  }
  Attrs t = conv_attrs(attrs);
  t.set("pads", std::vector<int64_t>{p.pads.top, p.pads.left, reach_h - p.pads.top - rows,
                                     reach_w - p.pads.left - cols});
  t.set("output_padding", std::vector<int64_t>{0, 0});
  Tensor dx = dispatch1(TF_OP("conv_transpose2d"), {dy, w}, t);
  if (rows == in_h && cols == in_w) return dx;
  return pad(dx, {0, 0, 0, 0, 0, in_h - rows, 0, in_w - cols});
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& dy, const Dims& weight_shape,
                          const Attrs& attrs) {
  Attrs a = conv_attrs(attrs);
  a.set("weight_shape", weight_shape.vec());
  return dispatch1(TF_OP("conv2d_weight_grad"), {x, dy}, a);
}

// conv2d(x, w) cut to the first rows x cols window positions.
Tensor conv2d_positions(const Tensor& x, const Tensor& w, const Attrs& attrs, int64_t rows,
                        int64_t cols) {
  Tensor y = dispatch1(TF_OP("conv2d"), {x, w}, conv_attrs(attrs));
  if (y.size(2) != rows) y = y.narrow(2, 0, rows);
  if (y.size(3) != cols) y = y.narrow(3, 0, cols);
  return y;
}

Tensor bias_grad(const Tensor& dy) {
  return sum(dy, {0, 2, 3});
}

std::vector<Tensor> conv2d_grad(const GradContext& c) {
  std::vector<Tensor> grads(c.inputs.size());
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined()) return grads;
  const Tensor& x = c.inputs[0];
  const Tensor& w = c.inputs[1];
  if (c.needs_input_grad[0]) grads[0] = conv2d_input_grad(dy, w, c.attrs, x.size(2), x.size(3));
  if (c.needs_input_grad[1]) grads[1] = conv2d_weight_grad(x, dy, w.shape(), c.attrs);
  if (grads.size() == 3 && c.needs_input_grad[2]) grads[2] = bias_grad(dy);
  return grads;
}

// The output of conv_transpose2d is the input gradient of a conv2d with the same weight, so its
// gradients are that conv2d (in x) and that conv2d's weight gradient with the roles swapped.
std::vector<Tensor> conv_transpose2d_grad(const GradContext& c) {
  std::vector<Tensor> grads(c.inputs.size());
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined()) return grads;
  const Tensor& x = c.inputs[0];
  const Tensor& w = c.inputs[1];
  if (c.needs_input_grad[0]) grads[0] = conv2d_positions(dy, w, c.attrs, x.size(2), x.size(3));
  if (c.needs_input_grad[1]) grads[1] = conv2d_weight_grad(dy, x, w.shape(), c.attrs);
  if (grads.size() == 3 && c.needs_input_grad[2]) grads[2] = bias_grad(dy);
  return grads;
}

// Both convolutions are bilinear in (x, weight) plus a per-channel bias.
std::vector<Tensor> conv_jvp(const JvpContext& c) {
  const std::span<const Tensor> t = c.input_tangents;
  Tensor out;
  if (t[0].defined()) out = dispatch1(c.op, {t[0], c.inputs[1]}, c.attrs);
  if (t[1].defined()) out = add_defined(out, dispatch1(c.op, {c.inputs[0], t[1]}, c.attrs));
  if (t.size() == 3 && t[2].defined()) {
    out = add_defined(out, t[2].reshape({1, t[2].size(0), 1, 1}).expand(c.outputs[0].shape()));
  }
  return {out};
}

// conv2d_weight_grad is bilinear in (x, dy); its adjoints are conv2d's other two gradients.
std::vector<Tensor> conv2d_weight_grad_grad(const GradContext& c) {
  std::vector<Tensor> grads(2);
  const Tensor& g = c.output_grads[0];
  if (!g.defined()) return grads;
  const Tensor& x = c.inputs[0];
  const Tensor& dy = c.inputs[1];
  if (c.needs_input_grad[0]) grads[0] = conv2d_input_grad(dy, g, c.attrs, x.size(2), x.size(3));
  if (c.needs_input_grad[1]) grads[1] = conv2d_positions(x, g, c.attrs, dy.size(2), dy.size(3));
  return grads;
}

std::vector<Tensor> conv2d_weight_grad_jvp(const JvpContext& c) {
  const std::span<const Tensor> t = c.input_tangents;
  Tensor out;
  if (t[0].defined()) out = dispatch1(c.op, {t[0], c.inputs[1]}, c.attrs);
  if (t[1].defined()) out = add_defined(out, dispatch1(c.op, {c.inputs[0], t[1]}, c.attrs));
  return {out};
}

Tensor max_pool2d_grad_of(const Tensor& x, const Tensor& dy, const Attrs& attrs) {
  return dispatch1(TF_OP("max_pool2d_grad"), {x, dy}, pool_attrs(attrs));
}

Tensor max_pool2d_gather_of(const Tensor& x, const Tensor& g, const Attrs& attrs) {
  return dispatch1(TF_OP("max_pool2d_gather"), {x, g}, pool_attrs(attrs));
}

// Away from ties the argmax positions are locally constant, so max_pool2d_grad and
// max_pool2d_gather are linear in their second input and constant in x.
std::vector<Tensor> max_pool_linear_grad(const GradContext& c, bool adjoint_is_gather) {
  std::vector<Tensor> grads(c.inputs.size());
  const Tensor& g = c.output_grads[0];
  if (!g.defined() || !c.needs_input_grad.back()) return grads;
  grads.back() = adjoint_is_gather ? max_pool2d_gather_of(c.inputs[0], g, c.attrs)
                                   : max_pool2d_grad_of(c.inputs[0], g, c.attrs);
  return grads;
}

Tensor avg_pool2d_grad_of(const Tensor& dy, int64_t in_h, int64_t in_w, const Attrs& attrs) {
  Attrs a = avg_pool_attrs(attrs);
  a.set("input_size", std::vector<int64_t>{in_h, in_w});
  return dispatch1(TF_OP("avg_pool2d_grad"), {dy}, a);
}

// The tangent of a linear op in input `linear_input` is the op applied to that input's tangent.
std::vector<Tensor> linear_jvp(const JvpContext& c, size_t linear_input) {
  const Tensor& t = c.input_tangents[linear_input];
  if (!t.defined()) return {Tensor()};
  std::vector<Tensor> inputs(c.inputs.begin(), c.inputs.end());
  inputs[linear_input] = t;
  return {dispatch1(c.op, inputs, c.attrs)};
}

}  // namespace

void register_conv_ops(OpRegistry& r) {
  r.def("conv2d").variadic().infer(infer_conv2d).grad(conv2d_grad).jvp(conv_jvp).onnx("Conv");
  r.def("conv_transpose2d")
      .variadic()
      .infer(infer_conv_transpose2d)
      .grad(conv_transpose2d_grad)
      .jvp(conv_jvp)
      .onnx("ConvTranspose");
  r.def("conv2d_weight_grad")
      .inputs(2)
      .infer(infer_conv2d_weight_grad)
      .grad(conv2d_weight_grad_grad)
      .jvp(conv2d_weight_grad_jvp);
  r.def("max_pool2d")
      .inputs(1)
      .infer(infer_pool2d)
      .grad([](const GradContext& c) {
        const Tensor& dy = c.output_grads[0];
        if (!dy.defined()) return std::vector<Tensor>(1);
        return std::vector{max_pool2d_grad_of(c.inputs[0], dy, c.attrs)};
      })
      .jvp([](const JvpContext& c) {
        const Tensor& t = c.input_tangents[0];
        if (!t.defined()) return std::vector<Tensor>(1);
        return std::vector{max_pool2d_gather_of(c.inputs[0], t, c.attrs)};
      })
      .onnx("MaxPool");
  r.def("max_pool2d_grad")
      .inputs(2)
      .infer(infer_max_pool2d_grad)
      .grad([](const GradContext& c) { return max_pool_linear_grad(c, true); })
      .jvp([](const JvpContext& c) { return linear_jvp(c, 1); });
  r.def("max_pool2d_gather")
      .inputs(2)
      .infer(infer_max_pool2d_gather)
      .grad([](const GradContext& c) { return max_pool_linear_grad(c, false); })
      .jvp([](const JvpContext& c) { return linear_jvp(c, 1); });
  r.def("avg_pool2d")
      .inputs(1)
      .infer(infer_avg_pool2d)
      .grad([](const GradContext& c) {
        const Tensor& dy = c.output_grads[0];
        if (!dy.defined()) return std::vector<Tensor>(1);
        const Tensor& x = c.inputs[0];
        return std::vector{avg_pool2d_grad_of(dy, x.size(2), x.size(3), c.attrs)};
      })
      .jvp([](const JvpContext& c) { return linear_jvp(c, 0); })
      .onnx("AveragePool");
  r.def("avg_pool2d_grad")
      .inputs(1)
      .infer(infer_avg_pool2d_grad)
      .grad([](const GradContext& c) {
        const Tensor& g = c.output_grads[0];
        if (!g.defined()) return std::vector<Tensor>(1);
        return std::vector{dispatch1(TF_OP("avg_pool2d"), {g}, avg_pool_attrs(c.attrs))};
      })
      .jvp([](const JvpContext& c) { return linear_jvp(c, 0); });
}

}  // namespace tenflowers
