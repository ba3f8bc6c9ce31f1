// Checks for batch_norm, batch_norm_inference and batch_norm_grad: float64 loops over each
// channel's elements, on NCHW shapes (H*W odd, and a multiple of 4 for the GPU's vector loads),
// [N, C], channels last, other axes, a single channel, and shapes long enough to be cut into
// several pieces (CPU) or chunks (GPU); every input layout and floating dtype. f32 and f64
// inputs centered at 100 with spread 1 check that the variance does not cancel. Tolerances are
// c * u * (magnitude of the terms involved), with u the roundoff of the arithmetic (float for
// f32, f16 and bf16; double for f64), plus the output dtype's own rounding (tolerance_for).
#include <algorithm>
#include <cmath>

#include "tenflowers/core/dispatch.hpp"
#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};

double compute_roundoff(DType dtype) {
  return dtype == DType::F64 ? 0x1p-53 : 0x1p-24;
}

// The stored dtype's tolerance widened by `slack` (absolute).
Tolerance widened(DType dtype, double slack) {
  const Tolerance stored = tolerance_for(dtype);
  return {stored.rtol, stored.atol + slack};
}

struct Case {
  std::vector<int64_t> shape;
  int64_t axis;
};

const Case kCases[] = {
    {{3, 4, 3, 5}, 1},                   // NCHW, odd H*W
    {{2, 3, 4, 8}, 1},                   // NCHW, H*W a multiple of 4
    {{7, 5}, 1},                         // [N, C]
    {{2, 3, 4, 6}, -1},                  // channels last
    {{5, 6, 2}, 0},                      // channels first of all
    {{4, 3, 7}, -2},    {{6, 1, 5}, 1},  // a single channel
};
// Split into several pieces or chunks per channel.
const Case kLongCases[] = {{{16, 3, 33, 33}, 1}, {{8, 2, 32, 36}, 1}, {{20000, 5}, -1}};

// x's elements as [outer, channels, inner] around the channel axis.
struct Channels {
  int64_t outer = 1, channels = 1, inner = 1;
  Channels(const std::vector<int64_t>& shape, int64_t axis) {
    const auto a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(shape.size()) : axis);
    for (size_t i = 0; i < shape.size(); ++i)
      (i < a ? outer : i == a ? channels : inner) *= shape[i];
  }
  int64_t count() const { return outer * inner; }
  // Calls f(flat index) for every element of channel c.
  template <class F>
  void each(int64_t c, F f) const {
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) f(static_cast<size_t>((o * channels + c) * inner + i));
    }
  }
};

Tensor on(const Tensor& t, Device device) {
  return to_device_keeping_layout(t, device);
}

Tensor channel_vector(Rng& rng, int64_t channels, DType dtype, double lo, double hi) {
  return random_tensor(rng, {channels}, dtype, lo, hi, kLayouts[rng.integer(0, 2)]);
}

std::string describe(const char* op, const Case& c, DType dtype, Layout layout) {
  return std::string(op) + " x " + format_dims(c.shape) + " axis " + std::to_string(c.axis) + " " +
         std::string(dtype_name(dtype)) + " layout " + std::to_string(static_cast<int>(layout));
}

// y = (x - mean) * gamma / sqrt(var + epsilon) + beta for given per-channel statistics, and the
// magnitude its rounding errors scale with.
Ref normalized(const Ref& x, const Channels& ch, const std::vector<double>& mean,
               const std::vector<double>& var, const Ref& gamma, const Ref& beta, double epsilon,
               double& magnitude) {
  Ref y(x.shape);
  magnitude = 0;
  for (int64_t c = 0; c < ch.channels; ++c) {
    const auto k = static_cast<size_t>(c);
    const double scale = gamma.data[k] / std::sqrt(var[k] + epsilon);
    ch.each(c, [&](size_t i) {
      y.data[i] = (x.data[i] - mean[k]) * scale + beta.data[k];
      magnitude = std::max(magnitude, std::abs(x.data[i] * scale) + std::abs(beta.data[k]));
    });
  }
  return y;
}

void run_batch_norm_case(Rng& rng, Device device, DType dtype, Layout layout, const Case& c,
                         double center) {
  const Tensor x = random_tensor(rng, c.shape, dtype, center - 1, center + 1, layout);
  const Channels ch(c.shape, c.axis);
  const bool defaults = rng.integer(0, 3) == 0;  // undefined gamma and beta: ones and zeros
  const Tensor gamma = defaults ? Tensor() : channel_vector(rng, ch.channels, dtype, -2, 2);
  const Tensor beta = defaults ? Tensor() : channel_vector(rng, ch.channels, dtype, -2, 2);
  const double epsilon = rng.uniform(1e-5, 1e-2);
  SCOPED_TRACE(describe("batch_norm", c, dtype, layout) + " center " + std::to_string(center) +
               (defaults ? " without gamma and beta" : ""));
  const BatchNormResult out = batch_norm(on(x, device), defaults ? gamma : on(gamma, device),
                                         defaults ? beta : on(beta, device), c.axis, epsilon);

  const Ref xr = to_ref(x);
  const Ref gr =
      defaults ? Ref({ch.channels}, std::vector<double>(ch.channels, 1.0)) : to_ref(gamma);
  const Ref br = defaults ? Ref({ch.channels}) : to_ref(beta);
  std::vector<double> mean(static_cast<size_t>(ch.channels)), var(mean.size());
  double max_x = 0, max_dev = 0;
  for (int64_t k = 0; k < ch.channels; ++k) {
    double sum = 0, squares = 0;
    ch.each(k, [&](size_t i) { sum += xr.data[i]; });
    const double m = sum / static_cast<double>(ch.count());
    ch.each(k, [&](size_t i) {
      squares += (xr.data[i] - m) * (xr.data[i] - m);
      max_x = std::max(max_x, std::abs(xr.data[i]));
      max_dev = std::max(max_dev, std::abs(xr.data[i] - m));
    });
    mean[static_cast<size_t>(k)] = m;
    var[static_cast<size_t>(k)] = squares / static_cast<double>(ch.count());
  }
  double magnitude = 0;
  const Ref y = normalized(xr, ch, mean, var, gr, br, epsilon, magnitude);
  const double u = compute_roundoff(dtype);
  for (const Tensor& t : {out.y, out.mean, out.var}) {
    EXPECT_EQ(t.dtype(), dtype);
    EXPECT_EQ(t.device(), device);
  }
  EXPECT_CLOSE_TO_REF(out.mean, Ref({ch.channels}, mean), widened(dtype, 16 * u * max_x));
  EXPECT_CLOSE_TO_REF(out.var, Ref({ch.channels}, var), widened(dtype, 64 * u * max_dev * max_x));
  EXPECT_CLOSE_TO_REF(out.y, y, widened(dtype, 64 * u * magnitude));
}

void check_batch_norm(Rng& rng, Device device) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    const bool wide = dtype == DType::F32 || dtype == DType::F64;
    for (const Case& c : kCases) {
      const Layout layout = kLayouts[rng.integer(0, 2)];
      run_batch_norm_case(rng, device, dtype, layout, c, 0.0);
      if (wide) run_batch_norm_case(rng, device, dtype, layout, c, 100.0);
    }
  }
  for (const Case& c : kLongCases) {
    run_batch_norm_case(rng, device, DType::F32, Layout::Contiguous, c, 100.0);
  }
  run_batch_norm_case(rng, device, DType::F16, Layout::Contiguous, kLongCases[1], 0.0);
}

void check_batch_norm_inference(Rng& rng, Device device) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (const Case& c : kCases) {
      const Layout layout = kLayouts[rng.integer(0, 2)];
      const Tensor x = random_tensor(rng, c.shape, dtype, -3, 3, layout);
      const Channels ch(c.shape, c.axis);
      const Tensor gamma = channel_vector(rng, ch.channels, dtype, -2, 2);
      const Tensor beta = channel_vector(rng, ch.channels, dtype, -2, 2);
      const Tensor mean = channel_vector(rng, ch.channels, dtype, -1, 1);
      const Tensor var = channel_vector(rng, ch.channels, dtype, 0.1, 2);
      const double epsilon = rng.uniform(1e-5, 1e-2);
      SCOPED_TRACE(describe("batch_norm_inference", c, dtype, layout));
      const Tensor y = batch_norm_inference(on(x, device), on(mean, device), on(var, device),
                                            on(gamma, device), on(beta, device), c.axis, epsilon);
      double magnitude = 0;
      const Ref expected = normalized(to_ref(x), ch, to_ref(mean).data, to_ref(var).data,
                                      to_ref(gamma), to_ref(beta), epsilon, magnitude);
      EXPECT_EQ(y.dtype(), dtype);
      EXPECT_CLOSE_TO_REF(y, expected, widened(dtype, 16 * compute_roundoff(dtype) * magnitude));
    }
  }
}

// dx = gamma * rstd * (dy - A / M - xhat * B / M), dgamma = B, dbeta = A, with A = sum(dy) and
// B = sum(dy * xhat) over each channel's M elements, for any given mean and var.
void run_batch_norm_grad_case(Rng& rng, Device device, DType dtype, Layout layout, const Case& c) {
  const Channels ch(c.shape, c.axis);
  const Tensor x = random_tensor(rng, c.shape, dtype, -2, 2, layout);
  const Tensor dy = random_tensor(rng, c.shape, dtype, -1, 1, kLayouts[rng.integer(0, 2)]);
  const Tensor gamma = channel_vector(rng, ch.channels, dtype, -2, 2);
  const Tensor mean = channel_vector(rng, ch.channels, dtype, -0.5, 0.5);
  const Tensor var = channel_vector(rng, ch.channels, dtype, 0.2, 2);
  const double epsilon = rng.uniform(1e-5, 1e-2);
  SCOPED_TRACE(describe("batch_norm_grad", c, dtype, layout));
  const Attrs attrs{{"axis", c.axis}, {"epsilon", epsilon}};
  const std::vector<Tensor> inputs{on(x, device), on(dy, device), on(gamma, device),
                                   on(mean, device), on(var, device)};
  const std::vector<Tensor> out = dispatch(registry().get("batch_norm_grad"), inputs, attrs);
  ASSERT_EQ(out.size(), 3u);

  const Ref xr = to_ref(x), dyr = to_ref(dy), gr = to_ref(gamma), mr = to_ref(mean),
            vr = to_ref(var);
  const auto count = static_cast<double>(ch.count());
  Ref dx(xr.shape), dgamma({ch.channels}), dbeta({ch.channels});
  double sum_scale = 0, dx_scale = 0;
  for (int64_t k = 0; k < ch.channels; ++k) {
    const auto j = static_cast<size_t>(k);
    const double rstd = 1 / std::sqrt(vr.data[j] + epsilon);
    double a = 0, b = 0, abs_a = 0, abs_b = 0, max_xhat = 0, max_dy = 0;
    ch.each(k, [&](size_t i) {
      const double xhat = (xr.data[i] - mr.data[j]) * rstd;
      a += dyr.data[i];
      b += dyr.data[i] * xhat;
      abs_a += std::abs(dyr.data[i]);
      abs_b += std::abs(dyr.data[i] * xhat);
      max_xhat = std::max(max_xhat, std::abs(xhat));
      max_dy = std::max(max_dy, std::abs(dyr.data[i]));
    });
    dbeta.data[j] = a;
    dgamma.data[j] = b;
    const double k_scale = gr.data[j] * rstd;
    ch.each(k, [&](size_t i) {
      const double xhat = (xr.data[i] - mr.data[j]) * rstd;
      dx.data[i] = k_scale * (dyr.data[i] - a / count - xhat * b / count);
    });
    sum_scale = std::max(sum_scale, abs_a + abs_b);
    // The elementwise terms, and the sums' errors divided by M.
    dx_scale = std::max(
        dx_scale, std::abs(k_scale) *
                      (max_dy + max_xhat * (max_dy * (1 + max_xhat) + (abs_a + abs_b) / count)));
  }
  const double u = compute_roundoff(dtype);
  const double sum_slack = (std::log2(count) + 64) * u * sum_scale;
  for (const Tensor& t : out) EXPECT_EQ(t.dtype(), dtype);
  EXPECT_CLOSE_TO_REF(out[1], dgamma, widened(dtype, sum_slack));
  EXPECT_CLOSE_TO_REF(out[2], dbeta, widened(dtype, sum_slack));
  EXPECT_CLOSE_TO_REF(out[0], dx, widened(dtype, 64 * u * dx_scale));
}

void check_batch_norm_grad(Rng& rng, Device device) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (const Case& c : kCases) {
      run_batch_norm_grad_case(rng, device, dtype, kLayouts[rng.integer(0, 2)], c);
    }
  }
  for (const Case& c : kLongCases) {
    run_batch_norm_grad_case(rng, device, DType::F32, Layout::Contiguous, c);
  }
}

}  // namespace

void register_batch_norm_checks(CheckRegistry& r) {
  r.add({"batch_norm"}, check_batch_norm);
  r.add({"batch_norm_inference"}, check_batch_norm_inference);
  r.add({"batch_norm_grad"}, check_batch_norm_grad);
}

}  // namespace tenflowers::testing
