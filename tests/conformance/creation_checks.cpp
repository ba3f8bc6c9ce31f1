// Checks for creation ops (exact values against float64 references rounded to the dtype) and
// random ops (statistical tests that fail when a distribution is wrong, plus determinism).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numbers>
#include <numeric>

#include "tenflowers/core/convert.hpp"
#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const DType kAllDTypes[] = {DType::Bool, DType::U8,   DType::I8,  DType::I32, DType::I64,
                            DType::F16,  DType::BF16, DType::F32, DType::F64};
const DType kFloatDTypes[] = {DType::F16, DType::BF16, DType::F32, DType::F64};
const Tolerance kExact{0.0, 0.0};

// A value as stored in `dtype` (the same conversion every cast uses), read back as a double.
double round_to(DType dtype, double v) {
  double out = 0.0;
  TF_DISPATCH_ALL(dtype, "round_to", [&] { out = convert<double>(convert<scalar_t>(v)); });
  return out;
}

// A value that `dtype` holds exactly: small integers for integer dtypes, 0/1 for bool.
double random_value(Rng& rng, DType dtype) {
  if (dtype == DType::Bool) return static_cast<double>(rng.integer(0, 1));
  if (dtype == DType::U8) return static_cast<double>(rng.integer(0, 255));
  if (is_integral(dtype)) return static_cast<double>(rng.integer(-100, 100));
  return round_to(dtype, rng.uniform(-50.0, 50.0));
}

std::vector<int64_t> random_shape(Rng& rng) {
  std::vector<int64_t> shape(static_cast<size_t>(rng.integer(0, 4)));
  for (auto& d : shape) d = rng.integer(0, 5);
  return shape;
}

void check_fill(Rng& rng, Device device) {
  for (DType dtype : kAllDTypes) {
    for (int trial = 0; trial < 3; ++trial) {
      const std::vector<int64_t> shape = random_shape(rng);
      const double value = random_value(rng, dtype);
      Tensor t = full(Dims(shape), value, dtype, device);
      EXPECT_EQ(t.dtype(), dtype);
      EXPECT_EQ(t.device(), device);
      EXPECT_CLOSE_TO_REF(t, Ref(shape, std::vector<double>(Ref(shape).data.size(), value)),
                          kExact);
      EXPECT_CLOSE_TO_REF(zeros(Dims(shape), dtype, device), Ref(shape), kExact);
      Ref ones_ref(shape, std::vector<double>(Ref(shape).data.size(), 1.0));
      EXPECT_CLOSE_TO_REF(ones(Dims(shape), dtype, device), ones_ref, kExact);
    }
    // The *_like functions take shape, dtype and device from any layout of their argument.
    for (Layout layout : {Layout::Contiguous, Layout::Transposed, Layout::Strided}) {
      std::vector<int64_t> shape = {rng.integer(1, 4), rng.integer(1, 4), rng.integer(1, 4)};
      Tensor like = random_tensor(rng, shape, dtype, -3, 3, layout).to(device);
      const double value = random_value(rng, dtype);
      Tensor t = full_like(like, value);
      EXPECT_EQ(t.dtype(), dtype);
      EXPECT_EQ(t.device(), device);
      EXPECT_FALSE(t.shares_storage(like));
      EXPECT_CLOSE_TO_REF(t, Ref(shape, std::vector<double>(Ref(shape).data.size(), value)),
                          kExact);
      EXPECT_CLOSE_TO_REF(zeros_like(like), Ref(shape), kExact);
      EXPECT_CLOSE_TO_REF(ones_like(like),
                          Ref(shape, std::vector<double>(Ref(shape).data.size(), 1.0)), kExact);
    }
  }
  // Out-of-range values convert as a cast does: saturating, NaN to 0.
  EXPECT_EQ(full({2}, 1e10, DType::I32, device).to_vector<int32_t>(),
            (std::vector<int32_t>{2147483647, 2147483647}));
  EXPECT_EQ(full({1}, NAN, DType::I64, device).item<int64_t>(), 0);
  EXPECT_TRUE(std::isnan(full({1}, NAN, DType::F16, device).item<double>()));
  EXPECT_THROW(full({2, -1}, 1.0, DType::F32, device), ShapeError);
}

// Reference for arange: start + i * step for i < ceil((stop - start) / step), rounded.
Ref arange_ref(double start, double stop, double step, DType dtype) {
  const auto count = static_cast<int64_t>(std::max(0.0, std::ceil((stop - start) / step)));
  Ref r({count});
  for (int64_t i = 0; i < count; ++i) {
    r.data[static_cast<size_t>(i)] = round_to(dtype, start + static_cast<double>(i) * step);
  }
  return r;
}

void check_arange(Rng& rng, Device device) {
  for (DType dtype : kAllDTypes) {
    if (dtype == DType::Bool) continue;  // only 0 and 1 fit; covered below
    for (int trial = 0; trial < 4; ++trial) {
      double start, stop, step;
      if (is_integral(dtype)) {
        const int64_t lo = dtype == DType::U8 ? 0 : -100;
        start = static_cast<double>(rng.integer(lo, 100));
        stop = static_cast<double>(rng.integer(lo, 100));
        step = static_cast<double>(rng.integer(1, 7)) * (stop >= start ? 1 : -1);
      } else {
        start = rng.uniform(-20, 20);
        stop = rng.uniform(-20, 20);
        step = rng.uniform(0.1, 3.0) * (trial % 2 ? 1 : -1);  // sometimes empty
      }
      Tensor t = arange(start, stop, step, dtype, device);
      EXPECT_EQ(t.dtype(), dtype);
      EXPECT_CLOSE_TO_REF(t, arange_ref(start, stop, step, dtype), kExact)
          << "arange(" << start << ", " << stop << ", " << step << ")";
    }
  }
  const int64_t n = rng.integer(0, 50);
  EXPECT_CLOSE_TO_REF(arange(n, DType::I64, device), arange_ref(0, double(n), 1, DType::I64),
                      kExact);
  EXPECT_EQ(arange(n).dtype(), DType::I64);
  EXPECT_CLOSE_TO_REF(arange(0, 2, 1, DType::Bool, device), Ref({2}, {0, 1}), kExact);
  // Integer dtypes count exactly beyond the 53 bits a double holds.
  const double big = 9007199254740992.0;  // 2^53; big + 14 is a double, big + 3 is not
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 5; ++i) expected.push_back((int64_t{1} << 53) + 3 * i);
  EXPECT_EQ(arange(big, big + 14, 3, DType::I64, device).to_vector<int64_t>(), expected);
  EXPECT_THROW(arange(0, 5, 0, DType::F32, device), InvalidArgument);
  EXPECT_THROW(arange(0, INFINITY, 1, DType::F32, device), InvalidArgument);
  EXPECT_THROW(arange(0, 300, 1, DType::I8, device), InvalidArgument);  // would wrap
}

void check_linspace(Rng& rng, Device device) {
  for (DType dtype : kFloatDTypes) {
    for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{2}, rng.integer(3, 200)}) {
      const double start = round_to(dtype, rng.uniform(-10, 10));
      const double stop = round_to(dtype, rng.uniform(-10, 10));
      Tensor t = linspace(start, stop, count, dtype, device);
      Ref expected({count});
      for (int64_t i = 0; i < count; ++i) {
        expected.data[static_cast<size_t>(i)] =
            count == 1 ? start
                       : start + (stop - start) * static_cast<double>(i) / double(count - 1);
      }
      EXPECT_CLOSE_TO_REF(t, expected, tolerance_for(dtype));
      if (count >= 1) {
        EXPECT_EQ(t.at<double>({0}), start);  // endpoints are exact
      }
      if (count >= 2) {
        EXPECT_EQ(t.at<double>({-1}), stop);
      }
    }
  }
  // Integer dtypes with a whole step are exact.
  for (DType dtype : {DType::U8, DType::I8, DType::I32, DType::I64}) {
    const int64_t count = rng.integer(2, 20), step = rng.integer(0, 5);
    const double start = static_cast<double>(rng.integer(0, 20));
    const double stop = start + static_cast<double>(step * (count - 1));
    Ref expected({count});
    for (int64_t i = 0; i < count; ++i) {
      expected.data[static_cast<size_t>(i)] = start + static_cast<double>(i * step);
    }
    EXPECT_CLOSE_TO_REF(linspace(start, stop, count, dtype, device), expected, kExact);
  }
  EXPECT_CLOSE_TO_REF(linspace(0, 1, 3, DType::Bool, device), Ref({3}, {0, 1, 1}), kExact);
  EXPECT_THROW(linspace(0, 1, -1, DType::F32, device), InvalidArgument);
  EXPECT_THROW(linspace(0, NAN, 3, DType::F32, device), InvalidArgument);
}

void check_eye(Rng& rng, Device device) {
  for (DType dtype : kAllDTypes) {
    const int64_t rows = rng.integer(0, 6), cols = rng.integer(0, 6);
    Ref expected({rows, cols});
    for (int64_t i = 0; i < std::min(rows, cols); ++i) expected.at({i, i}) = 1.0;
    EXPECT_CLOSE_TO_REF(eye(rows, cols, dtype, device), expected, kExact);
    Ref square({rows, rows});
    for (int64_t i = 0; i < rows; ++i) square.at({i, i}) = 1.0;
    EXPECT_CLOSE_TO_REF(eye(rows, {}, dtype, device), square, kExact);
  }
  EXPECT_THROW(eye(-1, {}, DType::F32, device), InvalidArgument);
}

// ---- random ---------------------------------------------------------------------------------

constexpr int64_t kSamples = 100000;
constexpr double kSigmas = 6.0;  // a correct generator fails a check with probability ~2e-9

// The largest relative rounding error when storing a double in `dtype` (16-bit floats round
// through float first).
double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::F16:
      return std::ldexp(1.0, -11) + std::ldexp(1.0, -24);
    case DType::BF16:
      return std::ldexp(1.0, -8) + std::ldexp(1.0, -24);
    case DType::F32:
      return std::ldexp(1.0, -24);
    default:
      return std::ldexp(1.0, -53);
  }
}

struct Sample {
  std::vector<double> x;
  double mean = 0, var = 0, max_abs = 0;
  // Bound on how far rounding to the dtype moves the mean (and, squared, the variance).
  double rounding = 0;
};

Sample summarize(const Tensor& t) {
  Sample s;
  s.x = t.to_vector<double>();
  const auto n = static_cast<double>(s.x.size());
  for (double v : s.x) {
    s.mean += v;
    s.max_abs = std::max(s.max_abs, std::abs(v));
  }
  s.mean /= n;
  for (double v : s.x) s.var += (v - s.mean) * (v - s.mean);
  s.var /= n - 1;
  s.rounding = s.max_abs * unit_roundoff(t.dtype()) + (t.dtype() == DType::F16 ? 3e-8 : 0.0);
  return s;
}

// Sample mean and variance against the distribution's, within kSigmas standard errors (plus the
// effect of rounding to the dtype). fourth_moment is the central E[(x - mean)^4].
void expect_moments(const Sample& s, double mean, double var, double fourth_moment,
                    const std::string& what) {
  const double n = static_cast<double>(s.x.size());
  const double mean_error = kSigmas * std::sqrt(var / n) + s.rounding;
  EXPECT_NEAR(s.mean, mean, mean_error) << what << ": sample mean";
  const double var_error = kSigmas * std::sqrt((fourth_moment - var * var) / n) +
                           2 * std::sqrt(var) * s.rounding + s.rounding * s.rounding;
  EXPECT_NEAR(s.var, var, var_error) << what << ": sample variance";
}

// A frequency against its probability, within kSigmas binomial standard errors. `slack` bounds
// the probability that rounding to the dtype moves a value across the counted interval's edges.
void expect_frequency(int64_t hits, int64_t n, double p, const std::string& what,
                      double slack = 0.0) {
  const double se = std::sqrt(p * (1 - p) / static_cast<double>(n));
  EXPECT_NEAR(static_cast<double>(hits) / static_cast<double>(n), p, kSigmas * se + slack + 1e-12)
      << what;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || !(a.shape() == b.shape())) return false;
  const Tensor ha = a.cpu().contiguous(), hb = b.cpu().contiguous();
  return std::memcmp(ha.data_ptr(), hb.data_ptr(), ha.nbytes()) == 0;
}

// The same seed gives the same tensor whatever the thread count; for elementwise samplers a
// shorter tensor is a prefix of a longer one (element i depends only on the seed, the offset and
// i); the global generator replays after manual_seed and gives fresh numbers on each call.
template <class Make>
void check_determinism(Rng& rng, Make make, bool elementwise = true) {
  const uint64_t seed = rng.engine()();
  const int saved_threads = get_num_threads();
  set_num_threads(1);
  Tensor one_thread = make(Dims{kSamples}, seed);
  set_num_threads(2);
  Tensor two_threads = make(Dims{kSamples}, seed);
  set_num_threads(saved_threads);
  EXPECT_TRUE(bitwise_equal(one_thread, two_threads)) << "results depend on the thread count";
  EXPECT_TRUE(bitwise_equal(make(Dims{kSamples}, seed), one_thread));
  if (elementwise) {
    const int64_t prefix = rng.integer(1, 99);
    EXPECT_TRUE(bitwise_equal(make(Dims{prefix}, seed), one_thread.slice(0, 0, prefix)))
        << "the first " << prefix << " elements differ from a longer draw";
  }
  manual_seed(seed);
  Tensor first = make(Dims{1000}, std::nullopt), second = make(Dims{1000}, std::nullopt);
  manual_seed(seed);
  EXPECT_TRUE(bitwise_equal(make(Dims{1000}, std::nullopt), first));
  EXPECT_TRUE(bitwise_equal(make(Dims{1000}, std::nullopt), second));
  EXPECT_FALSE(bitwise_equal(first, second)) << "consecutive calls repeat their numbers";
}

void check_uniform(Rng& rng, Device device) {
  for (DType dtype : kFloatDTypes) {
    const double low = round_to(dtype, rng.uniform(-5, 5));
    const double high = round_to(dtype, low + rng.uniform(0.5, 10));
    const std::string what = "uniform(" + std::to_string(low) + ", " + std::to_string(high) + ") " +
                             std::string(dtype_name(dtype));
    Tensor t = uniform({250, kSamples / 250}, low, high, dtype, rng.engine()(), device);
    EXPECT_EQ(t.dtype(), dtype);
    EXPECT_EQ(t.shape(), Dims({250, kSamples / 250}));
    const Sample s = summarize(t);
    const double width = high - low;
    expect_moments(s, (low + high) / 2, width * width / 12, std::pow(width, 4) / 80, what);
    int64_t outside = 0, below_middle = 0;
    for (double v : s.x) {
      outside += v < low || v >= high;
      below_middle += v < (low + high) / 2;
    }
    EXPECT_EQ(outside, 0) << what << ": values outside [low, high)";
    expect_frequency(below_middle, kSamples, 0.5, what + ": values below the middle",
                     2 * s.rounding / width);
    check_determinism(rng, [&](Dims shape, std::optional<uint64_t> seed) {
      return uniform(shape, low, high, dtype, seed, device);
    });
  }
  EXPECT_EQ(uniform({}, 0, 1, DType::F32, 1, device).numel(), 1);
  EXPECT_EQ(uniform({3, 0}, 0, 1, DType::F32, 1, device).numel(), 0);
  EXPECT_THROW(uniform({2}, 1, 1, DType::F32, {}, device), InvalidArgument);
  EXPECT_THROW(uniform({2}, 2, 1, DType::F32, {}, device), InvalidArgument);
  EXPECT_THROW(uniform({2}, 0, 1, DType::I32, {}, device), DTypeError);
}

double standard_normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

void check_normal(Rng& rng, Device device) {
  for (DType dtype : kFloatDTypes) {
    const double mean = rng.uniform(-3, 3), stddev = rng.uniform(0.1, 4);
    const std::string what = "normal(" + std::to_string(mean) + ", " + std::to_string(stddev) +
                             ") " + std::string(dtype_name(dtype));
    Tensor t = normal({kSamples}, mean, stddev, dtype, rng.engine()(), device);
    EXPECT_EQ(t.dtype(), dtype);
    const Sample s = summarize(t);
    const double var = stddev * stddev;
    expect_moments(s, mean, var, 3 * var * var, what);
    // The shape of the distribution: the share within one standard deviation and in each tail.
    int64_t within_one = 0, above_two = 0;
    for (double v : s.x) {
      within_one += std::abs(v - mean) < stddev;
      above_two += v > mean + 2 * stddev;
    }
    // Rounding moves a value across an edge z only from within the rounding band around it.
    auto band = [&](double z) {
      return 2 * s.rounding / stddev * std::exp(-z * z / 2) / std::sqrt(2 * std::numbers::pi);
    };
    expect_frequency(within_one, kSamples, standard_normal_cdf(1) - standard_normal_cdf(-1),
                     what + ": share within one stddev", 2 * band(1));
    expect_frequency(above_two, kSamples, 1 - standard_normal_cdf(2),
                     what + ": share above two stddev", band(2));
    check_determinism(rng, [&](Dims shape, std::optional<uint64_t> seed) {
      return normal(shape, mean, stddev, dtype, seed, device);
    });
  }
  Tensor constant = normal({5}, 2.5, 0.0, DType::F32, 1, device);
  EXPECT_EQ(constant.to_vector<float>(), std::vector<float>(5, 2.5f));
  EXPECT_THROW(normal({2}, 0, -1, DType::F32, {}, device), InvalidArgument);
  EXPECT_THROW(normal({2}, 0, 1, DType::I64, {}, device), DTypeError);
}

void check_truncated_normal(Rng& rng, Device device) {
  // Moments of a standard normal truncated to [-2, 2].
  const double a = 2.0;
  const double density = std::exp(-a * a / 2) / std::sqrt(2 * std::numbers::pi);
  const double mass = standard_normal_cdf(a) - standard_normal_cdf(-a);
  const double var1 = 1 - 2 * a * density / mass;
  const double fourth1 = 3 * var1 - 2 * a * a * a * density / mass;
  for (DType dtype : kFloatDTypes) {
    const double mean = rng.uniform(-3, 3), stddev = rng.uniform(0.1, 4);
    const std::string what = "truncated_normal(" + std::to_string(mean) + ", " +
                             std::to_string(stddev) + ") " + std::string(dtype_name(dtype));
    Tensor t = truncated_normal({kSamples}, mean, stddev, dtype, rng.engine()(), device);
    const Sample s = summarize(t);
    const double var = stddev * stddev;
    expect_moments(s, mean, var1 * var, fourth1 * var * var, what);
    int64_t outside = 0, beyond_one = 0;
    for (double v : s.x) {
      outside += std::abs(v - mean) > a * stddev + s.rounding;
      beyond_one += v > mean + stddev;
    }
    EXPECT_EQ(outside, 0) << what << ": values beyond two stddev";
    const double band =
        2 * s.rounding / stddev * std::exp(-0.5) / std::sqrt(2 * std::numbers::pi) / mass;
    expect_frequency(beyond_one, kSamples, (standard_normal_cdf(a) - standard_normal_cdf(1)) / mass,
                     what + ": share above one stddev", band);
    check_determinism(rng, [&](Dims shape, std::optional<uint64_t> seed) {
      return truncated_normal(shape, mean, stddev, dtype, seed, device);
    });
  }
  EXPECT_THROW(truncated_normal({2}, 0, -0.5, DType::F32, {}, device), InvalidArgument);
}

void check_bernoulli(Rng& rng, Device device) {
  for (DType dtype : kAllDTypes) {
    const double p = rng.uniform(0.05, 0.95);
    Tensor t = bernoulli({kSamples / 100, 100}, p, dtype, rng.engine()(), device);
    EXPECT_EQ(t.dtype(), dtype);
    int64_t ones = 0, other = 0;
    for (double v : t.to_vector<double>()) {
      ones += v == 1.0;
      other += v != 0.0 && v != 1.0;
    }
    EXPECT_EQ(other, 0) << "bernoulli values other than 0 and 1";
    expect_frequency(ones, kSamples, p,
                     "bernoulli(" + std::to_string(p) + ") " + std::string(dtype_name(dtype)));
    check_determinism(rng, [&](Dims shape, std::optional<uint64_t> seed) {
      return bernoulli(shape, p, dtype, seed, device);
    });
  }
  EXPECT_CLOSE_TO_REF(bernoulli({7}, 0.0, DType::F32, {}, device), Ref({7}), kExact);
  EXPECT_CLOSE_TO_REF(bernoulli({7}, 1.0, DType::I32, {}, device),
                      Ref({7}, std::vector<double>(7, 1.0)), kExact);
  EXPECT_THROW(bernoulli({2}, 1.5, DType::F32, {}, device), InvalidArgument);
  EXPECT_THROW(bernoulli({2}, -0.1, DType::F32, {}, device), InvalidArgument);
  EXPECT_THROW(bernoulli({2}, NAN, DType::F32, {}, device), InvalidArgument);
}

void check_permutation(Rng& rng, Device device) {
  for (int64_t n : {int64_t{0}, int64_t{1}, rng.integer(2, 50), int64_t{kSamples}}) {
    Tensor t = permutation(n, rng.engine()(), device);
    EXPECT_EQ(t.dtype(), DType::I64);
    EXPECT_EQ(t.shape(), Dims({n}));
    std::vector<int64_t> values = t.to_vector<int64_t>();
    std::sort(values.begin(), values.end());
    std::vector<int64_t> expected(static_cast<size_t>(n));
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(values, expected) << "permutation(" << n << ") is not a permutation";
  }
  // Each of the 24 orders of 4 elements is equally likely: a chi-square test with 23 degrees of
  // freedom; 90 is exceeded with probability below 1e-9.
  constexpr int64_t kDraws = 24000;
  std::map<std::vector<int64_t>, int64_t> counts;
  manual_seed(rng.engine()());
  for (int64_t k = 0; k < kDraws; ++k) ++counts[permutation(4, {}, device).to_vector<int64_t>()];
  EXPECT_EQ(counts.size(), 24u);
  double chi_square = 0.0;
  const double expected_count = kDraws / 24.0;
  for (const auto& [order, count] : counts) {
    chi_square +=
        (double(count) - expected_count) * (double(count) - expected_count) / expected_count;
  }
  EXPECT_LT(chi_square, 90.0) << "permutation orders are not uniform";
  check_determinism(
      rng,
      [&](Dims shape, std::optional<uint64_t> seed) { return permutation(shape[0], seed, device); },
      false);
  EXPECT_THROW(permutation(-1, {}, device), InvalidArgument);
}

}  // namespace

void register_creation_checks(CheckRegistry& r) {
  r.add({"fill"}, check_fill);
  r.add({"arange"}, check_arange);
  r.add({"linspace"}, check_linspace);
  r.add({"eye"}, check_eye);
  r.add({"uniform"}, check_uniform);
  r.add({"normal"}, check_normal);
  r.add({"truncated_normal"}, check_truncated_normal);
  r.add({"bernoulli"}, check_bernoulli);
  r.add({"permutation"}, check_permutation);
}

}  // namespace tenflowers::testing
