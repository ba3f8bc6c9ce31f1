// Public convolution and pooling functions. The 2-d ops are registered; the 1-d ones view the
// input as an image of height 1 and call them.
#include "src/core/ops/conv.hpp"

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

void expect_pair(const std::vector<int64_t>& values, const char* op, const char* name) {
  TF_CHECK(values.size() == 2, InvalidArgument, op, ": ", name, " needs 2 values (h, w), got ",
           format_dims(values));
}

std::vector<int64_t> symmetric_pads(const std::vector<int64_t>& padding) {
  return conv::Pads2d{padding[0], padding[1], padding[0], padding[1]}.list();
}

std::vector<Tensor> conv_inputs(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return inputs;
}

// The explicit pads of a conv2d call: the symmetric padding, none ('valid') or TensorFlow's
// 'same' padding computed from the input and kernel extents.
std::vector<int64_t> conv2d_pads(const Tensor& x, const Tensor& weight,
                                 const Conv2dOptions& options) {
  const std::string& mode = options.padding_mode;
  if (mode.empty()) return symmetric_pads(options.padding);
  TF_CHECK(mode == "valid" || mode == "same", InvalidArgument,
           "conv2d: padding_mode must be '', 'valid' or 'same', got '", mode, "'");
  TF_CHECK(options.padding[0] == 0 && options.padding[1] == 0, InvalidArgument, "conv2d: padding ",
           format_dims(options.padding), " cannot be combined with padding_mode '", mode, "'");
  conv::Pads2d pads;
  const bool computable = x.rank() == 4 && weight.rank() == 4 && options.stride[0] > 0 &&
                          options.stride[1] > 0 && options.dilation[0] > 0 &&
                          options.dilation[1] > 0;
  // Invalid shapes or arguments are left to the op's own checks to report.
  if (mode == "same" && computable) {
    std::tie(pads.top, pads.bottom) =
        conv::same_padding(x.size(2), weight.size(2), options.stride[0], options.dilation[0]);
    std::tie(pads.left, pads.right) =
        conv::same_padding(x.size(3), weight.size(3), options.stride[1], options.dilation[1]);
  }
  return pads.list();
}

Attrs pool_attrs(const char* op, const std::vector<int64_t>& kernel, std::vector<int64_t> stride,
                 const std::vector<int64_t>& padding) {
  expect_pair(kernel, op, "kernel");
  if (stride.empty()) stride = kernel;
  expect_pair(stride, op, "stride");
  expect_pair(padding, op, "padding");
  return Attrs{{"kernel", kernel}, {"stride", stride}, {"pads", symmetric_pads(padding)}};
}

void expect_ncw(const Tensor& t, const char* op, const char* what, const char* layout) {
  TF_CHECK(t.rank() == 3, ShapeError, op, ": expected a 3-d ", what, " (", layout, "), got shape ",
           t.shape());
}

// Views an NCW tensor as NC1W.
Tensor as_image(const Tensor& t) {
  return t.unsqueeze(2);
}
Tensor from_image(const Tensor& t) {
  return t.squeeze(std::vector<int64_t>{2});
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  expect_pair(options.stride, "conv2d", "stride");
  expect_pair(options.padding, "conv2d", "padding");
  expect_pair(options.dilation, "conv2d", "dilation");
  const Attrs attrs{{"stride", options.stride},
                    {"pads", conv2d_pads(x, weight, options)},
                    {"dilation", options.dilation},
                    {"groups", options.groups}};
  return dispatch1(TF_OP("conv2d"), conv_inputs(x, weight, bias), attrs);
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation, int64_t groups, const std::string& padding_mode) {
  expect_ncw(x, "conv1d", "input", "batch, channels, length");
  expect_ncw(weight, "conv1d", "weight", "out_channels, in_channels / groups, kernel");
  const Conv2dOptions options{{1, stride}, {0, padding}, padding_mode, {1, dilation}, groups};
  return from_image(conv2d(as_image(x), as_image(weight), bias, options));
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        std::vector<int64_t> stride, std::vector<int64_t> padding,
                        std::vector<int64_t> output_padding, std::vector<int64_t> dilation,
                        int64_t groups) {
  constexpr const char* op = "conv_transpose2d";
  expect_pair(stride, op, "stride");
  expect_pair(padding, op, "padding");
  expect_pair(output_padding, op, "output_padding");
  expect_pair(dilation, op, "dilation");
  const Attrs attrs{{"stride", stride},
                    {"pads", symmetric_pads(padding)},
                    {"output_padding", output_padding},
                    {"dilation", dilation},
                    {"groups", groups}};
  return dispatch1(TF_OP("conv_transpose2d"), conv_inputs(x, weight, bias), attrs);
}

Tensor max_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                  std::vector<int64_t> padding) {
  return dispatch1(TF_OP("max_pool2d"), {x},
                   pool_attrs("max_pool2d", kernel, std::move(stride), padding));
}

Tensor avg_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                  std::vector<int64_t> padding, bool count_include_pad) {
  Attrs attrs = pool_attrs("avg_pool2d", kernel, std::move(stride), padding);
  attrs.set("count_include_pad", count_include_pad);
  return dispatch1(TF_OP("avg_pool2d"), {x}, attrs);
}

Tensor max_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride, int64_t padding) {
  expect_ncw(x, "max_pool1d", "input", "batch, channels, length");
  return from_image(
      max_pool2d(as_image(x), {1, kernel}, {1, stride.value_or(kernel)}, {0, padding}));
}

Tensor avg_pool1d(const Tensor& x, int64_t kernel, std::optional<int64_t> stride, int64_t padding,
                  bool count_include_pad) {
  expect_ncw(x, "avg_pool1d", "input", "batch, channels, length");
  return from_image(avg_pool2d(as_image(x), {1, kernel}, {1, stride.value_or(kernel)}, {0, padding},
                               count_include_pad));
}

}  // namespace tenflowers
