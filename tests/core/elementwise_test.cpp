// Unit tests of the elementwise ops: promotion rules, scalar operands, errors, empty and 0-d
// tensors, special values, the parallel and chunked paths on large inputs, every instruction
// set variant of the kernels (with measured ULP bounds) and the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <tenflowers/tenflowers.hpp>

#include "src/backends/cpu/elementwise_loops.hpp"
#include "src/backends/cpu/elementwise_table.hpp"

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> values(const Tensor& t) {
  return t.to_vector<double>();
}

// Expects equal values, NaN matching NaN.
void expect_values(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> got = values(t);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": got " << got[i];
    } else {
      EXPECT_EQ(got[i], expected[i]) << "at " << i;
    }
  }
}

TEST(ElementwisePromotion, MixedDTypes) {
  const Tensor i32 = Tensor::from_vec({1, 2, 3}, {3});
  const Tensor f32 = Tensor::from_vec({0.5f, 0.25f, 2.f}, {3});
  EXPECT_EQ((i32 + f32).dtype(), DType::F32);
  expect_values(i32 + f32, {1.5, 2.25, 5});

  const Tensor u8 = Tensor::from_vec<uint8_t>({200, 100, 255}, {3});
  const Tensor i8 = Tensor::from_vec<int8_t>({100, -100, -128}, {3});
  EXPECT_EQ((u8 + i8).dtype(), DType::I32);
  expect_values(u8 + i8, {300, 0, 127});  // no wraparound: i32 holds the result

  const Tensor t = Tensor::from_vec<uint8_t>({1, 1, 0, 0}, {4}).cast(DType::Bool);
  const Tensor f = Tensor::from_vec<uint8_t>({1, 0, 1, 0}, {4}).cast(DType::Bool);
  EXPECT_EQ((t + f).dtype(), DType::Bool);
  expect_values(t + f, {1, 1, 1, 0});  // logical or
  expect_values(t * f, {1, 0, 0, 0});  // logical and
  expect_values(tf::maximum(t, f), {1, 1, 1, 0});
  EXPECT_EQ((t + i8.slice(0, 0, 1)).dtype(), DType::I8);

  const Tensor h = Tensor::from_vec({1.f, 2.f}, {2}).cast(DType::F16);
  const Tensor b = Tensor::from_vec({1.f, 2.f}, {2}).cast(DType::BF16);
  EXPECT_EQ((h + b).dtype(), DType::F32);
  EXPECT_EQ((h + h).dtype(), DType::F16);
  EXPECT_EQ((Tensor::from_vec<int64_t>({1}, {1}) + Tensor::from_vec({1.0}, {1})).dtype(),
            DType::F64);
}

TEST(ElementwisePromotion, FloatMathOnIntegersComputesInF32) {
  const Tensor i = Tensor::from_vec({7, -7, 1}, {3});
  const Tensor two = Tensor::from_vec({2, 2, 4}, {3});
  EXPECT_EQ((i / two).dtype(), DType::F32);
  expect_values(i / two, {3.5, -3.5, 0.25});
  EXPECT_EQ(tf::exp(i).dtype(), DType::F32);
  EXPECT_EQ(tf::sqrt(Tensor::from_vec<uint8_t>({4}, {1})).item<float>(), 2.f);
  EXPECT_EQ(tf::atan2(i, two).dtype(), DType::F32);
  // Sign-like ops keep integers; rounding is the identity on them.
  EXPECT_EQ(tf::abs(i).dtype(), DType::I32);
  expect_values(tf::abs(i), {7, 7, 1});
  EXPECT_EQ(tf::floor(i).dtype(), DType::I32);
  expect_values(tf::round(i), {7, -7, 1});
  EXPECT_EQ(tf::relu(i).dtype(), DType::I32);
  EXPECT_EQ(tf::exp(Tensor::from_vec({1.0}, {1})).dtype(), DType::F64);
}

TEST(ElementwiseScalars, ScalarOperandsKeepTheTensorDType) {
  const Tensor f = Tensor::from_vec({1.f, 2.f}, {2});
  EXPECT_EQ((f + 2.0).dtype(), DType::F32);
  expect_values(f * 1.5 + 0.25, {1.75, 3.25});
  expect_values(2.0 - f, {1, 0});
  expect_values(1.0 / f, {1, 0.5});
  expect_values(3.0 * f, {3, 6});
  expect_values(f - 1.0, {0, 1});
  expect_values(f / 4.0, {0.25, 0.5});

  const Tensor i = Tensor::from_vec({1, 2}, {2});
  EXPECT_EQ((i + 2.0).dtype(), DType::I32);
  EXPECT_EQ((i + 2.5).dtype(), DType::F32);
  expect_values(i + 2.5, {3.5, 4.5});
  EXPECT_EQ((i / 2.0).dtype(), DType::F32);  // true division
  EXPECT_EQ(i.pow(2.0).dtype(), DType::I32);
  expect_values(i.pow(2.0), {1, 4});
  EXPECT_EQ(i.pow(0.5).dtype(), DType::F32);

  const Tensor h = f.cast(DType::F16);
  EXPECT_EQ((h * 3.0).dtype(), DType::F16);
  EXPECT_EQ((Tensor::from_vec<uint8_t>({1}, {1}).cast(DType::Bool) + 1.0).dtype(), DType::F32);

  const Tensor s = tf::scalar_like(i, 3.0);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.dtype(), DType::I32);
  EXPECT_EQ(s.item<int>(), 3);
  EXPECT_EQ(tf::scalar_like(i, 0.5).dtype(), DType::F32);
  EXPECT_EQ(tf::scalar_like(Tensor::from_vec({1.0}, {1}), 0.1).item<double>(), 0.1);
}

TEST(ElementwiseScalars, ZeroDimTensors) {
  const Tensor a = Tensor::from_scalar(2.0f);
  const Tensor b = Tensor::from_scalar(3.0f);
  EXPECT_EQ((a * b).rank(), 0);
  EXPECT_EQ((a * b).item<float>(), 6.f);
  EXPECT_EQ(tf::exp(a).rank(), 0);
  EXPECT_NEAR(tf::exp(a).item<float>(), std::exp(2.0), 1e-5);
  const Tensor v = Tensor::from_vec({1.f, 2.f, 3.f}, {3});
  EXPECT_EQ((v + a).shape(), tf::Dims({3}));
  expect_values(a - v, {1, 0, -1});
  expect_values(tf::where(Tensor::from_scalar(true), v, a), {1, 2, 3});
}

TEST(ElementwiseEmpty, EmptyTensorsGiveEmptyResults) {
  const Tensor e = Tensor::from_vec(std::vector<float>{}, {0, 3});
  EXPECT_EQ(tf::exp(e).shape(), tf::Dims({0, 3}));
  EXPECT_EQ((e + Tensor::from_vec({1.f, 2.f, 3.f}, {3})).shape(), tf::Dims({0, 3}));
  EXPECT_EQ((Tensor::from_vec(std::vector<float>{}, {0, 1}) + Tensor::from_vec({1.f, 2.f}, {1, 2}))
                .shape(),
            tf::Dims({0, 2}));
  EXPECT_EQ((e < e).dtype(), DType::Bool);
  EXPECT_EQ((e < e).numel(), 0);
  const Tensor ei = Tensor::from_vec(std::vector<int>{}, {0});
  EXPECT_EQ(tf::mod(ei, ei).numel(), 0);
  EXPECT_EQ(tf::where(e > tf::scalar_like(e, 0.0), e, e).shape(), tf::Dims({0, 3}));
  EXPECT_EQ(e.clamp(0.0, 1.0).shape(), tf::Dims({0, 3}));
}

TEST(ElementwiseErrors, ShapeMismatchNamesBothShapes) {
  const Tensor a = Tensor::from_vec({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  const Tensor b = Tensor::from_vec({1.f, 2.f, 3.f, 4.f}, {4});
  try {
    (void)(a + b);
    FAIL() << "expected ShapeError";
  } catch (const tf::ShapeError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("[2, 3]"), std::string::npos) << message;
    EXPECT_NE(message.find("[4]"), std::string::npos) << message;
    EXPECT_NE(message.find("add"), std::string::npos) << message;
  }
  EXPECT_THROW(a < b, tf::ShapeError);
  EXPECT_THROW(tf::where(a > tf::scalar_like(a, 0.0), a, b), tf::ShapeError);
  EXPECT_THROW(tf::clamp(a, b, Tensor()), tf::ShapeError);
}

TEST(ElementwiseErrors, IntegerModByZeroThrows) {
  const Tensor a = Tensor::from_vec({7, 8, 9}, {3});
  EXPECT_THROW(tf::mod(a, Tensor::from_vec({1, 0, 2}, {3})), tf::InvalidArgument);
  EXPECT_THROW(tf::mod(a, Tensor::from_scalar(0)), tf::InvalidArgument);
  EXPECT_THROW(tf::mod(a.cast(DType::U8), Tensor::from_vec<uint8_t>({0}, {1})),
               tf::InvalidArgument);
  // A false bool divisor is a zero.
  EXPECT_THROW(tf::mod(a, Tensor::from_vec<uint8_t>({0}, {1}).cast(DType::Bool)),
               tf::InvalidArgument);
  // Floating mod by zero is NaN, as in NumPy.
  EXPECT_TRUE(std::isnan(
      tf::mod(Tensor::from_vec({1.f}, {1}), Tensor::from_vec({0.f}, {1})).item<float>()));
}

TEST(ElementwiseErrors, InvalidDTypesAndArguments) {
  const Tensor flags = Tensor::from_vec<uint8_t>({1, 0}, {2}).cast(DType::Bool);
  EXPECT_THROW(flags - flags, tf::DTypeError);
  EXPECT_THROW(-flags, tf::DTypeError);
  EXPECT_THROW(tf::abs(flags), tf::DTypeError);
  EXPECT_THROW(tf::pow(flags, flags), tf::DTypeError);
  EXPECT_THROW(tf::mod(flags, flags), tf::DTypeError);
  const Tensor i = Tensor::from_vec({2, 3}, {2});
  EXPECT_THROW(tf::pow(i, Tensor::from_vec({1, -1}, {2})), tf::InvalidArgument);
  EXPECT_THROW(tf::clamp(i, std::nullopt, std::nullopt), tf::InvalidArgument);
  EXPECT_THROW(tf::clamp(i, Tensor(), Tensor()), tf::InvalidArgument);
  EXPECT_THROW(tf::softplus(Tensor::from_vec({1.f}, {1}), 0.0), tf::InvalidArgument);
  EXPECT_THROW(tf::exp(Tensor()), tf::InvalidArgument);
  EXPECT_THROW(Tensor() + i, tf::InvalidArgument);
}

TEST(ElementwiseValues, RoundHalfToEven) {
  const Tensor x = Tensor::from_vec({-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 3.5f, 2.4f}, {8});
  expect_values(tf::round(x), {-2, -2, -0.0, 0, 2, 2, 4, 2});
  expect_values(tf::round(x.cast(DType::F64)), {-2, -2, -0.0, 0, 2, 2, 4, 2});
  expect_values(tf::round(x.cast(DType::F16)), {-2, -2, -0.0, 0, 2, 2, 4, 2});
}

TEST(ElementwiseValues, ModFollowsPython) {
  expect_values(
      tf::mod(Tensor::from_vec({-7, 7, -7, 7}, {4}), Tensor::from_vec({3, -3, -3, 3}, {4})),
      {2, -2, -1, 1});
  expect_values(
      tf::mod(Tensor::from_vec({-7.5, 7.5, 6.0}, {3}), Tensor::from_vec({2.0, -2.0, -3.0}, {3})),
      {0.5, -0.5, 0.0});
  const Tensor zero = tf::mod(Tensor::from_vec({6.0}, {1}), Tensor::from_vec({-3.0}, {1}));
  EXPECT_TRUE(std::signbit(zero.item<double>()));  // a zero result takes the divisor's sign
  // INT_MIN % -1 overflows in C++; the result is 0.
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  expect_values(
      tf::mod(Tensor::from_vec<int64_t>({lowest}, {1}), Tensor::from_vec<int64_t>({-1}, {1})), {0});
}

TEST(ElementwiseValues, SpecialFloatingValues) {
  const Tensor x = Tensor::from_vec({kNaN, kInf, -kInf, 0.0, -1.0}, {5});
  expect_values(tf::isnan(x), {1, 0, 0, 0, 0});
  expect_values(tf::isfinite(x), {0, 0, 0, 1, 1});
  expect_values(tf::sign(x), {kNaN, 1, -1, 0, -1});
  expect_values(tf::relu(x), {kNaN, kInf, 0, 0, 0});
  expect_values(tf::exp(x), {kNaN, kInf, 0, 1, std::exp(-1.0)});
  expect_values(tf::sigmoid(x.slice(0, 1, 4)), {1, 0, 0.5});
  expect_values(tf::log(x), {kNaN, kInf, kNaN, -kInf, kNaN});
  // maximum and minimum propagate NaN from either side.
  const Tensor a = Tensor::from_vec({kNaN, 1.0, 2.0}, {3});
  const Tensor b = Tensor::from_vec({1.0, kNaN, 3.0}, {3});
  expect_values(tf::maximum(a, b), {kNaN, kNaN, 3});
  expect_values(tf::minimum(a, b), {kNaN, kNaN, 2});
  expect_values(tf::maximum(a.cast(DType::F32), b.cast(DType::F32)), {kNaN, kNaN, 3});
  expect_values(Tensor::from_vec({1.f}, {1}).clamp(kNaN, std::nullopt), {1});
  expect_values(tf::clamp(a, 0.0, 1.5), {kNaN, 1, 1.5});
  expect_values(
      tf::pow(Tensor::from_vec({-2.0, 4.0, 0.0}, {3}), Tensor::from_vec({3.0, 0.5, 0.0}, {3})),
      {-8, 2, 1});
  expect_values(
      Tensor::from_vec({2.f, -3.f}, {2}) == Tensor::from_vec({2.0, kNaN}, {2}).cast(DType::F32),
      {1, 0});
}

TEST(ElementwiseValues, IntegerArithmeticWrapsAround) {
  expect_values(Tensor::from_vec<int8_t>({127, -128}, {2}) + Tensor::from_vec<int8_t>({1, -1}, {2}),
                {-128, 127});
  const int32_t lowest = std::numeric_limits<int32_t>::min();
  expect_values(-Tensor::from_vec<int32_t>({lowest, 5}, {2}), {static_cast<double>(lowest), -5});
  expect_values(tf::abs(Tensor::from_vec<int32_t>({lowest}, {1})), {static_cast<double>(lowest)});
  expect_values(Tensor::from_vec<uint8_t>({3}, {1}) - Tensor::from_vec<uint8_t>({5}, {1}), {254});
  expect_values(tf::pow(Tensor::from_vec<int32_t>({3, -2, 0}, {3}),
                        Tensor::from_vec<int32_t>({4, 3, 0}, {3})),
                {81, -8, 1});
  expect_values(tf::square(Tensor::from_vec<int8_t>({12}, {1})), {-112});  // 144 wraps
}

TEST(ElementwiseValues, ClampWithTensorBoundsAndOperators) {
  const Tensor x = Tensor::from_vec({-3.f, 0.f, 3.f, 9.f}, {4});
  const Tensor lo = Tensor::from_vec({-1.f, 1.f, -1.f, 1.f}, {4});
  expect_values(tf::clamp(x, lo, Tensor::from_scalar(2.f)), {-1, 1, 2, 2});
  expect_values(tf::clamp(x, Tensor(), Tensor::from_scalar(2.f)), {-3, 0, 2, 2});
  expect_values(x.clamp(5.0, 1.0), {1, 1, 1, 1});  // min > max gives max, as PyTorch
  expect_values(x.clamp(std::nullopt, 0.5), {-3, 0, 0.5, 0.5});
  const Tensor p = x > tf::scalar_like(x, 0.0), q = x < tf::scalar_like(x, 5.0);
  expect_values(p && q, {0, 0, 1, 0});
  expect_values(p || q, {1, 1, 1, 1});
  expect_values(!p, {1, 1, 0, 0});
  expect_values(tf::logical_xor(p, q), {1, 1, 0, 1});
  expect_values(x >= tf::scalar_like(x, 0.0), {0, 1, 1, 1});
  expect_values(x <= tf::scalar_like(x, 0.0), {1, 1, 0, 0});
  expect_values(x != tf::scalar_like(x, 0.0), {1, 0, 1, 1});
  expect_values(x == tf::scalar_like(x, 3.0), {0, 0, 1, 0});
}

// Large inputs exercise the threaded, chunked and converting paths: strided and transposed
// views, a broadcast row, f16 storage, and results identical for any thread count.
TEST(ElementwiseLarge, StridedBroadcastAndThreadCountInvariant) {
  const int64_t rows = 613, cols = 1031;  // odd sizes: chunk and vector tails
  std::vector<float> data(static_cast<size_t>(rows * cols * 2));
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(0.001f * static_cast<float>(i)) * 4;
  const Tensor base = Tensor::from_vec(data, {rows, cols * 2});
  const Tensor strided = base.slice(1, 0, {}, 2);        // [rows, cols], stride 2
  const Tensor transposed = base.slice(1, 0, rows).t();  // [rows, rows] view
  std::vector<float> row_values(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) row_values[static_cast<size_t>(j)] = 0.5f + 0.001f * j;
  const Tensor row = Tensor::from_vec(row_values, {cols});

  auto compute = [&] {
    return std::vector<Tensor>{tf::exp(strided) * row, tf::tanh(transposed),
                               (strided.cast(DType::F16) + 1.0), tf::relu(strided * 1.5 + 0.25)};
  };
  const int saved = tf::get_num_threads();
  tf::set_num_threads(1);
  const std::vector<Tensor> serial = compute();
  tf::set_num_threads(3);
  const std::vector<Tensor> threaded = compute();
  tf::set_num_threads(saved);
  for (size_t k = 0; k < serial.size(); ++k) {
    EXPECT_EQ(values(serial[k]), values(threaded[k])) << "result " << k;
  }

  const std::vector<double> s = values(strided), t = values(transposed);
  const std::vector<double> r0 = values(serial[0]), r1 = values(serial[1]), r2 = values(serial[2]),
                            r3 = values(serial[3]);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const size_t k = static_cast<size_t>(i * cols + j);
      const double expected = std::exp(s[k]) * row_values[static_cast<size_t>(j)];
      ASSERT_NEAR(r0[k], expected, 1e-6 + 1e-5 * std::abs(expected)) << i << ", " << j;
      ASSERT_NEAR(r2[k], s[k] + 1.0, 2e-3 * std::abs(s[k] + 1.0) + 1e-3) << i << ", " << j;
      ASSERT_NEAR(r3[k], std::max(0.0, s[k] * 1.5 + 0.25), 1e-6 + 1e-6 * std::abs(s[k]));
    }
  }
  for (size_t k = 0; k < t.size(); ++k) {
    ASSERT_NEAR(r1[k], std::tanh(t[k]), 1e-6 + 1e-5 * std::abs(std::tanh(t[k]))) << k;
  }
}

// ---- instruction-set variants -----------------------------------------------------------------
namespace vec = tf::cpu::vec;

// Error of an f32 result in units of the f32 spacing at the exact value.
double ulp_error(float got, double exact) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : kInf;
  if (std::isinf(exact)) return got == exact ? 0 : kInf;
  const float rounded = std::fabs(static_cast<float>(exact));
  const float spacing =
      std::max(std::nextafter(rounded, std::numeric_limits<float>::infinity()) - rounded,
               std::numeric_limits<float>::denorm_min());
  return std::fabs(static_cast<double>(got) - exact) / spacing;
}

struct UlpCase {
  const char* name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> exact;
  double lo, hi, max_ulp;  // max_ulp: measured worst case, rounded up
};

// Worst-case errors of the f32 kernels over a dense grid, for every instruction set the CPU
// runs. SLEEF's u10 functions are within 1 ULP; composed ops add a rounding or two. The
// values also bound the relative error the conformance tolerance (1e-5 = ~170 ULP) allows.
TEST(ElementwiseIsa, EveryVariantMeetsItsUlpBound) {
  const double sqrt_half = std::sqrt(0.5), gelu_k = std::sqrt(2.0 / M_PI);
  const std::vector<UlpCase> cases = {
      {"exp", [](const Tensor& x) { return tf::exp(x); }, [](double x) { return std::exp(x); }, -87,
       88, 1.0},
      {"expm1", [](const Tensor& x) { return tf::expm1(x); },
       [](double x) { return std::expm1(x); }, -20, 20, 1.0},
      {"log", [](const Tensor& x) { return tf::log(x); }, [](double x) { return std::log(x); },
       1e-6, 1e6, 1.0},
      {"log1p", [](const Tensor& x) { return tf::log1p(x); },
       [](double x) { return std::log1p(x); }, -0.999, 100, 1.0},
      {"sin", [](const Tensor& x) { return tf::sin(x); }, [](double x) { return std::sin(x); },
       -100, 100, 1.0},
      {"cos", [](const Tensor& x) { return tf::cos(x); }, [](double x) { return std::cos(x); },
       -100, 100, 1.0},
      {"tan", [](const Tensor& x) { return tf::tan(x); }, [](double x) { return std::tan(x); },
       -100, 100, 1.0},
      {"tanh", [](const Tensor& x) { return tf::tanh(x); }, [](double x) { return std::tanh(x); },
       -10, 10, 1.0},
      {"erf", [](const Tensor& x) { return tf::erf(x); }, [](double x) { return std::erf(x); }, -5,
       5, 1.0},
      {"sqrt", [](const Tensor& x) { return tf::sqrt(x); }, [](double x) { return std::sqrt(x); },
       0, 1e6, 0.5},
      {"rsqrt", [](const Tensor& x) { return tf::rsqrt(x); },
       [](double x) { return 1 / std::sqrt(x); }, 1e-6, 1e6, 1.5},
      {"sigmoid", [](const Tensor& x) { return tf::sigmoid(x); },
       [](double x) { return 1 / (1 + std::exp(-x)); }, -80, 80, 2.5},
      {"silu", [](const Tensor& x) { return tf::silu(x); },
       [](double x) { return x / (1 + std::exp(-x)); }, -80, 80, 2.5},
      {"softplus", [](const Tensor& x) { return tf::softplus(x); },
       [](double x) { return x > 20 ? x : std::log1p(std::exp(x)); }, -80, 30, 1.5},
      {"elu", [](const Tensor& x) { return tf::elu(x); },
       [](double x) { return x > 0 ? x : std::expm1(x); }, -20, 5, 1.0},
      {"gelu", [](const Tensor& x) { return tf::gelu(x); },
       [&](double x) { return 0.5 * x * std::erfc(-x * sqrt_half); }, -12, 12, 3.0},
      // Written as x * sigmoid(2u) so the float64 reference has no cancellation either.
      {"gelu_tanh", [](const Tensor& x) { return tf::gelu(x, true); },
       [&](double x) { return x / (1 + std::exp(-2 * gelu_k * (x + 0.044715 * x * x * x))); }, -10,
       10, 3.5},
  };
  const vec::Isa saved = vec::active_isa();
  const int64_t n = 200003;
  for (vec::Isa isa : {vec::Isa::Baseline, vec::Isa::Avx2, vec::Isa::Avx512}) {
    if (!vec::isa_supported(isa)) {
      EXPECT_THROW(vec::set_isa(isa), tf::UnsupportedError);
      continue;
    }
    vec::set_isa(isa);
    for (const UlpCase& c : cases) {
      std::vector<float> xs(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        xs[static_cast<size_t>(i)] = static_cast<float>(c.lo + (c.hi - c.lo) * (i + 0.5) / n);
      }
      const std::vector<float> ys = c.op(Tensor::from_vec(xs, {n})).to_vector<float>();
      double worst = 0;
      float worst_at = 0;
      for (size_t i = 0; i < xs.size(); ++i) {
        const double e = ulp_error(ys[i], c.exact(xs[i]));
        if (e > worst) {
          worst = e;
          worst_at = xs[i];
        }
      }
      EXPECT_LE(worst, c.max_ulp) << c.name << " on ISA " << static_cast<int>(isa)
                                  << " at x = " << worst_at;
    }
  }
  vec::set_isa(saved);
}

// Every variant computes the same op results (up to their rounding) for all table entries.
TEST(ElementwiseIsa, VariantsAgreeOnAllOps) {
  const vec::Isa saved = vec::active_isa();
  const Tensor a = Tensor::from_vec(
      std::vector<double>{-2.5, -1, -0.25, 0, 0.5, 1.5, 3, 7.25, -9, 4, 0.125}, {11});
  const Tensor b =
      Tensor::from_vec(std::vector<double>{1.5, -3, 2, 0.75, -0.5, 1.5, 2, -2, 4, 0.5, 3}, {11});
  auto run_all = [&] {
    std::vector<Tensor> out;
    for (DType dtype : {DType::F32, DType::F64, DType::I32, DType::I8}) {
      const Tensor x = a.cast(dtype), y = b.cast(dtype);
      out.insert(out.end(),
                 {x + y, x - y, x * y, x / y, tf::maximum(x, y), tf::minimum(x, y), x < y, x == y,
                  tf::abs(x), -x, tf::sign(x), tf::relu(x), tf::floor(x), tf::round(x), tf::exp(x),
                  tf::tanh(x), tf::gelu(x), tf::where(x > y, x, y), x.clamp(-1.0, 2.0)});
      if (tf::is_floating(dtype)) {
        out.insert(out.end(), {tf::mod(x, y), tf::atan2(x, y), tf::pow(tf::abs(x), y)});
      }
    }
    return out;
  };
  vec::set_isa(vec::Isa::Baseline);
  const std::vector<Tensor> reference = run_all();
  for (vec::Isa isa : {vec::Isa::Avx2, vec::Isa::Avx512}) {
    if (!vec::isa_supported(isa)) continue;
    vec::set_isa(isa);
    const std::vector<Tensor> got = run_all();
    for (size_t k = 0; k < got.size(); ++k) {
      const std::vector<double> g = values(got[k]), r = values(reference[k]);
      ASSERT_EQ(g.size(), r.size());
      for (size_t i = 0; i < g.size(); ++i) {
        if (std::isnan(r[i]) || std::isinf(r[i])) {
          EXPECT_EQ(std::isnan(g[i]), std::isnan(r[i])) << "result " << k << "[" << i << "]";
          if (std::isinf(r[i])) {
            EXPECT_EQ(g[i], r[i]) << "result " << k << "[" << i << "]";
          }
        } else {
          EXPECT_NEAR(g[i], r[i], 1e-7 + 1e-6 * std::abs(r[i]))
              << "result " << k << "[" << i << "] on ISA " << static_cast<int>(isa);
        }
      }
    }
  }
  vec::set_isa(saved);
}

// ---- threads ----------------------------------------------------------------------------------
// The OpenMP thread numbers that ran a kernel through the elementwise driver.
std::mutex g_seen_mutex;
std::set<int> g_seen_threads;

void record_thread_and_copy(const void* const* in, void* out, int64_t n, const vec::Params&) {
  {
    std::lock_guard lock(g_seen_mutex);
    g_seen_threads.insert(omp_get_thread_num());
  }
  std::memcpy(out, in[0], static_cast<size_t>(n) * sizeof(float));
}

TEST(ElementwiseThreads, SetNumThreadsIsHonoured) {
  const int64_t n = 64 * tf::cpu::kCheapGrain;  // enough work for many threads
  const Tensor x = Tensor::from_vec(std::vector<float>(static_cast<size_t>(n), 1.f), {n});
  const int saved = tf::get_num_threads();
  for (int threads : {1, 2, 3}) {
    tf::set_num_threads(threads);
    Tensor out = Tensor::empty({n}, DType::F32);
    {
      std::lock_guard lock(g_seen_mutex);
      g_seen_threads.clear();
    }
    tf::cpu::run_elementwise<1>(out, {&x}, {DType::F32}, DType::F32, record_thread_and_copy, {},
                                tf::cpu::kCheapGrain);
    std::lock_guard lock(g_seen_mutex);
    EXPECT_EQ(g_seen_threads.size(), static_cast<size_t>(threads));
    EXPECT_EQ(out.to_vector<float>(), std::vector<float>(static_cast<size_t>(n), 1.f));
  }
  // Small inputs stay on the calling thread.
  tf::set_num_threads(3);
  {
    std::lock_guard lock(g_seen_mutex);
    g_seen_threads.clear();
  }
  Tensor small = Tensor::empty({100}, DType::F32);
  const Tensor x100 = x.slice(0, 0, 100);
  tf::cpu::run_elementwise<1>(small, {&x100}, {DType::F32}, DType::F32, record_thread_and_copy, {},
                              tf::cpu::kCheapGrain);
  EXPECT_EQ(g_seen_threads, std::set<int>{0});
  tf::set_num_threads(saved);
}

}  // namespace
