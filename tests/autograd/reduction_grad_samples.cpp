// Gradient samples for the differentiable reductions: several axis sets (negative axes and the
// empty set = all axes included), keepdims both ways, and every input layout. Random f64 values
// are distinct with probability 1, so max/min and the inf-norms have no ties.
#include <algorithm>
#include <cmath>
#include <utility>

#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

// A rank-3 input with extents in [low_extent, 3] and values in [lo, hi).
Tensor input(Rng& rng, int64_t low_extent, double lo, double hi) {
  std::vector<int64_t> shape(3);
  for (auto& d : shape) d = rng.integer(low_extent, 3);
  return random_tensor(rng, shape, DType::F64, lo, hi, random_layout(rng));
}

// Each axis reduced with probability 1/2, written negative half the time; none picked gives the
// empty set, which reduces every axis.
std::vector<int64_t> random_axes(Rng& rng, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t a = 0; a < rank; ++a) {
    if (rng.integer(0, 1)) axes.push_back(rng.integer(0, 1) ? a : a - rank);
  }
  return axes;
}

Attrs axes_attrs(Rng& rng, const Tensor& x) {
  return Attrs{{"axes", random_axes(rng, x.rank())}, {"keepdims", rng.integer(0, 1) == 1}};
}

// Number of elements each output of `x` reduced over `axes` covers.
int64_t reduced_count(const Tensor& x, const std::vector<int64_t>& axes) {
  if (axes.empty()) return x.numel();
  int64_t count = 1;
  for (int64_t a : axes) count *= x.size(a);
  return count;
}

SampleFn repeat(int rounds, std::function<OpSample(Rng&)> make) {
  return [rounds, make](Rng& rng) {
    std::vector<OpSample> samples;
    for (int i = 0; i < rounds; ++i) samples.push_back(make(rng));
    return samples;
  };
}

// Samples over random axes of inputs with values in [lo, hi) and extents >= low_extent.
SampleFn axes_samples(int rounds, int64_t low_extent, double lo, double hi) {
  return repeat(rounds, [=](Rng& rng) {
    Tensor x = input(rng, low_extent, lo, hi);
    return OpSample{{x}, axes_attrs(rng, x)};
  });
}

// var/std with every correction that leaves at least one degree of freedom. Extents >= 2 keep
// the spread (and so std) away from 0, where std has no derivative.
SampleFn variance_samples() {
  return repeat(6, [](Rng& rng) {
    Tensor x = input(rng, 2, -2, 2);
    Attrs attrs = axes_attrs(rng, x);
    const int64_t count = reduced_count(x, attrs.get_ints("axes"));
    attrs.set("correction", rng.integer(0, std::min<int64_t>(2, count - 1)));
    return OpSample{{x}, attrs};
  });
}

}  // namespace

void register_reduction_grad_samples(SampleRegistry& r) {
  r.add("sum", axes_samples(5, 1, -2, 2));
  r.add("mean", axes_samples(5, 1, -2, 2));
  r.add("max", axes_samples(5, 1, -2, 2));
  r.add("min", axes_samples(5, 1, -2, 2));
  r.add("logsumexp", axes_samples(5, 1, -2, 2));
  r.add("var", variance_samples());
  r.add("std", variance_samples());
  r.add("prod", [](Rng& rng) {
    std::vector<OpSample> samples = axes_samples(5, 1, -2, 2)(rng);
    // Row 0 holds one zero, row 1 two, row 2 none: each case of the zero-aware gradient.
    const Tensor with_zeros =
        random_tensor(rng, {3, 4}, DType::F64, -2, 2, random_layout(rng)) *
        Tensor::from_vec(std::vector<double>{1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1}, {3, 4});
    for (bool keepdims : {false, true}) {
      samples.push_back(OpSample{
          {with_zeros}, Attrs{{"axes", std::vector<int64_t>{-1}}, {"keepdims", keepdims}}});
    }
    return samples;
  });
  r.add("norm", [](Rng& rng) {
    std::vector<OpSample> samples;
    // p = 1 and p < 1 are not smooth at 0: their inputs stay positive, away from it.
    const std::pair<double, double> ranges[] = {{-2, 2}, {0.5, 2}};
    const double ps[] = {2.0, 1.0, 3.0, 0.5, INFINITY, -INFINITY, 0.0};
    for (double p : ps) {
      const auto [lo, hi] = ranges[p == 1.0 || p == 0.5 ? 1 : 0];
      for (int round = 0; round < 2; ++round) {
        Tensor x = input(rng, 1, lo, hi);
        Attrs attrs = axes_attrs(rng, x);
        attrs.set("p", p);
        samples.push_back(OpSample{{x}, attrs});
      }
    }
    return samples;
  });
}

}  // namespace tenflowers::testing
