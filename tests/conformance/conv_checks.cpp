// Checks for conv2d, conv_transpose2d, max_pool2d, avg_pool2d and their gradient ops
// (conv2d_weight_grad, max_pool2d_grad, max_pool2d_gather, avg_pool2d_grad): direct float64
// loops over the reference arrays, on random sizes, strides, paddings ('same' included), dilations,
// groups (depthwise included), with and without bias, in every input layout.
#include <cmath>
#include <limits>

#include "tenflowers/core/dispatch.hpp"
#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};

// A sum of `terms` products computed in floating point is off by at most about
// terms * roundoff * sum(|products|); 16-bit outputs add their own rounding (tolerance_for).
Tolerance sum_tolerance(DType dtype, int64_t terms, double max_abs_sum) {
  const Tolerance stored = tolerance_for(dtype);
  return {stored.rtol,
          stored.atol + static_cast<double>(terms + 1) * compute_roundoff(dtype) * max_abs_sum};
}

struct ConvCase {
  int64_t batch, groups, group_in, group_out, in_h, in_w, kernel_h, kernel_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_left, pad_bottom, pad_right;
  bool bias;
};

// Flat row-major offset of an NCHW / OIHW element.
int64_t offset4(const Ref& r, int64_t a, int64_t b, int64_t c, int64_t d) {
  return ((a * r.shape[1] + b) * r.shape[2] + c) * r.shape[3] + d;
}

// Direct convolution; also returns the largest sum of |terms| over the outputs.
Ref conv2d_reference(const Ref& x, const Ref& w, const Ref* bias, const ConvCase& c, int64_t out_h,
                     int64_t out_w, double& max_abs_sum) {
  const int64_t out_channels = c.groups * c.group_out;
  Ref out({c.batch, out_channels, out_h, out_w});
  max_abs_sum = 0;
  for (int64_t n = 0; n < c.batch; ++n) {
    for (int64_t o = 0; o < out_channels; ++o) {
      const int64_t g = o / c.group_out;
      for (int64_t oh = 0; oh < out_h; ++oh) {
        for (int64_t ow = 0; ow < out_w; ++ow) {
          double acc = bias ? bias->data[static_cast<size_t>(o)] : 0.0;
          double abs_sum = std::abs(acc);
          for (int64_t ci = 0; ci < c.group_in; ++ci) {
            for (int64_t i = 0; i < c.kernel_h; ++i) {
              for (int64_t j = 0; j < c.kernel_w; ++j) {
                const int64_t ih = oh * c.stride_h - c.pad_top + i * c.dilation_h;
                const int64_t iw = ow * c.stride_w - c.pad_left + j * c.dilation_w;
                if (ih < 0 || ih >= c.in_h || iw < 0 || iw >= c.in_w) continue;
                const double term =
                    x.data[static_cast<size_t>(offset4(x, n, g * c.group_in + ci, ih, iw))] *
                    w.data[static_cast<size_t>(offset4(w, o, ci, i, j))];
                acc += term;
                abs_sum += std::abs(term);
              }
            }
          }
          out.data[static_cast<size_t>(offset4(out, n, o, oh, ow))] = acc;
          max_abs_sum = std::max(max_abs_sum, abs_sum);
        }
      }
    }
  }
  return out;
}

// Transposed convolution as a scatter of every input pixel through the kernel.
Ref conv_transpose2d_reference(const Ref& x, const Ref& w, const Ref* bias, const ConvCase& c,
                               int64_t out_h, int64_t out_w, double& max_abs_sum) {
  const int64_t out_channels = c.groups * c.group_out;
  Ref out({c.batch, out_channels, out_h, out_w});
  Ref abs_sum(out.shape);
  for_each_index(out.shape, [&](const std::vector<int64_t>& at) {
    out.at(at) = bias ? bias->at({at[1]}) : 0.0;
    abs_sum.at(at) = std::abs(out.at(at));
  });
  for_each_index(x.shape, [&](const std::vector<int64_t>& at) {
    const int64_t n = at[0], ci = at[1], ih = at[2], iw = at[3];
    const int64_t g = ci / c.group_in;
    for (int64_t oc = 0; oc < c.group_out; ++oc) {
      for (int64_t i = 0; i < c.kernel_h; ++i) {
        for (int64_t j = 0; j < c.kernel_w; ++j) {
          const int64_t oh = ih * c.stride_h - c.pad_top + i * c.dilation_h;
          const int64_t ow = iw * c.stride_w - c.pad_left + j * c.dilation_w;
          if (oh < 0 || oh >= out_h || ow < 0 || ow >= out_w) continue;
          const std::vector<int64_t> target = {n, g * c.group_out + oc, oh, ow};
          const double term = x.at(at) * w.at({ci, oc, i, j});
          out.at(target) += term;
          abs_sum.at(target) += std::abs(term);
        }
      }
    }
  });
  max_abs_sum = 0;
  for (double s : abs_sum.data) max_abs_sum = std::max(max_abs_sum, s);
  return out;
}

// Random channel structure: plain, grouped or depthwise (one input channel per group).
void random_channels(Rng& rng, ConvCase& c) {
  c.batch = rng.integer(1, 3);
  c.groups = rng.integer(1, 3);
  c.group_in = rng.integer(1, 3);
  c.group_out = rng.integer(1, 3);
  if (rng.integer(0, 3) == 0) {  // depthwise
    c.groups = rng.integer(2, 4);
    c.group_in = 1;
  }
  c.kernel_h = rng.integer(1, 4);
  c.kernel_w = rng.integer(1, 4);
  c.dilation_h = rng.integer(1, 2);
  c.dilation_w = rng.integer(1, 2);
  c.stride_h = rng.integer(1, 3);
  c.stride_w = rng.integer(1, 3);
  c.bias = rng.integer(0, 1) == 1;
}

// An extent for an axis whose dilated kernel spans `span` with total padding `pad_total`.
int64_t random_extent(Rng& rng, int64_t span, int64_t pad_total) {
  return rng.integer(std::max<int64_t>(1, span - pad_total), span + 6);
}

// TensorFlow's 'same' padding on one axis: (before, after), the odd pixel after.
std::pair<int64_t, int64_t> tf_same_pads(int64_t in, int64_t k, int64_t s, int64_t d) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
  return {total / 2, total - total / 2};
}

struct Operands {
  Tensor x, weight, bias;
  Ref x_ref, weight_ref, bias_ref;
};

Operands random_operands(Rng& rng, Device device, DType dtype, Layout layout,
                         std::vector<int64_t> x_shape, std::vector<int64_t> w_shape,
                         int64_t bias_size) {
  Operands o;
  o.x = random_tensor(rng, std::move(x_shape), dtype, -1, 1, layout).to(device);
  const Layout weight_layout = kLayouts[rng.integer(0, 2)];
  o.weight = random_tensor(rng, std::move(w_shape), dtype, -1, 1, weight_layout).to(device);
  o.x_ref = to_ref(o.x);
  o.weight_ref = to_ref(o.weight);
  if (bias_size >= 0) {
    o.bias = random_tensor(rng, {bias_size}, dtype, -1, 1, kLayouts[rng.integer(0, 2)]).to(device);
    o.bias_ref = to_ref(o.bias);
  }
  return o;
}

void run_conv2d_case(Rng& rng, Device device, DType dtype, Layout layout, ConvCase c,
                     const std::string& mode) {
  const int64_t span_h = c.dilation_h * (c.kernel_h - 1) + 1;
  const int64_t span_w = c.dilation_w * (c.kernel_w - 1) + 1;
  int64_t pad_h = 0, pad_w = 0;
  if (mode.empty()) {
    pad_h = rng.integer(0, 2);
    pad_w = rng.integer(0, 2);
  }
  if (c.in_h == 0) c.in_h = random_extent(rng, span_h, mode == "same" ? span_h : 2 * pad_h);
  if (c.in_w == 0) c.in_w = random_extent(rng, span_w, mode == "same" ? span_w : 2 * pad_w);
  c.pad_top = c.pad_bottom = pad_h;
  c.pad_left = c.pad_right = pad_w;
  if (mode == "same") {
    std::tie(c.pad_top, c.pad_bottom) = tf_same_pads(c.in_h, c.kernel_h, c.stride_h, c.dilation_h);
    std::tie(c.pad_left, c.pad_right) = tf_same_pads(c.in_w, c.kernel_w, c.stride_w, c.dilation_w);
  }
  const int64_t out_h = (c.in_h + c.pad_top + c.pad_bottom - span_h) / c.stride_h + 1;
  const int64_t out_w = (c.in_w + c.pad_left + c.pad_right - span_w) / c.stride_w + 1;
  const int64_t out_channels = c.groups * c.group_out;
  Operands o = random_operands(
      rng, device, dtype, layout, {c.batch, c.groups * c.group_in, c.in_h, c.in_w},
      {out_channels, c.group_in, c.kernel_h, c.kernel_w}, c.bias ? out_channels : -1);
  SCOPED_TRACE("conv2d x " + format_dims(o.x.shape().vec()) + " w " +
               format_dims(o.weight.shape().vec()) + " groups " + std::to_string(c.groups) +
               " stride " + format_dims({c.stride_h, c.stride_w}) + " dilation " +
               format_dims({c.dilation_h, c.dilation_w}) + " pads " +
               format_dims({c.pad_top, c.pad_left, c.pad_bottom, c.pad_right}) + " mode '" + mode +
               "' bias " + std::to_string(c.bias) + " " + std::string(dtype_name(dtype)));
  Conv2dOptions options{
      {c.stride_h, c.stride_w}, {pad_h, pad_w}, mode, {c.dilation_h, c.dilation_w}, c.groups};
  Tensor y = conv2d(o.x, o.weight, o.bias, options);
  double max_abs_sum = 0;
  Ref expected = conv2d_reference(o.x_ref, o.weight_ref, c.bias ? &o.bias_ref : nullptr, c, out_h,
                                  out_w, max_abs_sum);
  EXPECT_EQ(y.dtype(), dtype);
  EXPECT_CLOSE_TO_REF(y, expected,
                      sum_tolerance(dtype, c.group_in * c.kernel_h * c.kernel_w, max_abs_sum));
}

void check_conv2d(Rng& rng, Device device) {
  const char* modes[] = {"", "valid", "same"};
  for (DType dtype : {DType::F32, DType::F64}) {
    for (Layout layout : kLayouts) {
      for (int repeat = 0; repeat < 4; ++repeat) {
        ConvCase c{};
        random_channels(rng, c);
        run_conv2d_case(rng, device, dtype, layout, c, modes[rng.integer(0, 2)]);
      }
      // 'same' with stride 2 and an odd total padding: the extra pixel goes to the end.
      ConvCase same{};
      random_channels(rng, same);
      // Height: kernel 3 over an even extent; width: kernel 4 over an odd one.
      same.kernel_h = 3;
      same.kernel_w = 4;
      same.dilation_h = same.dilation_w = 1;
      same.stride_h = same.stride_w = 2;
      same.in_h = 2 * rng.integer(2, 5);
      same.in_w = 2 * rng.integer(2, 5) + 1;
      run_conv2d_case(rng, device, dtype, layout, same, "same");
      // A 1x1 kernel without stride or padding (the planes are read as the gemm's columns).
      ConvCase pointwise{};
      random_channels(rng, pointwise);
      pointwise.kernel_h = pointwise.kernel_w = 1;
      pointwise.stride_h = pointwise.stride_w = 1;
      run_conv2d_case(rng, device, dtype, layout, pointwise, "valid");
      // Stride 1 'same' over images smaller than the kernel: whole column rows lie in the
      // padding (im2col's shifted-plane copy clips them).
      ConvCase tiny{};
      random_channels(rng, tiny);
      tiny.kernel_h = rng.integer(3, 5);
      tiny.kernel_w = 3;
      tiny.dilation_h = tiny.dilation_w = 1;
      tiny.stride_h = tiny.stride_w = 1;
      tiny.in_h = rng.integer(1, 2);
      tiny.in_w = rng.integer(1, 2);
      run_conv2d_case(rng, device, dtype, layout, tiny, "same");
    }
    // One image with enough work for BLAS and im2col to thread inside it.
    ConvCase large{1, 1, 16, 16, 32, 32, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, true};
    run_conv2d_case(rng, device, dtype, Layout::Contiguous, large, "same");
  }
  for (DType dtype : {DType::F16, DType::BF16}) {
    for (Layout layout : kLayouts) {
      ConvCase c{};
      random_channels(rng, c);
      run_conv2d_case(rng, device, dtype, layout, c, modes[rng.integer(0, 2)]);
    }
  }
}

// With same_extent (stride 1, odd dilated spans) the padding is half the span, so the output has
// the input's extent.
void run_conv_transpose2d_case(Rng& rng, Device device, DType dtype, Layout layout, ConvCase c,
                               bool same_extent = false) {
  c.in_h = rng.integer(1, 6);
  c.in_w = rng.integer(1, 6);
  const int64_t span_h = c.dilation_h * (c.kernel_h - 1) + 1;
  const int64_t span_w = c.dilation_w * (c.kernel_w - 1) + 1;
  const int64_t pad_h = same_extent ? span_h / 2 : rng.integer(0, 2);
  const int64_t pad_w = same_extent ? span_w / 2 : rng.integer(0, 2);
  // output_padding must stay below the stride or the dilation.
  const int64_t extra_h = same_extent ? 0 : rng.integer(0, std::max(c.stride_h, c.dilation_h) - 1);
  const int64_t extra_w = same_extent ? 0 : rng.integer(0, std::max(c.stride_w, c.dilation_w) - 1);
  const int64_t out_h = (c.in_h - 1) * c.stride_h - 2 * pad_h + span_h + extra_h;
  const int64_t out_w = (c.in_w - 1) * c.stride_w - 2 * pad_w + span_w + extra_w;
  if (out_h <= 0 || out_w <= 0) return;  // an invalid combination; the error tests cover it
  c.pad_top = c.pad_bottom = pad_h;
  c.pad_left = c.pad_right = pad_w;
  const int64_t in_channels = c.groups * c.group_in;
  Operands o = random_operands(rng, device, dtype, layout, {c.batch, in_channels, c.in_h, c.in_w},
                               {in_channels, c.group_out, c.kernel_h, c.kernel_w},
                               c.bias ? c.groups * c.group_out : -1);
  SCOPED_TRACE("conv_transpose2d x " + format_dims(o.x.shape().vec()) + " w " +
               format_dims(o.weight.shape().vec()) + " groups " + std::to_string(c.groups) +
               " stride " + format_dims({c.stride_h, c.stride_w}) + " dilation " +
               format_dims({c.dilation_h, c.dilation_w}) + " padding " +
               format_dims({pad_h, pad_w}) + " output_padding " + format_dims({extra_h, extra_w}) +
               " " + std::string(dtype_name(dtype)));
  Tensor y = conv_transpose2d(o.x, o.weight, o.bias, {c.stride_h, c.stride_w}, {pad_h, pad_w},
                              {extra_h, extra_w}, {c.dilation_h, c.dilation_w}, c.groups);
  double max_abs_sum = 0;
  Ref expected = conv_transpose2d_reference(o.x_ref, o.weight_ref, c.bias ? &o.bias_ref : nullptr,
                                            c, out_h, out_w, max_abs_sum);
  EXPECT_EQ(y.dtype(), dtype);
  EXPECT_CLOSE_TO_REF(y, expected,
                      sum_tolerance(dtype, c.group_in * c.kernel_h * c.kernel_w, max_abs_sum));
}

void check_conv_transpose2d(Rng& rng, Device device) {
  for (DType dtype : {DType::F32, DType::F64}) {
    for (Layout layout : kLayouts) {
      for (int repeat = 0; repeat < 4; ++repeat) {
        ConvCase c{};
        random_channels(rng, c);
        run_conv_transpose2d_case(rng, device, dtype, layout, c);
      }
      // Stride 1 keeping the extent: col2im adds each column row onto the shifted plane in one
      // run, after zeroing the columns that wrapped around a row edge; images smaller than the
      // kernel included.
      ConvCase same{};
      random_channels(rng, same);
      same.stride_h = same.stride_w = 1;
      same.kernel_h = 2 * rng.integer(0, 2) + 1;
      same.kernel_w = 3;
      run_conv_transpose2d_case(rng, device, dtype, layout, same, true);
    }
  }
  for (DType dtype : {DType::F16, DType::BF16}) {
    ConvCase c{};
    random_channels(rng, c);
    run_conv_transpose2d_case(rng, device, dtype, kLayouts[rng.integer(0, 2)], c);
  }
}

// Pooling windows over the padded image; padding never counts for max, and for the average only
// with count_include_pad.
void check_pool(Rng& rng, Device device, bool is_max) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (Layout layout : kLayouts) {
      for (int repeat = 0; repeat < 2; ++repeat) {
        // The first repeat takes the usual 2x2 pool with stride 2, which has kernels of its own.
        const bool common = repeat == 0;
        const int64_t kh = common ? 2 : rng.integer(1, 4), kw = common ? 2 : rng.integer(1, 4);
        const int64_t sh = common ? 2 : rng.integer(1, 3), sw = common ? 2 : rng.integer(1, 3);
        const int64_t ph = common ? 0 : rng.integer(0, kh / 2);
        const int64_t pw = common ? 0 : rng.integer(0, kw / 2);
        const int64_t h = rng.integer(std::max<int64_t>(1, kh - 2 * ph), kh + 6);
        const int64_t w = rng.integer(std::max<int64_t>(1, kw - 2 * pw), kw + 6);
        const bool include_pad = rng.integer(0, 1) == 1;
        Tensor x =
            random_tensor(rng, {rng.integer(1, 3), rng.integer(1, 4), h, w}, dtype, -3, 3, layout)
                .to(device);
        const Ref xr = to_ref(x);
        SCOPED_TRACE(std::string(is_max ? "max" : "avg") + "_pool2d x " + format_dims(xr.shape) +
                     " kernel " + format_dims({kh, kw}) + " stride " + format_dims({sh, sw}) +
                     " padding " + format_dims({ph, pw}) + " count_include_pad " +
                     std::to_string(include_pad) + " " + std::string(dtype_name(dtype)));
        const bool default_stride = rng.integer(0, 3) == 0;
        const std::vector<int64_t> stride =
            default_stride ? std::vector<int64_t>{} : std::vector<int64_t>{sh, sw};
        const int64_t step_h = default_stride ? kh : sh, step_w = default_stride ? kw : sw;
        Tensor y = is_max ? max_pool2d(x, {kh, kw}, stride, {ph, pw})
                          : avg_pool2d(x, {kh, kw}, stride, {ph, pw}, include_pad);
        const int64_t out_h = (h + 2 * ph - kh) / step_h + 1;
        const int64_t out_w = (w + 2 * pw - kw) / step_w + 1;
        Ref expected({xr.shape[0], xr.shape[1], out_h, out_w});
        for_each_index(expected.shape, [&](const std::vector<int64_t>& at) {
          double best = -std::numeric_limits<double>::infinity(), sum = 0;
          int64_t count = 0;
          for (int64_t i = 0; i < kh; ++i) {
            for (int64_t j = 0; j < kw; ++j) {
              const int64_t ih = at[2] * step_h - ph + i, iw = at[3] * step_w - pw + j;
              if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
              const double v = xr.at({at[0], at[1], ih, iw});
              best = std::max(best, v);
              sum += v;
              ++count;
            }
          }
          expected.at(at) =
              is_max ? best : sum / static_cast<double>(include_pad ? kh * kw : count);
        });
        EXPECT_EQ(y.dtype(), dtype);
        const Tolerance tol =
            is_max ? Tolerance{0, 0} : sum_tolerance(dtype, kh * kw, 3.0 * kh * kw);
        EXPECT_CLOSE_TO_REF(y, expected, tol);
      }
    }
  }
}

// The gradient of conv2d's weight: dw[o, ci, i, j] = sum over images and window positions of
// dy[n, o, oh, ow] * x[n, group channel ci, tap (i, j) of window (oh, ow)]. dy may cover fewer
// window positions than fit (as conv_transpose2d's weight gradient produces).
void check_conv2d_weight_grad(Rng& rng, Device device) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (Layout layout : kLayouts) {
      for (int repeat = 0; repeat < 2; ++repeat) {
        ConvCase c{};
        random_channels(rng, c);
        const int64_t span_h = c.dilation_h * (c.kernel_h - 1) + 1;
        const int64_t span_w = c.dilation_w * (c.kernel_w - 1) + 1;
        const int64_t pad_h = rng.integer(0, 2), pad_w = rng.integer(0, 2);
        c.in_h = random_extent(rng, span_h, 2 * pad_h);
        c.in_w = random_extent(rng, span_w, 2 * pad_w);
        const int64_t fit_h = (c.in_h + 2 * pad_h - span_h) / c.stride_h + 1;
        const int64_t fit_w = (c.in_w + 2 * pad_w - span_w) / c.stride_w + 1;
        const int64_t out_h = std::max<int64_t>(1, fit_h - rng.integer(0, 1));
        const int64_t out_w = fit_w;
        const int64_t out_channels = c.groups * c.group_out;
        Operands o = random_operands(rng, device, dtype, layout,
                                     {c.batch, c.groups * c.group_in, c.in_h, c.in_w},
                                     {c.batch, out_channels, out_h, out_w}, -1);
        const Ref& x = o.x_ref;
        const Ref& dy = o.weight_ref;
        SCOPED_TRACE("conv2d_weight_grad x " + format_dims(x.shape) + " dy " +
                     format_dims(dy.shape) + " kernel " + format_dims({c.kernel_h, c.kernel_w}) +
                     " groups " + std::to_string(c.groups) + " stride " +
                     format_dims({c.stride_h, c.stride_w}) + " dilation " +
                     format_dims({c.dilation_h, c.dilation_w}) + " padding " +
                     format_dims({pad_h, pad_w}) + " " + std::string(dtype_name(dtype)));
        const std::vector<int64_t> weight_shape{out_channels, c.group_in, c.kernel_h, c.kernel_w};
        const Attrs attrs{{"stride", std::vector<int64_t>{c.stride_h, c.stride_w}},
                          {"pads", std::vector<int64_t>{pad_h, pad_w, pad_h, pad_w}},
                          {"dilation", std::vector<int64_t>{c.dilation_h, c.dilation_w}},
                          {"groups", c.groups},
                          {"weight_shape", weight_shape}};
        Tensor dw = dispatch1(registry().get("conv2d_weight_grad"), {o.x, o.weight}, attrs);
        Ref expected(weight_shape);
        double max_abs_sum = 0;
        for_each_index(weight_shape, [&](const std::vector<int64_t>& at) {
          const int64_t oc = at[0], channel = (oc / c.group_out) * c.group_in + at[1];
          double acc = 0, abs_sum = 0;
          for (int64_t n = 0; n < c.batch; ++n) {
            for (int64_t oh = 0; oh < out_h; ++oh) {
              for (int64_t ow = 0; ow < out_w; ++ow) {
                const int64_t ih = oh * c.stride_h - pad_h + at[2] * c.dilation_h;
                const int64_t iw = ow * c.stride_w - pad_w + at[3] * c.dilation_w;
                if (ih < 0 || ih >= c.in_h || iw < 0 || iw >= c.in_w) continue;
                const double term = dy.at({n, oc, oh, ow}) * x.at({n, channel, ih, iw});
                acc += term;
                abs_sum += std::abs(term);
              }
            }
          }
          expected.at(at) = acc;
          max_abs_sum = std::max(max_abs_sum, abs_sum);
        });
        EXPECT_EQ(dw.dtype(), dtype);
        EXPECT_CLOSE_TO_REF(dw, expected,
                            sum_tolerance(dtype, c.batch * out_h * out_w, max_abs_sum));
      }
    }
  }
}

// A random pool over a random image: kernel, stride and padding attributes and the shapes.
struct PoolCase {
  int64_t kh, kw, sh, sw, ph, pw, h, w, out_h, out_w;
  std::vector<int64_t> in_shape, out_shape;
  Attrs attrs;
};

// A random pool, or with `common` the usual 2x2 one with stride 2 and no padding (the kernels
// have a path of their own for it) over odd and even image sizes.
PoolCase random_pool_case(Rng& rng, bool common) {
  PoolCase c;
  c.kh = common ? 2 : rng.integer(1, 4);
  c.kw = common ? 2 : rng.integer(1, 4);
  c.sh = common ? 2 : rng.integer(1, 3);
  c.sw = common ? 2 : rng.integer(1, 3);
  c.ph = common ? 0 : rng.integer(0, c.kh / 2);
  c.pw = common ? 0 : rng.integer(0, c.kw / 2);
  c.h = rng.integer(std::max<int64_t>(1, c.kh - 2 * c.ph), c.kh + 6);
  c.w = rng.integer(std::max<int64_t>(1, c.kw - 2 * c.pw), c.kw + 6);
  c.out_h = (c.h + 2 * c.ph - c.kh) / c.sh + 1;
  c.out_w = (c.w + 2 * c.pw - c.kw) / c.sw + 1;
  const int64_t batch = rng.integer(1, 3), channels = rng.integer(1, 4);
  c.in_shape = {batch, channels, c.h, c.w};
  c.out_shape = {batch, channels, c.out_h, c.out_w};
  c.attrs = Attrs{{"kernel", std::vector<int64_t>{c.kh, c.kw}},
                  {"stride", std::vector<int64_t>{c.sh, c.sw}},
                  {"pads", std::vector<int64_t>{c.ph, c.pw, c.ph, c.pw}}};
  return c;
}

std::string describe(const char* op, const PoolCase& c, DType dtype) {
  return std::string(op) + " x " + format_dims(c.in_shape) + " kernel " +
         format_dims({c.kh, c.kw}) + " stride " + format_dims({c.sh, c.sw}) + " padding " +
         format_dims({c.ph, c.pw}) + " " + std::string(dtype_name(dtype));
}

// The (row, column) of the first maximum of window (oh, ow) of plane (n, ch) of x.
std::pair<int64_t, int64_t> reference_argmax(const Ref& x, const PoolCase& c, int64_t n, int64_t ch,
                                             int64_t oh, int64_t ow) {
  double best = -std::numeric_limits<double>::infinity();
  std::pair<int64_t, int64_t> at{-1, -1};
  for (int64_t i = 0; i < c.kh; ++i) {
    for (int64_t j = 0; j < c.kw; ++j) {
      const int64_t ih = oh * c.sh - c.ph + i, iw = ow * c.sw - c.pw + j;
      if (ih < 0 || ih >= c.h || iw < 0 || iw >= c.w) continue;
      const double v = x.at({n, ch, ih, iw});
      if (at.first < 0 || v > best) {
        best = v;
        at = {ih, iw};
      }
    }
  }
  return at;
}

// max_pool2d_grad scatters dy to each window's (first) maximum; max_pool2d_gather reads there.
void check_max_pool2d_grad(Rng& rng, Device device, bool gather) {
  const char* op = gather ? "max_pool2d_gather" : "max_pool2d_grad";
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (Layout layout : kLayouts) {
      for (int repeat = 0; repeat < 2; ++repeat) {
        const PoolCase c = random_pool_case(rng, repeat == 0);
        SCOPED_TRACE(describe(op, c, dtype));
        // Few distinct values, so ties (resolved to the first maximum) occur.
        Tensor x = random_tensor(rng, c.in_shape, dtype, -3, 3, layout).round().to(device);
        Tensor g = random_tensor(rng, gather ? c.in_shape : c.out_shape, dtype, -1, 1,
                                 kLayouts[rng.integer(0, 2)])
                       .to(device);
        const Ref xr = to_ref(x), gr = to_ref(g);
        Tensor out = dispatch1(registry().get(op), {x, g}, c.attrs);
        Ref expected(gather ? c.out_shape : c.in_shape);
        for_each_index(c.out_shape, [&](const std::vector<int64_t>& at) {
          const auto [ih, iw] = reference_argmax(xr, c, at[0], at[1], at[2], at[3]);
          if (gather) {
            expected.at(at) = gr.at({at[0], at[1], ih, iw});
          } else {
            expected.at({at[0], at[1], ih, iw}) += gr.at(at);
          }
        });
        EXPECT_EQ(out.dtype(), dtype);
        // Overlapping windows may add several gradients at one position.
        const int64_t overlap = ((c.kh + c.sh - 1) / c.sh) * ((c.kw + c.sw - 1) / c.sw);
        const Tolerance tol = gather ? Tolerance{0, 0} : sum_tolerance(dtype, overlap, overlap);
        EXPECT_CLOSE_TO_REF(out, expected, tol);
      }
    }
  }
}

// avg_pool2d_grad spreads each window's gradient over the window, divided by its count.
void check_avg_pool2d_grad(Rng& rng, Device device) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (Layout layout : kLayouts) {
      for (int repeat = 0; repeat < 2; ++repeat) {
        PoolCase c = random_pool_case(rng, repeat == 0);
        const bool include_pad = rng.integer(0, 1) == 1;
        SCOPED_TRACE(describe("avg_pool2d_grad", c, dtype) + " count_include_pad " +
                     std::to_string(include_pad));
        c.attrs.set("count_include_pad", include_pad);
        c.attrs.set("input_size", std::vector<int64_t>{c.h, c.w});
        Tensor dy = random_tensor(rng, c.out_shape, dtype, -1, 1, layout).to(device);
        const Ref dr = to_ref(dy);
        Tensor out = dispatch1(registry().get("avg_pool2d_grad"), {dy}, c.attrs);
        Ref expected(c.in_shape);
        for_each_index(c.out_shape, [&](const std::vector<int64_t>& at) {
          std::vector<std::pair<int64_t, int64_t>> inside;
          for (int64_t i = 0; i < c.kh; ++i) {
            for (int64_t j = 0; j < c.kw; ++j) {
              const int64_t ih = at[2] * c.sh - c.ph + i, iw = at[3] * c.sw - c.pw + j;
              if (ih >= 0 && ih < c.h && iw >= 0 && iw < c.w) inside.emplace_back(ih, iw);
            }
          }
          const double count =
              static_cast<double>(include_pad ? c.kh * c.kw : static_cast<int64_t>(inside.size()));
          for (const auto& [ih, iw] : inside)
            expected.at({at[0], at[1], ih, iw}) += dr.at(at) / count;
        });
        EXPECT_EQ(out.dtype(), dtype);
        const int64_t overlap = ((c.kh + c.sh - 1) / c.sh) * ((c.kw + c.sw - 1) / c.sw);
        EXPECT_CLOSE_TO_REF(out, expected, sum_tolerance(dtype, overlap + 1, overlap));
      }
    }
  }
}

}  // namespace

void register_conv_checks(CheckRegistry& r) {
  r.add({"conv2d_weight_grad"}, check_conv2d_weight_grad);
  r.add({"max_pool2d_grad"},
        [](Rng& rng, Device device) { check_max_pool2d_grad(rng, device, false); });
  r.add({"max_pool2d_gather"},
        [](Rng& rng, Device device) { check_max_pool2d_grad(rng, device, true); });
  r.add({"avg_pool2d_grad"}, check_avg_pool2d_grad);
  r.add({"conv2d"}, check_conv2d);
  r.add({"conv_transpose2d"}, check_conv_transpose2d);
  r.add({"max_pool2d"}, [](Rng& rng, Device device) { check_pool(rng, device, true); });
  r.add({"avg_pool2d"}, [](Rng& rng, Device device) { check_pool(rng, device, false); });
}

}  // namespace tenflowers::testing
