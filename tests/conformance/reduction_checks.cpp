// Checks for the reductions: random shapes of rank 0-4, random axis subsets (negative axes
// included), keepdims both ways, contiguous/transposed/strided layouts and every applicable
// dtype, against naive long-double loops over the elements each output reduces. Floating-point
// tolerances come from rounding-error bounds of pairwise summation: a sum of n terms computed
// with unit roundoff u is within u * (ceil(log2 n) + 2) * sum|x| of the exact sum, and rounding
// to the output dtype adds its own unit roundoff relative to the result.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
const Tolerance kExact{0.0, 0.0};
const std::vector<DType> kAllReduceDTypes = {DType::F32, DType::F64, DType::F16, DType::BF16,
                                             DType::I32, DType::I64, DType::Bool};

// Unit roundoff of a floating dtype; 0 for exact (integer, bool) results.
double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::F64:
      return 0x1p-53;
    case DType::F32:
      return 0x1p-24;
    case DType::F16:
      return 0x1p-11;
    case DType::BF16:
      return 0x1p-8;
    default:
      return 0.0;
  }
}

// Unit roundoff of the arithmetic the kernels use for an input dtype: float for f32, f16 and
// bf16, double for f64 and for integer or bool inputs to floating results.
double compute_roundoff(DType input) {
  return input == DType::F32 || input == DType::F16 || input == DType::BF16 ? 0x1p-24 : 0x1p-53;
}

// Absolute error of rounding a tiny result to the output dtype (f16 subnormals: half a spacing).
double underflow_error(DType output) {
  return output == DType::F16 ? 0x1p-25 : 0.0;
}

// Results beyond the output dtype's range round to infinity (f16 overflows at 65520).
void overflow_to_inf(Ref& r, DType output) {
  if (output != DType::F16) return;
  for (double& e : r.data) {
    if (std::abs(e) >= 65520.0) e = std::copysign(std::numeric_limits<double>::infinity(), e);
  }
}

double sum_depth(size_t n) {
  return std::ceil(std::log2(std::max<double>(static_cast<double>(n), 1.0))) + 2.0;
}

struct Case {
  Tensor x;
  Ref ref;
  std::vector<int64_t> axes;  // as passed to the op (random order, some negative)
  bool keepdims = false;
};

// The elements each output reduces, in row-major order, and the output shape.
struct Groups {
  std::vector<int64_t> shape;
  std::vector<std::vector<double>> values;
};

Groups group_by_output(const Ref& x, const std::vector<int64_t>& axes, bool keepdims) {
  std::vector<bool> reduced(x.shape.size(), axes.empty());
  for (int64_t a : axes) {
    if (!x.shape.empty()) reduced[static_cast<size_t>(a < 0 ? a + x.rank() : a)] = true;
  }
  std::vector<int64_t> kept_shape(x.shape.size()), shape;
  for (size_t i = 0; i < x.shape.size(); ++i) {
    kept_shape[i] = reduced[i] ? 1 : x.shape[i];
    if (!reduced[i] || keepdims) shape.push_back(kept_shape[i]);
  }
  Groups g{shape, std::vector<std::vector<double>>(static_cast<size_t>(Ref(kept_shape).numel()))};
  const auto strides = Ref(kept_shape).strides();
  for_each_index(x.shape, [&](const std::vector<int64_t>& index) {
    int64_t o = 0;
    for (size_t i = 0; i < index.size(); ++i) o += reduced[i] ? 0 : index[i] * strides[i];
    g.values[static_cast<size_t>(o)].push_back(x.at(index));
  });
  return g;
}

template <class F>
Ref reduce_groups(const Groups& g, F f) {
  Ref out(g.shape);
  for (size_t o = 0; o < g.values.size(); ++o) out.data[o] = f(g.values[o]);
  return out;
}

long double exact_sum(const std::vector<double>& v) {
  long double s = 0;
  for (double e : v) s += e;
  return s;
}

double abs_sum(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += std::abs(e);
  return s;
}

std::vector<int64_t> random_shape(Rng& rng, int64_t rank, int64_t max_extent) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(1, max_extent);
  return shape;
}

// A random subset of axes in random order, each positive or negative; empty means all axes.
// A 0-d tensor sometimes gets axis 0 or -1, which name its single (implicit) axis.
std::vector<int64_t> random_axes(Rng& rng, int64_t rank) {
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < rank; ++i) {
    if (rng.integer(0, 1)) axes.push_back(rng.integer(0, 1) ? i : i - rank);
  }
  if (rank == 0 && rng.integer(0, 1)) axes.push_back(rng.integer(-1, 0));
  std::shuffle(axes.begin(), axes.end(), rng.engine());
  return axes;
}

// Runs body(case) for every dtype, layout and keepdims on random shapes, plus a few large
// shapes (long rows, long columns, one long vector) that take the split and pairwise paths.
template <class Body>
void for_random_cases(Rng& rng, Device device, const std::vector<DType>& dtypes, Body body,
                      double lo = -3.0, double hi = 3.0, int64_t max_extent = 5) {
  for (DType dtype : dtypes) {
    for (Layout layout : kLayouts) {
      for (bool keepdims : {false, true}) {
        const int64_t rank = rng.integer(0, 4);
        Tensor x = random_tensor(rng, random_shape(rng, rank, max_extent), dtype, lo, hi, layout)
                       .to(device);
        body(Case{x, to_ref(x), random_axes(rng, rank), keepdims});
      }
    }
  }
  if (max_extent < 5) return;  // ops whose values grow with the count (prod) stay small
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> large = {
      {{70000}, {}}, {{1500, 40}, {0}}, {{40, 1500}, {-1}}, {{20, 300, 12}, {0, 2}}};
  for (DType dtype : {DType::F32, DType::F64}) {
    for (const auto& [shape, axes] : large) {
      const Layout layout = kLayouts[rng.integer(0, 2)];
      Tensor x = to_device_keeping_layout(random_tensor(rng, shape, dtype, lo, hi, layout), device);
      body(Case{x, to_ref(x), axes, rng.integer(0, 1) == 1});
    }
  }
}

void expect_dtype(const Tensor& y, DType expected, const Case& c) {
  EXPECT_EQ(y.dtype(), expected) << "input " << dtype_name(c.x.dtype());
}

// Tolerance for a sum-like result: per-group rounding bound of the accumulation (atol, the
// largest over the outputs, scaled by `scale`) plus rounding to the output dtype (rtol).
Tolerance sum_tolerance(const Groups& g, DType input, DType output, double scale = 1.0) {
  double atol = 0.0;
  for (const auto& v : g.values) {
    atol = std::max(atol, compute_roundoff(input) * sum_depth(v.size()) * abs_sum(v) * scale);
  }
  if (!is_floating(output)) return {0.0, 0.0};
  return {unit_roundoff(output) + compute_roundoff(input), atol + underflow_error(output)};
}

void check_sum(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const DType in = c.x.dtype();
    const DType out = is_floating(in) ? in : DType::I64;
    Tensor y = sum(c.x, c.axes, c.keepdims);
    expect_dtype(y, out, c);
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    EXPECT_CLOSE_TO_REF(
        y, reduce_groups(g, [](const auto& v) { return static_cast<double>(exact_sum(v)); }),
        sum_tolerance(g, in, out));
  });
}

void check_mean(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const DType in = c.x.dtype();
    const DType out = to_floating(in);
    Tensor y = mean(c.x, c.axes, c.keepdims);
    expect_dtype(y, out, c);
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    Tolerance tol = {0.0, 0.0};
    for (const auto& v : g.values) {
      // The sum's bound divided by the count; the division rounds once more (rtol).
      const double n = static_cast<double>(v.size());
      tol.atol = std::max(tol.atol, compute_roundoff(in) * sum_depth(v.size()) * abs_sum(v) / n);
    }
    tol.rtol = unit_roundoff(out) + 2 * compute_roundoff(in);
    tol.atol += underflow_error(out);
    EXPECT_CLOSE_TO_REF(
        y,
        reduce_groups(g,
                      [](const auto& v) { return static_cast<double>(exact_sum(v) / v.size()); }),
        tol);
  });
}

void check_prod(Rng& rng, Device device) {
  for_random_cases(
      rng, device, kAllReduceDTypes,
      [&](const Case& c) {
        const DType in = c.x.dtype();
        const DType out = is_floating(in) ? in : DType::I64;
        Tensor y = prod(c.x, c.axes, c.keepdims);
        expect_dtype(y, out, c);
        const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
        size_t longest = 0;
        for (const auto& v : g.values) longest = std::max(longest, v.size());
        Ref expected = reduce_groups(g, [&](const std::vector<double>& v) {
          if (!is_floating(in)) {
            // Integer products wrap around in 64 bits.
            uint64_t p = 1;
            for (double e : v) p *= static_cast<uint64_t>(static_cast<int64_t>(e));
            return static_cast<double>(static_cast<int64_t>(p));
          }
          long double p = 1;
          for (double e : v) p *= e;
          return static_cast<double>(p);
        });
        // Each multiplication rounds relative to the running product: n roundings at most.
        const Tolerance tol =
            is_floating(out) ? Tolerance{unit_roundoff(out) + compute_roundoff(in) *
                                                                  static_cast<double>(longest + 1),
                                         underflow_error(out)}
                             : Tolerance{0.0, 0.0};
        EXPECT_CLOSE_TO_REF(y, expected, tol);
      },
      -1.5, 1.5, 3);
}

void check_max_min(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    Tensor hi = max(c.x, c.axes, c.keepdims), lo = min(c.x, c.axes, c.keepdims);
    expect_dtype(hi, c.x.dtype(), c);
    expect_dtype(lo, c.x.dtype(), c);
    EXPECT_CLOSE_TO_REF(
        hi, reduce_groups(g, [](const auto& v) { return *std::max_element(v.begin(), v.end()); }),
        kExact);
    EXPECT_CLOSE_TO_REF(
        lo, reduce_groups(g, [](const auto& v) { return *std::min_element(v.begin(), v.end()); }),
        kExact);
  });
}

void check_argmax_argmin(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    // A single axis, or none (the flattened input). Ties are common for integers and bool.
    std::optional<int64_t> axis;
    std::vector<int64_t> axes;
    if (c.x.rank() > 0 && rng.integer(0, 2) > 0) {
      axis = rng.integer(-c.x.rank(), c.x.rank() - 1);
      axes = {*axis};
    }
    const Groups g = group_by_output(c.ref, axes, c.keepdims);
    // The first position of the extreme value: max_element/min_element return the first.
    Ref first_max = reduce_groups(g, [](const auto& v) {
      return static_cast<double>(std::max_element(v.begin(), v.end()) - v.begin());
    });
    Ref first_min = reduce_groups(g, [](const auto& v) {
      return static_cast<double>(std::min_element(v.begin(), v.end()) - v.begin());
    });
    Tensor imax = argmax(c.x, axis, c.keepdims), imin = argmin(c.x, axis, c.keepdims);
    expect_dtype(imax, DType::I64, c);
    expect_dtype(imin, DType::I64, c);
    EXPECT_CLOSE_TO_REF(imax, first_max, kExact);
    EXPECT_CLOSE_TO_REF(imin, first_min, kExact);
  });
}

void check_var_std(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const DType in = c.x.dtype();
    const DType out = to_floating(in);
    const int64_t correction = rng.integer(0, 1);
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    const double u = compute_roundoff(in);
    Tolerance var_tol{0.0, 0.0}, std_tol{0.0, 0.0};
    Ref expected_var = reduce_groups(g, [&](const std::vector<double>& v) {
      const auto n = static_cast<int64_t>(v.size());
      const long double mu = exact_sum(v) / n;
      long double m2 = 0;
      for (double e : v) m2 += (e - mu) * (e - mu);
      const auto dof = static_cast<double>(std::max<int64_t>(0, n - correction));
      // Two-pass bound: the computed mean is off by at most dmu, which adds n * dmu^2 to the
      // squared deviations; their sum has the pairwise bound relative to itself.
      const double dmu = u * sum_depth(v.size()) * abs_sum(v) / static_cast<double>(n);
      if (dof > 0) {
        const double shift = static_cast<double>(n) * dmu * dmu / dof;
        var_tol.atol = std::max(var_tol.atol, shift);
        std_tol.atol = std::max(std_tol.atol, std::sqrt(shift));
      }
      return static_cast<double>(m2 / dof);
    });
    var_tol.rtol = u * (sum_depth(g.values.front().size()) + 4) + unit_roundoff(out);
    std_tol.rtol = var_tol.rtol;
    var_tol.atol += underflow_error(out);
    std_tol.atol += underflow_error(out);
    Ref expected_std = expected_var;
    for (double& e : expected_std.data) e = std::sqrt(e);
    Tensor v = var(c.x, c.axes, correction, c.keepdims);
    Tensor s = tenflowers::std(c.x, c.axes, correction, c.keepdims);
    expect_dtype(v, out, c);
    expect_dtype(s, out, c);
    EXPECT_CLOSE_TO_REF(v, expected_var, var_tol);
    EXPECT_CLOSE_TO_REF(s, expected_std, std_tol);
  });
}

void check_logsumexp(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const DType in = c.x.dtype();
    const DType out = to_floating(in);
    const double u = compute_roundoff(in);
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    double atol = 0.0;
    Ref expected = reduce_groups(g, [&](const std::vector<double>& v) {
      const double m = *std::max_element(v.begin(), v.end());
      long double s = 0;
      double spread = 0;
      for (double e : v) {
        s += std::exp(static_cast<long double>(e - m));
        spread = std::max(spread, m - e);
      }
      // exp(x - m) is off by u * (|x - m| + 2) relative; the sum of these positive terms has
      // the pairwise bound; log turns relative error of the sum into absolute error.
      atol = std::max(atol, u * (spread + 2 + sum_depth(v.size())));
      return static_cast<double>(m + std::log(s));
    });
    Tensor y = logsumexp(c.x, c.axes, c.keepdims);
    expect_dtype(y, out, c);
    const Tolerance tol{unit_roundoff(out) + u, atol};
    EXPECT_CLOSE_TO_REF(y, expected, tol);
  });
}

void check_all_any(Rng& rng, Device device) {
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    Tensor a = all(c.x, c.axes, c.keepdims), o = any(c.x, c.axes, c.keepdims);
    expect_dtype(a, DType::Bool, c);
    expect_dtype(o, DType::Bool, c);
    EXPECT_CLOSE_TO_REF(a,
                        reduce_groups(g,
                                      [](const auto& v) {
                                        return std::all_of(v.begin(), v.end(),
                                                           [](double e) { return e != 0; })
                                                   ? 1.0
                                                   : 0.0;
                                      }),
                        kExact);
    EXPECT_CLOSE_TO_REF(o,
                        reduce_groups(g,
                                      [](const auto& v) {
                                        return std::any_of(v.begin(), v.end(),
                                                           [](double e) { return e != 0; })
                                                   ? 1.0
                                                   : 0.0;
                                      }),
                        kExact);
  });
}

void check_norm(Rng& rng, Device device) {
  const double inf = std::numeric_limits<double>::infinity();
  for_random_cases(rng, device, kAllReduceDTypes, [&](const Case& c) {
    const DType in = c.x.dtype();
    const DType out = to_floating(in);
    const double u = compute_roundoff(in);
    const Groups g = group_by_output(c.ref, c.axes, c.keepdims);
    for (double p : {2.0, 1.0, inf, -inf, 0.0, 3.0, 0.5}) {
      SCOPED_TRACE("p = " + std::to_string(p));
      size_t longest = 0;
      for (const auto& v : g.values) longest = std::max(longest, v.size());
      Ref expected = reduce_groups(g, [&](const std::vector<double>& v) {
        if (std::isinf(p)) {
          double best = p > 0 ? 0.0 : inf;
          for (double e : v)
            best = p > 0 ? std::max(best, std::abs(e)) : std::min(best, std::abs(e));
          return best;
        }
        long double s = 0;
        for (double e : v) s += p == 0.0 ? (e != 0 ? 1 : 0) : std::pow(std::abs(e), p);
        return static_cast<double>(p == 0.0 ? s : std::pow(s, 1.0L / p));
      });
      // A sum of non-negative terms (each pow within 2u) has the pairwise bound relative to
      // itself; the final root scales relative error by 1/p and rounds once more.
      Tolerance tol{0.0, underflow_error(out)};
      if (std::isinf(p)) {
        tol.rtol = 0.0;
      } else if (p == 0.0) {
        tol.rtol = 0.0;
      } else {
        tol.rtol =
            u * (sum_depth(longest) + 2) * std::max(1.0, 1.0 / p) + 2 * u + unit_roundoff(out);
      }
      overflow_to_inf(expected, out);  // (sum |x|^0.5)^2 can exceed f16's range
      Tensor y = norm(c.x, p, c.axes, c.keepdims);
      expect_dtype(y, out, c);
      EXPECT_CLOSE_TO_REF(y, expected, tol);
    }
  });
}

}  // namespace

void register_reduction_checks(CheckRegistry& r) {
  r.add({"sum"}, check_sum);
  r.add({"mean"}, check_mean);
  r.add({"prod"}, check_prod);
  r.add({"max", "min"}, check_max_min);
  r.add({"argmax", "argmin"}, check_argmax_argmin);
  r.add({"var", "std"}, check_var_std);
  r.add({"logsumexp"}, check_logsumexp);
  r.add({"all", "any"}, check_all_any);
  r.add({"norm"}, check_norm);
}

}  // namespace tenflowers::testing
