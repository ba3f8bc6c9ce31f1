#include "tenflowers/nn/layers/conv.hpp"

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

// One value per spatial axis from a list of one (shared) or `axes` values.
std::vector<int64_t> per_axis(const std::vector<int64_t>& v, size_t axes, const char* layer,
                              const char* what, int64_t minimum) {
  TF_CHECK(v.size() == 1 || v.size() == axes, InvalidArgument, layer, ": ", what, " needs 1 or ",
           axes, " values, got ", v.size());
  std::vector<int64_t> out = v.size() == 1 ? std::vector<int64_t>(axes, v[0]) : v;
  for (int64_t x : out) {
    TF_CHECK(x >= minimum, InvalidArgument, layer, ": ", what, " must be at least ", minimum,
             ", got ", x);
  }
  return out;
}

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

void check_padding_name(const std::string& padding, const char* layer, bool same_allowed) {
  TF_CHECK(padding == "valid" || padding == "explicit" || (same_allowed && padding == "same"),
           InvalidArgument, layer, ": padding must be ",
           same_allowed ? "\"valid\", \"same\" or " : "\"valid\" or ", "\"explicit\", got \"",
           padding, "\"");
}

// Checks rank and channels of a conv input: [N, C, spatial...].
void check_conv_input(const Layer& layer, const Dims& s, size_t spatial, int64_t channels) {
  TF_CHECK(static_cast<int64_t>(s.size()) == static_cast<int64_t>(spatial) + 2, ShapeError,
           "layer '", layer.name(), "' (", layer.kind(), "): expected an input of rank ",
           spatial + 2, " (batch, channels, spatial), got ", s);
  if (channels > 0) {
    TF_CHECK(s[1] == channels, ShapeError, "layer '", layer.name(), "' (", layer.kind(),
             "): built for ", channels, " input channels, got shape ", s);
  }
}

}  // namespace

// ---- Conv1D -----------------------------------------------------------------------------------

Conv1D::Conv1D(int64_t filters, int64_t kernel_size, ConvOptions options)
    : Layer("conv1d", options.name),
      filters_(filters),
      kernel_size_(kernel_size),
      options_(std::move(options)),
      activation_(activation_from_name(options_.activation)) {
  TF_CHECK(filters > 0 && kernel_size > 0, InvalidArgument,
           "Conv1D: filters and kernel_size must be positive, got ", filters, " and ", kernel_size);
  check_padding_name(options_.padding, "Conv1D", true);
  per_axis(options_.strides, 1, "Conv1D", "strides", 1);
  per_axis(options_.dilation, 1, "Conv1D", "dilation", 1);
  per_axis(options_.pads, 1, "Conv1D", "pads", 0);
  TF_CHECK(options_.groups > 0 && filters % options_.groups == 0, InvalidArgument,
           "Conv1D: groups must be positive and divide filters (", filters, "), got ",
           options_.groups);
}

void Conv1D::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  check_conv_input(*this, s, 1, 0);
  TF_CHECK(s[1] % options_.groups == 0, ShapeError, "layer '", name(), "' (conv1d): ", s[1],
           " input channels cannot be split into ", options_.groups, " groups");
  const int64_t in = s[1] / options_.groups;
  const Fans fans{in * kernel_size_, filters_ * kernel_size_};
  kernel_ = add_weight("kernel", {filters_, in, kernel_size_}, options_.kernel_initializer, fans,
                       true, options_.kernel_regularizer);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, fans, true,
                       options_.bias_regularizer);
  }
}

Tensor Conv1D::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  check_conv_input(*this, x.shape(), 1, kernel_.shape()[1] * options_.groups);
  const bool explicit_pads = options_.padding == "explicit";
  Tensor y = conv1d(x, kernel_, bias_.defined() ? Tensor(bias_) : Tensor(), options_.strides[0],
                    explicit_pads ? options_.pads[0] : 0, options_.dilation[0], options_.groups,
                    explicit_pads ? "" : options_.padding);
  return apply_activation(activation_, y);
}

// ---- Conv2D -----------------------------------------------------------------------------------

Conv2D::Conv2D(int64_t filters, std::vector<int64_t> kernel_size, ConvOptions options)
    : Layer("conv2d", options.name),
      filters_(filters),
      kernel_size_(per_axis(kernel_size, 2, "Conv2D", "kernel_size", 1)),
      options_(std::move(options)),
      activation_(activation_from_name(options_.activation)) {
  TF_CHECK(filters > 0, InvalidArgument, "Conv2D: filters must be positive, got ", filters);
  check_padding_name(options_.padding, "Conv2D", true);
  options_.strides = per_axis(options_.strides, 2, "Conv2D", "strides", 1);
  options_.dilation = per_axis(options_.dilation, 2, "Conv2D", "dilation", 1);
  options_.pads = per_axis(options_.pads, 2, "Conv2D", "pads", 0);
  TF_CHECK(options_.groups > 0 && filters % options_.groups == 0, InvalidArgument,
           "Conv2D: groups must be positive and divide filters (", filters, "), got ",
           options_.groups);
}

void Conv2D::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  check_conv_input(*this, s, 2, 0);
  TF_CHECK(s[1] % options_.groups == 0, ShapeError, "layer '", name(), "' (conv2d): ", s[1],
           " input channels cannot be split into ", options_.groups, " groups");
  const int64_t in = s[1] / options_.groups;
  const int64_t area = product(kernel_size_);
  const Fans fans{in * area, filters_ * area};
  kernel_ = add_weight("kernel", {filters_, in, kernel_size_[0], kernel_size_[1]},
                       options_.kernel_initializer, fans, true, options_.kernel_regularizer);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, fans, true,
                       options_.bias_regularizer);
  }
}

Tensor Conv2D::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  check_conv_input(*this, x.shape(), 2, kernel_.shape()[1] * options_.groups);
  Conv2dOptions conv;
  conv.stride = options_.strides;
  conv.dilation = options_.dilation;
  conv.groups = options_.groups;
  if (options_.padding == "explicit") {
    conv.padding = options_.pads;
  } else {
    conv.padding_mode = options_.padding;
  }
  Tensor y = conv2d(x, kernel_, bias_.defined() ? Tensor(bias_) : Tensor(), conv);
  return apply_activation(activation_, y);
}

// ---- Conv2DTranspose --------------------------------------------------------------------------

Conv2DTranspose::Conv2DTranspose(int64_t filters, std::vector<int64_t> kernel_size,
                                 ConvOptions options)
    : Layer("conv2d_transpose", options.name),
      filters_(filters),
      kernel_size_(per_axis(kernel_size, 2, "Conv2DTranspose", "kernel_size", 1)),
      options_(std::move(options)),
      activation_(activation_from_name(options_.activation)) {
  TF_CHECK(filters > 0, InvalidArgument, "Conv2DTranspose: filters must be positive, got ",
           filters);
  check_padding_name(options_.padding, "Conv2DTranspose", false);
  options_.strides = per_axis(options_.strides, 2, "Conv2DTranspose", "strides", 1);
  options_.dilation = per_axis(options_.dilation, 2, "Conv2DTranspose", "dilation", 1);
  options_.pads = per_axis(options_.pads, 2, "Conv2DTranspose", "pads", 0);
  options_.output_padding =
      per_axis(options_.output_padding, 2, "Conv2DTranspose", "output_padding", 0);
  if (options_.padding == "valid") options_.pads = {0, 0};
  TF_CHECK(options_.groups > 0 && filters % options_.groups == 0, InvalidArgument,
           "Conv2DTranspose: groups must be positive and divide filters (", filters, "), got ",
           options_.groups);
}

void Conv2DTranspose::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  check_conv_input(*this, s, 2, 0);
  TF_CHECK(s[1] % options_.groups == 0, ShapeError, "layer '", name(),
           "' (conv2d_transpose): ", s[1], " input channels cannot be split into ", options_.groups,
           " groups");
  const int64_t out = filters_ / options_.groups;
  const int64_t area = product(kernel_size_);
  const Fans fans{s[1] / options_.groups * area, filters_ * area};
  kernel_ = add_weight("kernel", {s[1], out, kernel_size_[0], kernel_size_[1]},
                       options_.kernel_initializer, fans, true, options_.kernel_regularizer);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {filters_}, options_.bias_initializer, fans, true,
                       options_.bias_regularizer);
  }
}

Tensor Conv2DTranspose::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  check_conv_input(*this, x.shape(), 2, kernel_.shape()[0]);
  Tensor y =
      conv_transpose2d(x, kernel_, bias_.defined() ? Tensor(bias_) : Tensor(), options_.strides,
                       options_.pads, options_.output_padding, options_.dilation, options_.groups);
  return apply_activation(activation_, y);
}

// ---- pooling ----------------------------------------------------------------------------------

Pooling::Pooling(Mode mode, int spatial_axes, std::vector<int64_t> pool_size, PoolOptions options)
    : Layer(std::string(mode == Mode::Max ? "max_pool" : "avg_pool") +
                (spatial_axes == 1 ? "1d" : "2d"),
            options.name),
      mode_(mode),
      spatial_axes_(spatial_axes),
      options_(std::move(options)) {
  const size_t n = static_cast<size_t>(spatial_axes);
  pool_size_ = per_axis(pool_size, n, kind().c_str(), "pool_size", 1);
  options_.strides = options_.strides.empty()
                         ? pool_size_
                         : per_axis(options_.strides, n, kind().c_str(), "strides", 1);
  options_.pads = per_axis(options_.pads, n, kind().c_str(), "pads", 0);
}

Tensor Pooling::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  check_conv_input(*this, x.shape(), static_cast<size_t>(spatial_axes_), 0);
  if (spatial_axes_ == 1) {
    return mode_ == Mode::Max ? max_pool1d(x, pool_size_[0], options_.strides[0], options_.pads[0])
                              : avg_pool1d(x, pool_size_[0], options_.strides[0], options_.pads[0],
                                           options_.count_include_pad);
  }
  return mode_ == Mode::Max ? max_pool2d(x, pool_size_, options_.strides, options_.pads)
                            : avg_pool2d(x, pool_size_, options_.strides, options_.pads,
                                         options_.count_include_pad);
}

GlobalAveragePooling::GlobalAveragePooling(std::string name)
    : Layer("global_average_pooling", std::move(name)) {}

Tensor GlobalAveragePooling::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  TF_CHECK(x.rank() >= 3, ShapeError, "layer '", name(),
           "' (global_average_pooling): expected [batch, channels, spatial...], got ", x.shape());
  std::vector<int64_t> axes;
  for (int64_t a = 2; a < x.rank(); ++a) axes.push_back(a);
  return mean(x, axes);
}

}  // namespace tenflowers::nn
