#include "tenflowers/data/synthetic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "tenflowers/core/ops.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

void expect_same(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
}

TEST(Synthetic, BlobsAreDeterministicBalancedAndClustered) {
  const int64_t n = 3000, features = 3, classes = 4;
  const Classification a = make_blobs(n, features, classes, 9, 0.5);
  const Classification b = make_blobs(n, features, classes, 9, 0.5);
  expect_same(a.features, b.features);
  expect_same(a.labels, b.labels);
  EXPECT_NE(make_blobs(n, features, classes, 10, 0.5).features.to_vector<float>(),
            a.features.to_vector<float>());
  EXPECT_EQ(a.features.shape(), Dims({n, features}));
  EXPECT_EQ(a.features.dtype(), DType::F32);
  EXPECT_EQ(a.labels.dtype(), DType::I64);
  const std::vector<float> x = a.features.to_vector<float>();
  const std::vector<float> centers = a.centers.to_vector<float>();
  const std::vector<int64_t> y = a.labels.to_vector<int64_t>();
  for (float c : centers) {
    EXPECT_GE(c, -10.0f);
    EXPECT_LT(c, 10.0f);
  }
  std::vector<int64_t> counts(classes, 0);
  std::vector<double> sums(classes * features, 0.0), squares(classes * features, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(y[i], 0);
    ASSERT_LT(y[i], classes);
    ++counts[y[i]];
    for (int64_t f = 0; f < features; ++f) {
      const double d = x[i * features + f] - centers[y[i] * features + f];
      sums[y[i] * features + f] += d;
      squares[y[i] * features + f] += d * d;
    }
  }
  for (int64_t c = 0; c < classes; ++c) {
    EXPECT_EQ(counts[c], n / classes);
    for (int64_t f = 0; f < features; ++f) {
      // Offsets from the center: mean 0 and variance 0.25, each within 5 standard errors.
      const double m = static_cast<double>(counts[c]);
      EXPECT_NEAR(sums[c * features + f] / m, 0.0, 5 * 0.5 / std::sqrt(m));
      EXPECT_NEAR(squares[c * features + f] / m, 0.25, 5 * 0.25 * std::sqrt(2.0 / m));
    }
  }
  EXPECT_THROW(make_blobs(10, 0, 2, 1), InvalidArgument);
  EXPECT_THROW(make_blobs(-1, 2, 2, 1), InvalidArgument);
  EXPECT_THROW(make_blobs(10, 2, 2, 1, 1.0, 10.0, DType::I32), InvalidArgument);
}

TEST(Synthetic, RegressionTargetsFollowTheLinearModel) {
  const int64_t n = 500, features = 5;
  const Regression r = make_regression(n, features, 4, 0.25, DType::F64);
  expect_same(r.targets, make_regression(n, features, 4, 0.25, DType::F64).targets);
  const std::vector<double> x = r.features.to_vector<double>();
  const std::vector<double> w = r.weights.to_vector<double>();
  const std::vector<double> t = r.targets.to_vector<double>();
  const double bias = r.bias.item<double>();
  double residual_sum = 0, residual_squares = 0;
  for (int64_t i = 0; i < n; ++i) {
    double prediction = bias;
    for (int64_t f = 0; f < features; ++f) prediction += x[i * features + f] * w[f];
    const double residual = t[i] - prediction;
    residual_sum += residual;
    residual_squares += residual * residual;
  }
  EXPECT_NEAR(residual_sum / n, 0.0, 5 * 0.25 / std::sqrt(double(n)));
  EXPECT_NEAR(residual_squares / n, 0.0625, 5 * 0.0625 * std::sqrt(2.0 / n));
  // Without noise the targets are the model exactly, up to the rounding of a dot product.
  const Regression exact = make_regression(50, features, 4, 0.0, DType::F64);
  const std::vector<double> xe = exact.features.to_vector<double>();
  const std::vector<double> we = exact.weights.to_vector<double>();
  const std::vector<double> te = exact.targets.to_vector<double>();
  for (int64_t i = 0; i < 50; ++i) {
    double prediction = exact.bias.item<double>(), magnitude = std::abs(prediction);
    for (int64_t f = 0; f < features; ++f) {
      prediction += xe[i * features + f] * we[f];
      magnitude += std::abs(xe[i * features + f] * we[f]);
    }
    EXPECT_NEAR(te[i], prediction, (features + 2) * 2.3e-16 * magnitude);
  }
}

TEST(Synthetic, SpiralsLieOnTheirArms) {
  const int64_t n = 401;
  const double turns = 1.5;
  const Classification s = make_spirals(n, 3, 0.0, turns, DType::F64);
  expect_same(s.features, make_spirals(n, 3, 0.0, turns, DType::F64).features);
  EXPECT_EQ(s.features.shape(), Dims({n, 2}));
  EXPECT_FALSE(s.centers.defined());
  const std::vector<double> p = s.features.to_vector<double>();
  const std::vector<int64_t> y = s.labels.to_vector<int64_t>();
  int64_t ones = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_TRUE(y[i] == 0 || y[i] == 1);
    ones += y[i];
    // Undo the mirror of class 1; then the angle of the point is 2 pi times its radius.
    const double sign = y[i] == 1 ? -1.0 : 1.0;
    const double px = sign * p[2 * i], py = sign * p[2 * i + 1];
    const double radius = std::hypot(px, py);
    EXPECT_LE(radius, turns + 1e-12);
    const double angle = 2 * std::numbers::pi * radius;
    EXPECT_NEAR(px, radius * std::cos(angle), 1e-12);
    EXPECT_NEAR(py, radius * std::sin(angle), 1e-12);
  }
  EXPECT_EQ(ones, n / 2);
  const Classification noisy = make_spirals(n, 3, 0.1, turns, DType::F64);
  EXPECT_NE(noisy.features.to_vector<double>(), p);
  EXPECT_THROW(make_spirals(10, 1, -0.1), InvalidArgument);
}

}  // namespace
}  // namespace tenflowers::data
