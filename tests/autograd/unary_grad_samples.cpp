// Gradient samples for the elementwise one-input ops. Values stay away from kinks (0 for abs and
// the relu family, integers and halves for floor/ceil/round, the softplus threshold) and from
// domain edges, where central differences are meaningless.
#include <cmath>
#include <functional>
#include <vector>

#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

constexpr double kMargin =
    0.1;  // distance kept from any kink, far above the finite-difference step

// A value uniform in [lo, hi) at least kMargin away from every point in `avoid`.
double uniform_avoiding(Rng& rng, double lo, double hi, const std::vector<double>& avoid) {
  for (;;) {
    const double v = rng.uniform(lo, hi);
    bool near = false;
    for (double p : avoid) near = near || std::abs(v - p) < kMargin;
    if (!near) return v;
  }
}

// `values` stored as asked: Transposed keeps it in reversed-axes order and returns the permuted
// view; Strided keeps it in every second element of a buffer twice as wide.
Tensor laid_out(const Ref& values, Layout layout) {
  const Tensor dense = from_ref(values, DType::F64);
  const int64_t rank = values.rank();
  if (layout == Layout::Transposed && rank >= 2) {
    Dims reversed;
    for (int64_t i = rank - 1; i >= 0; --i) reversed.push_back(i);
    return dense.permute(reversed).contiguous().permute(reversed);
  }
  if (layout == Layout::Strided && rank >= 1) {
    Ref wide(values.shape);
    wide.shape.back() *= 2;
    wide.data.assign(static_cast<size_t>(wide.numel()), 1e30);
    for (size_t i = 0; i < values.data.size(); ++i) wide.data[2 * i] = values.data[i];
    return from_ref(wide, DType::F64).slice(rank - 1, 0, {}, 2);
  }
  return dense;
}

// A small random f64 tensor (0-d to 3-d, random layout) with elements drawn by `value`.
Tensor input(Rng& rng, const std::function<double(Rng&)>& value) {
  Ref values(std::vector<int64_t>(static_cast<size_t>(rng.integer(0, 3))));
  for (auto& d : values.shape) d = rng.integer(1, 4);
  values.data.resize(static_cast<size_t>(values.numel()));
  for (double& v : values.data) v = value(rng);
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  return laid_out(values, layouts[rng.integer(0, 2)]);
}

std::function<double(Rng&)> in_range(double lo, double hi, std::vector<double> avoid = {}) {
  return [=](Rng& rng) { return uniform_avoiding(rng, lo, hi, avoid); };
}

// Values in [-3, 3) away from integers and halves (the jumps of floor, ceil and round).
double away_from_steps(Rng& rng) {
  return static_cast<double>(rng.integer(-3, 2)) + uniform_avoiding(rng, 0, 1, {0, 0.5, 1});
}

constexpr int kRounds = 4;

SampleFn samples(std::function<double(Rng&)> value, std::function<Attrs(Rng&)> attrs = {}) {
  return [value, attrs](Rng& rng) {
    std::vector<OpSample> out;
    for (int i = 0; i < kRounds; ++i) {
      out.push_back(OpSample{{input(rng, value)}, attrs ? attrs(rng) : Attrs{}});
    }
    return out;
  };
}

}  // namespace

void register_unary_grad_samples(SampleRegistry& r) {
  const auto smooth = in_range(-2, 2);
  const auto away_from_zero = in_range(-2, 2, {0});
  const auto positive = in_range(0.2, 3);
  r.add("neg", samples(smooth));
  r.add("abs", samples(away_from_zero));
  r.add("sign", samples(away_from_zero));
  r.add("square", samples(smooth));
  r.add("relu", samples(away_from_zero));
  r.add("floor", samples(away_from_steps));
  r.add("ceil", samples(away_from_steps));
  r.add("round", samples(away_from_steps));
  r.add("exp", samples(smooth));
  r.add("expm1", samples(smooth));
  r.add("log", samples(positive));
  r.add("log1p", samples(in_range(-0.7, 3)));
  r.add("sqrt", samples(positive));
  r.add("rsqrt", samples(positive));
  r.add("reciprocal", samples(in_range(-3, 3, {-0.25, 0, 0.25})));
  r.add("sin", samples(in_range(-4, 4)));
  r.add("cos", samples(in_range(-4, 4)));
  r.add("tan", samples(in_range(-1.2, 1.2)));
  r.add("tanh", samples(smooth));
  r.add("sigmoid", samples(in_range(-4, 4)));
  r.add("erf", samples(smooth));
  r.add("silu", samples(in_range(-4, 4)));
  r.add("leaky_relu", samples(away_from_zero, [](Rng& rng) {
          return Attrs{{"negative_slope", rng.uniform(0.01, 0.5)}};
        }));
  r.add("elu", samples(away_from_zero, [](Rng& rng) {
          return Attrs{{"alpha", rng.uniform(0.5, 2)}};
        }));
  r.add("gelu", samples(in_range(-3, 3), [](Rng& rng) {
          return Attrs{{"tanh_approximation", rng.integer(0, 1) == 1}};
        }));
  // The switch to the linear branch at beta x = threshold falls inside the sampled range.
  r.add("softplus", [](Rng& rng) {
    std::vector<OpSample> out;
    for (int i = 0; i < kRounds; ++i) {
      const double beta = rng.integer(0, 1) ? rng.uniform(0.5, 3) : -rng.uniform(0.5, 3);
      const double threshold = rng.uniform(0.5, 2);
      out.push_back(OpSample{{input(rng, in_range(-3, 3, {threshold / beta}))},
                             Attrs{{"beta", beta}, {"threshold", threshold}}});
    }
    return out;
  });
}

}  // namespace tenflowers::testing
