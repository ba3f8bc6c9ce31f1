// Reductions: empty reductions, errors, 0-d inputs, result dtypes, special values, tie-breaking
// and accuracy of long float sums.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

Tensor bools(const std::vector<uint8_t>& values, tf::Dims shape) {
  return Tensor::from_vec(values, std::move(shape)).cast(DType::Bool);
}

Tensor filled(size_t n, float value) {
  return Tensor::from_vec(std::vector<float>(n, value), {static_cast<int64_t>(n)});
}

}  // namespace

TEST(Reduction, EmptyReductionsGiveIdentities) {
  const Tensor x = Tensor::from_vec(std::vector<float>{}, {0, 3});
  EXPECT_EQ(tf::sum(x, {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(tf::prod(x, {0}).to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(tf::sum(x).item<float>(), 0.0f);
  EXPECT_TRUE(std::isnan(tf::mean(x).item<float>()));
  EXPECT_TRUE(std::isnan(tf::var(x, {0}).to_vector<float>()[0]));
  EXPECT_EQ(tf::logsumexp(x, {0}).to_vector<float>()[0], -kInf);
  EXPECT_EQ(tf::norm(x, 2.0, {0}).to_vector<float>()[0], 0.0f);
  EXPECT_TRUE(tf::all(x).item<bool>());
  EXPECT_FALSE(tf::any(x).item<bool>());
  // Reducing the non-empty axis of an empty tensor is fine: there are no outputs.
  EXPECT_EQ(tf::max(x, {1}).shape(), tf::Dims({0}));
  EXPECT_EQ(tf::argmax(x, 1).shape(), tf::Dims({0}));
  const Tensor ints = Tensor::from_vec(std::vector<int32_t>{}, {2, 0});
  EXPECT_EQ(tf::sum(ints, {1}).to_vector<int64_t>(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(tf::sum(ints, {1}).dtype(), DType::I64);
}

TEST(Reduction, MaxMinArgOfEmptySetThrow) {
  const Tensor x = Tensor::from_vec(std::vector<float>{}, {0, 3});
  EXPECT_THROW(tf::max(x), tf::InvalidArgument);
  EXPECT_THROW(tf::min(x, {0}), tf::InvalidArgument);
  EXPECT_THROW(tf::argmax(x), tf::InvalidArgument);
  EXPECT_THROW(tf::argmin(x, 0), tf::InvalidArgument);
}

TEST(Reduction, AxisErrors) {
  const Tensor x = Tensor::from_vec({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  try {
    tf::sum(x, {2});
    FAIL() << "expected IndexError";
  } catch (const tf::IndexError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rank 2"), std::string::npos) << msg;
  }
  EXPECT_THROW(tf::mean(x, {-3}), tf::IndexError);
  EXPECT_THROW(tf::argmax(x, 5), tf::IndexError);
  EXPECT_THROW(tf::sum(x, {1, 1}), tf::InvalidArgument);
  EXPECT_THROW(tf::max(x, {1, -1}), tf::InvalidArgument);
  EXPECT_THROW(tf::norm(x, std::nan("")), tf::InvalidArgument);
}

TEST(Reduction, ZeroDimensionalInputs) {
  const Tensor s = Tensor::from_scalar(2.5f);
  EXPECT_EQ(tf::sum(s).shape(), tf::Dims{});
  EXPECT_EQ(tf::sum(s).item<float>(), 2.5f);
  EXPECT_EQ(tf::sum(s, {0}, true).shape(), tf::Dims{});
  EXPECT_EQ(tf::max(s, {-1}).item<float>(), 2.5f);
  EXPECT_EQ(tf::argmax(s).item<int64_t>(), 0);
  EXPECT_EQ(tf::argmin(s, 0).item<int64_t>(), 0);
  EXPECT_TRUE(std::isnan(tf::var(s).item<float>()));  // one value, correction 1
  EXPECT_EQ(tf::var(s, {}, 0).item<float>(), 0.0f);
  EXPECT_EQ(tf::logsumexp(s).item<float>(), 2.5f);
  EXPECT_THROW(tf::sum(s, {1}), tf::IndexError);
}

TEST(Reduction, ResultDTypes) {
  const Tensor i = Tensor::from_vec({1, 2, 3, 4}, {2, 2});
  const Tensor b = bools({1, 0, 1, 1}, {2, 2});
  const Tensor h = Tensor::from_vec({1.f, 2.f, 3.f, 4.f}, {2, 2}).cast(DType::F16);
  EXPECT_EQ(tf::sum(i).dtype(), DType::I64);
  EXPECT_EQ(tf::sum(b).dtype(), DType::I64);
  EXPECT_EQ(tf::sum(b).item<int64_t>(), 3);
  EXPECT_EQ(tf::prod(i).dtype(), DType::I64);
  EXPECT_EQ(tf::prod(i).item<int64_t>(), 24);
  EXPECT_EQ(tf::mean(i).dtype(), DType::F32);
  EXPECT_EQ(tf::mean(i).item<float>(), 2.5f);
  EXPECT_EQ(tf::mean(b).dtype(), DType::F32);
  EXPECT_EQ(tf::var(i).dtype(), DType::F32);
  EXPECT_EQ(tf::std(i).dtype(), DType::F32);
  EXPECT_EQ(tf::logsumexp(i).dtype(), DType::F32);
  EXPECT_EQ(tf::norm(i).dtype(), DType::F32);
  EXPECT_EQ(tf::max(i).dtype(), DType::I32);
  EXPECT_EQ(tf::min(b).dtype(), DType::Bool);
  EXPECT_EQ(tf::argmax(h).dtype(), DType::I64);
  EXPECT_EQ(tf::all(i).dtype(), DType::Bool);
  EXPECT_EQ(tf::any(h).dtype(), DType::Bool);
  EXPECT_EQ(tf::sum(h).dtype(), DType::F16);
  EXPECT_EQ(tf::sum(h).item<float>(), 10.0f);
  EXPECT_EQ(tf::mean(h).dtype(), DType::F16);
}

TEST(Reduction, IntegerSumsWrapAround) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  const Tensor x = Tensor::from_vec({big, int64_t{1}}, {2});
  EXPECT_EQ(tf::sum(x).item<int64_t>(), std::numeric_limits<int64_t>::min());
}

TEST(Reduction, KeepdimsShapesAndTensorMethods) {
  const Tensor x = Tensor::from_vec({1.f, 5.f, 3.f, 4.f, 2.f, 6.f}, {2, 3});
  EXPECT_EQ(x.sum({1}, true).shape(), tf::Dims({2, 1}));
  EXPECT_EQ(x.sum({1}).to_vector<float>(), (std::vector<float>{9, 12}));
  EXPECT_EQ(x.mean({0}).to_vector<float>(), (std::vector<float>{2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(x.max({-1}).to_vector<float>(), (std::vector<float>{5, 6}));
  EXPECT_EQ(x.min().item<float>(), 1.0f);
  EXPECT_EQ(x.argmax().item<int64_t>(), 5);
  EXPECT_EQ(x.argmax({}, true).shape(), tf::Dims({1, 1}));
  EXPECT_EQ(x.argmin(1).to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(x.argmin(0, true).shape(), tf::Dims({1, 3}));
  EXPECT_EQ(tf::sum(x, {}, true).shape(), tf::Dims({1, 1}));
}

TEST(Reduction, ArgmaxTakesFirstOccurrence) {
  const Tensor x = Tensor::from_vec({1, 3, 3, 2, 1, 1}, {6});
  EXPECT_EQ(tf::argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(tf::argmin(x).item<int64_t>(), 0);
  // Long rows go through several accumulator lanes; the first index still wins.
  std::vector<float> row(5000, 1.0f);
  row[4000] = 7.0f;
  row[17] = 7.0f;
  row[3999] = 7.0f;
  EXPECT_EQ(tf::argmax(Tensor::from_vec(row, {5000})).item<int64_t>(), 17);
  // Down a column (the contiguous axis is kept).
  const Tensor col = Tensor::from_vec(row, {1000, 5});
  EXPECT_EQ(tf::argmax(col, 0).to_vector<int64_t>(), (std::vector<int64_t>{800, 0, 3, 0, 799}));
}

TEST(Reduction, NaNPropagates) {
  const Tensor x = Tensor::from_vec({1.f, kNaN, 3.f, kNaN}, {4});
  EXPECT_TRUE(std::isnan(tf::max(x).item<float>()));
  EXPECT_TRUE(std::isnan(tf::min(x).item<float>()));
  EXPECT_EQ(tf::argmax(x).item<int64_t>(), 1);
  EXPECT_EQ(tf::argmin(x).item<int64_t>(), 1);
  EXPECT_TRUE(std::isnan(tf::sum(x).item<float>()));
  EXPECT_TRUE(std::isnan(tf::logsumexp(x).item<float>()));
  EXPECT_TRUE(std::isnan(tf::norm(x, kInf).item<float>()));
  EXPECT_TRUE(tf::all(x).item<bool>());  // NaN is non-zero
}

TEST(Reduction, LogSumExpIsStable) {
  EXPECT_FLOAT_EQ(tf::logsumexp(Tensor::from_vec({1000.f, 1000.f}, {2})).item<float>(),
                  1000.0f + std::log(2.0f));
  EXPECT_FLOAT_EQ(tf::logsumexp(Tensor::from_vec({-1000.f, -1000.f}, {2})).item<float>(),
                  -1000.0f + std::log(2.0f));
  EXPECT_EQ(tf::logsumexp(Tensor::from_vec({-kInf, -kInf}, {2})).item<float>(), -kInf);
  EXPECT_FLOAT_EQ(tf::logsumexp(Tensor::from_vec({-kInf, 0.f}, {2})).item<float>(), 0.0f);
  EXPECT_EQ(tf::logsumexp(Tensor::from_vec({kInf, 1.f}, {2})).item<float>(), kInf);
}

TEST(Reduction, VarianceAndNorms) {
  const Tensor x = Tensor::from_vec({1.0, 2.0, 3.0, 4.0}, {4});
  EXPECT_DOUBLE_EQ(tf::var(x).item<double>(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(tf::var(x, {}, 0).item<double>(), 1.25);
  EXPECT_DOUBLE_EQ(tf::std(x, {0}, 0).item<double>(), std::sqrt(1.25));
  EXPECT_EQ(tf::var(x, {}, 4).item<double>(), std::numeric_limits<double>::infinity());
  // A large offset does not hurt a two-pass variance (E[x^2] - E[x]^2 in float would).
  const Tensor shifted = Tensor::from_vec({1e6f + 1, 1e6f + 3, 1e6f + 5}, {3});
  EXPECT_EQ(tf::var(shifted).item<float>(), 4.0f);
  const Tensor v = Tensor::from_vec({3.0, -4.0, 0.0}, {3});
  EXPECT_DOUBLE_EQ(tf::norm(v).item<double>(), 5.0);
  EXPECT_DOUBLE_EQ(tf::norm(v, 1.0).item<double>(), 7.0);
  EXPECT_DOUBLE_EQ(tf::norm(v, std::numeric_limits<double>::infinity()).item<double>(), 4.0);
  EXPECT_DOUBLE_EQ(tf::norm(v, -std::numeric_limits<double>::infinity()).item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(tf::norm(v, 0.0).item<double>(), 2.0);
  EXPECT_NEAR(tf::norm(v, 3.0).item<double>(), std::cbrt(91.0), 1e-12);
}

TEST(Reduction, LongFloatSumsStayAccurate) {
  // A sequential float sum of a million 0.1f drifts by hundreds of units in the last place;
  // pairwise summation stays within u * (log2 n + 2) * sum|x|.
  const size_t n = 1000000;
  const double exact = static_cast<double>(n) * static_cast<double>(0.1f);
  const double bound = 0x1p-24 * (std::log2(static_cast<double>(n)) + 2) * exact;
  EXPECT_NEAR(tf::sum(filled(n, 0.1f)).item<float>(), exact, bound);
  // Down columns: 250000 rows of 4.
  const Tensor cols = filled(n, 0.1f).reshape({250000, 4});
  for (float s : tf::sum(cols, {0}).to_vector<float>()) EXPECT_NEAR(s, exact / 4, bound / 4);
  EXPECT_NEAR(tf::mean(filled(n, 0.1f)).item<float>(), 0.1f,
              bound / static_cast<double>(n) + 0x1p-24 * 0.1);
}

TEST(Reduction, ResultDoesNotDependOnThreadCount) {
  std::vector<float> values(300000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<float>(i));
  const Tensor x = Tensor::from_vec(values, {300000});
  const Tensor m = Tensor::from_vec(values, {3000, 100});
  const int saved = tf::get_num_threads();
  tf::set_num_threads(1);
  const float one = tf::sum(x).item<float>();
  const std::vector<float> cols_one = tf::sum(m, {0}).to_vector<float>();
  tf::set_num_threads(4);
  EXPECT_EQ(tf::sum(x).item<float>(), one);
  EXPECT_EQ(tf::sum(m, {0}).to_vector<float>(), cols_one);
  tf::set_num_threads(saved);
}

TEST(Reduction, BroadcastAndNegativeStrideInputs) {
  const Tensor x = Tensor::from_vec({1.f, 2.f, 3.f}, {3, 1});
  const Tensor wide = x.expand({3, 4});  // stride 0 along axis 1
  EXPECT_EQ(tf::sum(wide, {1}).to_vector<float>(), (std::vector<float>{4, 8, 12}));
  EXPECT_EQ(tf::sum(wide, {0}).to_vector<float>(), (std::vector<float>{6, 6, 6, 6}));
  const Tensor r = Tensor::from_vec({1.f, 9.f, 3.f, 9.f}, {4}).slice(0, {}, {}, -1);
  EXPECT_EQ(tf::argmax(r).item<int64_t>(), 0);  // r = [9, 3, 9, 1]
  EXPECT_EQ(tf::sum(r).item<float>(), 22.0f);
}
