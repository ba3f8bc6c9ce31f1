// Checks for layer_norm and layer_norm_backward against float64 loops over the rows of the
// reference arrays. Bounds are per element, from the rounding errors of the computation in unit
// roundoff u: a sum of n terms is within (n + 1) u sum|terms| whatever its order, and the
// variance is taken about the computed mean, whose error adds its square.
#include <cmath>

#include "tenflowers/core/dispatch.hpp"
#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const DType kDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};

struct Case {
  std::vector<int64_t> shape;
  int64_t axis;  // the first normalized axis
};

std::vector<Case> cases(Rng& rng) {
  return {
      {{rng.integer(1, 4), rng.integer(1, 7)}, -1},
      {{3, 37}, -1},                    // neither a multiple of 4 nor of 32
      {{rng.integer(2, 5), 768}, -1},   // the transformer's width: a warp per row on the GPU
      {{2, 1500}, 1},                   // longer than a warp's registers hold
      {{2, 20000}, -1},                 // longer than a 512-thread block's registers hold
      {{2, 3, rng.integer(2, 9)}, -2},  // two normalized axes
      {{rng.integer(1, 9)}, 0},         // one row
      {{0, 6}, -1},                     // no rows
  };
}

// Rows and row length of a case, and the normalized axes' shape.
struct Rows {
  int64_t rows = 1, n = 1;
  std::vector<int64_t> normalized;
};

Rows rows_of(const Case& c) {
  const auto rank = static_cast<int64_t>(c.shape.size());
  const int64_t axis = c.axis < 0 ? c.axis + rank : c.axis;
  Rows r;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < axis) {
      r.rows *= c.shape[d];
    } else {
      r.n *= c.shape[d];
      r.normalized.push_back(c.shape[d]);
    }
  }
  return r;
}

std::vector<int64_t> stats_shape(const Case& c) {
  std::vector<int64_t> s = c.shape;
  const auto rank = static_cast<int64_t>(s.size());
  for (int64_t d = c.axis < 0 ? c.axis + rank : c.axis; d < rank; ++d) s[d] = 1;
  return s;
}

DType stats_dtype(DType dtype) {
  return dtype == DType::F64 ? DType::F64 : DType::F32;
}

// A random operand on the device: in one of the harness's layouts, or contiguous but starting one
// element into its buffer (so not 16-byte aligned: the GPU kernels' element-wise path).
Tensor operand(Rng& rng, const std::vector<int64_t>& shape, DType dtype, double lo, double hi,
               Device device) {
  const int64_t pick = rng.integer(0, 3);
  if (pick == 3) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    const Tensor flat = random_tensor(rng, {numel + 1}, dtype, lo, hi).to(device);
    return flat.narrow(0, 1, numel).reshape(Dims(shape));
  }
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  return to_device_keeping_layout(random_tensor(rng, shape, dtype, lo, hi, layouts[pick]), device);
}

// Float64 statistics of row `row` of x (n elements from row * n).
struct RowStats {
  double mean = 0, rstd = 0, variance = 0, abs_mean = 0;
};

RowStats row_stats(const Ref& x, int64_t row, int64_t n, double epsilon) {
  RowStats s;
  for (int64_t i = 0; i < n; ++i) {
    const double v = x.data[static_cast<size_t>(row * n + i)];
    s.mean += v;
    s.abs_mean += std::abs(v);
  }
  s.mean /= static_cast<double>(n);
  s.abs_mean /= static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) {
    const double d = x.data[static_cast<size_t>(row * n + i)] - s.mean;
    s.variance += d * d;
  }
  s.variance /= static_cast<double>(n);
  s.rstd = 1 / std::sqrt(s.variance + epsilon);
  return s;
}

void check_layer_norm(Rng& rng, Device device) {
  struct Range {
    double lo, hi;
  };
  // Centred rows, and rows whose mean dominates their spread.
  const Range ranges[] = {{-2, 2}, {9, 11}};
  for (DType dtype : kDTypes) {
    for (const Case& c : cases(rng)) {
      for (const Range range : ranges) {
        const Rows r = rows_of(c);
        const bool scale = rng.integer(0, 1) == 1, center = rng.integer(0, 1) == 1;
        const double epsilon = rng.integer(0, 1) ? 1e-5 : 1e-2;
        const Tensor x = operand(rng, c.shape, dtype, range.lo, range.hi, device);
        std::vector<Tensor> inputs{x};
        if (scale) inputs.push_back(operand(rng, r.normalized, dtype, -2, 2, device));
        if (center) inputs.push_back(operand(rng, r.normalized, dtype, -2, 2, device));
        const Attrs attrs{
            {"axis", c.axis}, {"epsilon", epsilon}, {"scale", scale}, {"center", center}};
        const std::vector<Tensor> out = dispatch(registry().get("layer_norm"), inputs, attrs);
        ASSERT_EQ(out.size(), 3u);
        const DType stats = stats_dtype(dtype);
        EXPECT_EQ(out[0].dtype(), dtype);
        EXPECT_EQ(out[1].dtype(), stats);
        EXPECT_EQ(out[2].dtype(), stats);

        const Ref xr = to_ref(x);
        const Ref gamma =
            scale ? to_ref(inputs[1]) : Ref(r.normalized, std::vector<double>(r.n, 1));
        const Ref beta =
            center ? to_ref(inputs.back()) : Ref(r.normalized, std::vector<double>(r.n, 0));
        const double u = compute_roundoff(dtype), uo = output_roundoff(dtype);
        const double us = output_roundoff(stats);
        const auto n = static_cast<double>(r.n);
        Ref y(c.shape), mean(stats_shape(c)), rstd(stats_shape(c));
        std::vector<double> y_bound(y.data.size()), mean_bound(mean.data.size()),
            rstd_bound(rstd.data.size());
        for (int64_t row = 0; row < r.rows; ++row) {
          const RowStats s = row_stats(xr, row, r.n, epsilon);
          // The computed mean, and the relative error of the computed rstd (see the file top).
          const double e_mean = (n + 2) * u * s.abs_mean;
          const double rel_rstd =
              0.5 * (e_mean * e_mean + (n + 6) * u * (s.variance + e_mean * e_mean + epsilon)) /
                  (s.variance + epsilon) +
              3 * u;
          mean.data[row] = s.mean;
          rstd.data[row] = s.rstd;
          mean_bound[row] = e_mean + us * std::abs(s.mean) + tiny_error(stats);
          rstd_bound[row] = (rel_rstd + us) * s.rstd;
          for (int64_t i = 0; i < r.n; ++i) {
            const auto k = static_cast<size_t>(row * r.n + i);
            const double centered = xr.data[k] - s.mean;
            const double value = centered * s.rstd * gamma.data[i] + beta.data[i];
            const double core = s.rstd * std::abs(gamma.data[i]) *
                                (e_mean + std::abs(centered) * (rel_rstd + 4 * u));
            y.data[k] = value;
            y_bound[k] = core * (1 + uo) + (u + uo) * std::abs(value) + tiny_error(dtype);
          }
        }
        const std::string what = "layer_norm " + describe(x) + " axis " + std::to_string(c.axis) +
                                 (scale ? " gamma" : "") + (center ? " beta" : "");
        expect_within(out[0], y, y_bound, what + ": y");
        expect_within(out[1], mean, mean_bound, what + ": mean");
        expect_within(out[2], rstd, rstd_bound, what + ": rstd");
      }
    }
  }
}

void check_layer_norm_backward(Rng& rng, Device device) {
  for (DType dtype : kDTypes) {
    for (const Case& c : cases(rng)) {
      const Rows r = rows_of(c);
      const bool scale = rng.integer(0, 1) == 1, param_grads = rng.integer(0, 1) == 1;
      const Tensor x = operand(rng, c.shape, dtype, -2, 2, device);
      const Tensor dy = operand(rng, c.shape, dtype, -1, 1, device);
      // The statistics layer_norm would give, rounded to their dtype as it stores them.
      const Ref xr = to_ref(x);
      Ref mean_exact(stats_shape(c)), rstd_exact(stats_shape(c));
      for (int64_t row = 0; row < r.rows; ++row) {
        const RowStats s = row_stats(xr, row, r.n, 1e-5);
        mean_exact.data[row] = s.mean;
        rstd_exact.data[row] = s.rstd;
      }
      const DType stats = stats_dtype(dtype);
      const Tensor mean = from_ref(mean_exact, stats).to(device);
      const Tensor rstd = from_ref(rstd_exact, stats).to(device);
      std::vector<Tensor> inputs{dy, x, mean, rstd};
      if (scale) inputs.push_back(operand(rng, r.normalized, dtype, -2, 2, device));
      const Attrs attrs{{"axis", c.axis}, {"scale", scale}, {"param_grads", param_grads}};
      const std::vector<Tensor> out =
          dispatch(registry().get("layer_norm_backward"), inputs, attrs);
      ASSERT_EQ(out.size(), param_grads ? 3u : 1u);

      const Ref dyr = to_ref(dy), mr = to_ref(mean), rr = to_ref(rstd);
      const Ref gamma = scale ? to_ref(inputs[4]) : Ref(r.normalized, std::vector<double>(r.n, 1));
      const double u = compute_roundoff(dtype), uo = output_roundoff(dtype);
      const auto n = static_cast<double>(r.n);
      Ref dx(c.shape), dgamma(r.normalized), dbeta(r.normalized), dgamma_abs(r.normalized),
          dbeta_abs(r.normalized);
      std::vector<double> dx_bound(dx.data.size());
      std::vector<double> xhat(static_cast<size_t>(r.n)), g(xhat.size());
      for (int64_t row = 0; row < r.rows; ++row) {
        double a = 0, b = 0, g_abs = 0, gx_abs = 0;
        for (int64_t i = 0; i < r.n; ++i) {
          const auto k = static_cast<size_t>(row * r.n + i);
          xhat[i] = (xr.data[k] - mr.data[row]) * rr.data[row];
          g[i] = dyr.data[k] * gamma.data[i];
          a += g[i];
          b += g[i] * xhat[i];
          g_abs += std::abs(g[i]);
          gx_abs += std::abs(g[i] * xhat[i]);
          dgamma.data[i] += dyr.data[k] * xhat[i];
          dgamma_abs.data[i] += std::abs(dyr.data[k] * xhat[i]);
          dbeta.data[i] += dyr.data[k];
          dbeta_abs.data[i] += std::abs(dyr.data[k]);
        }
        a /= n;
        b /= n;
        const double e_a = (n + 2) * u * g_abs / n, e_b = (n + 6) * u * gx_abs / n;
        const double s = rr.data[row];
        for (int64_t i = 0; i < r.n; ++i) {
          const auto k = static_cast<size_t>(row * r.n + i);
          const double value = s * (g[i] - a - xhat[i] * b);
          const double terms = std::abs(g[i]) + std::abs(a) + std::abs(xhat[i] * b);
          dx.data[k] = value;
          dx_bound[k] = s * (e_a + std::abs(xhat[i]) * e_b + 6 * u * terms) * (1 + uo) +
                        uo * std::abs(value) + tiny_error(dtype);
        }
      }
      const std::string what = "layer_norm_backward " + describe(x) + " axis " +
                               std::to_string(c.axis) + (scale ? " gamma" : "");
      expect_within(out[0], dx, dx_bound, what + ": dx");
      if (!param_grads) continue;
      const auto rows = static_cast<double>(r.rows);
      std::vector<double> dgamma_bound(dgamma.data.size()), dbeta_bound(dbeta.data.size());
      for (size_t i = 0; i < dgamma_bound.size(); ++i) {
        dgamma_bound[i] = (rows + 5) * u * dgamma_abs.data[i] * (1 + uo) +
                          uo * std::abs(dgamma.data[i]) + tiny_error(dtype);
        dbeta_bound[i] = (rows + 1) * u * dbeta_abs.data[i] * (1 + uo) +
                         uo * std::abs(dbeta.data[i]) + tiny_error(dtype);
      }
      expect_within(out[1], dgamma, dgamma_bound, what + ": dgamma");
      expect_within(out[2], dbeta, dbeta_bound, what + ": dbeta");
    }
  }
}

}  // namespace

void register_normalization_checks(CheckRegistry& r) {
  r.add({"layer_norm"}, check_layer_norm);
  r.add({"layer_norm_backward"}, check_layer_norm_backward);
}

}  // namespace tenflowers::testing
