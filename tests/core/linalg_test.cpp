// matmul, softmax and layer_norm: errors, edge cases and exact small examples.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include <tenflowers/tenflowers.hpp>

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Built from host data so these tests need only the ops under test (and cast).
Tensor filled(tf::Dims shape, double value, DType dtype = DType::F32) {
  const auto n = static_cast<size_t>(shape.numel());
  return Tensor::from_vec(std::vector<double>(n, value), shape).cast(dtype);
}
Tensor ones_of(tf::Dims shape, DType dtype = DType::F32) {
  return filled(std::move(shape), 1.0, dtype);
}
Tensor zeros_of(tf::Dims shape) {
  return filled(std::move(shape), 0.0);
}

}  // namespace

TEST(Matmul, SmallExactProducts) {
  Tensor a = Tensor::from_vec({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {2, 3});
  Tensor b = Tensor::from_vec({7.f, 8.f, 9.f, 10.f, 11.f, 12.f}, {3, 2});
  EXPECT_EQ(tf::matmul(a, b).to_vector<float>(), (std::vector<float>{58, 64, 139, 154}));
  EXPECT_EQ(a.matmul(a.t()).to_vector<float>(), (std::vector<float>{14, 32, 32, 77}));
  Tensor v = Tensor::from_vec({1.f, 1.f, 1.f}, {3});
  Tensor dot = tf::matmul(v, Tensor::from_vec({1.f, 2.f, 3.f}, {3}));
  EXPECT_EQ(dot.rank(), 0);
  EXPECT_EQ(dot.item<float>(), 6.f);
  EXPECT_EQ(tf::matmul(a, v).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(tf::matmul(Tensor::from_vec({1.f, 1.f}, {2}), a).to_vector<float>(),
            (std::vector<float>{5, 7, 9}));
}

TEST(Matmul, BroadcastBatchShape) {
  Tensor a = ones_of({2, 1, 3, 4});
  Tensor b = ones_of({5, 4, 6});
  Tensor c = tf::matmul(a, b);
  EXPECT_EQ(c.shape(), tf::Dims({2, 5, 3, 6}));
  EXPECT_EQ(c.at<float>({1, 4, 2, 5}), 4.f);
  EXPECT_EQ(tf::matmul(ones_of({4}), b).shape(), tf::Dims({5, 6}));
  EXPECT_EQ(tf::matmul(a, ones_of({4})).shape(), tf::Dims({2, 1, 3}));
}

TEST(Matmul, PromotesOperandTypes) {
  Tensor i = Tensor::from_vec({1, 2, 3, 4}, {2, 2});
  Tensor f = Tensor::from_vec({0.5f, 0.25f, 1.f, 2.f}, {2, 2});
  Tensor c = tf::matmul(i, f);
  EXPECT_EQ(c.dtype(), DType::F32);
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{2.5f, 4.25f, 5.5f, 8.75f}));
  EXPECT_EQ(tf::matmul(f.cast(DType::F16), f.cast(DType::BF16)).dtype(), DType::F32);
  EXPECT_EQ(tf::matmul(i, i.cast(DType::I64)).to_vector<int64_t>(),
            (std::vector<int64_t>{7, 10, 15, 22}));
}

TEST(Matmul, IntegerProductsWrapLikeNumPy) {
  Tensor a = Tensor::from_vec(std::vector<int8_t>{100, 100}, {1, 2});
  Tensor b = Tensor::from_vec(std::vector<int8_t>{2, 1}, {2, 1});
  // 300 wraps to 44 in 8 bits.
  EXPECT_EQ(tf::matmul(a, b).item<int>(), 44);
}

TEST(Matmul, ShapeErrorsNameBothShapes) {
  Tensor a = zeros_of({2, 3});
  Tensor b = zeros_of({4, 5});
  try {
    tf::matmul(a, b);
    FAIL() << "expected ShapeError";
  } catch (const tf::ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "[2, 3]") && contains(e.what(), "[4, 5]")) << e.what();
  }
  EXPECT_THROW(tf::matmul(zeros_of({3}), zeros_of({4})), tf::ShapeError);
  EXPECT_THROW(tf::matmul(zeros_of({2, 3, 4}), zeros_of({5, 4, 2})), tf::ShapeError);
  EXPECT_THROW(tf::matmul(Tensor::scalar(1.0, DType::F32), zeros_of({1, 1})), tf::ShapeError);
  EXPECT_THROW(tf::matmul(zeros_of({3}), Tensor::scalar(1.0, DType::F32)), tf::ShapeError);
}

TEST(Matmul, DTypeErrors) {
  Tensor flags = ones_of({2, 2}).cast(DType::Bool);
  EXPECT_THROW(tf::matmul(flags, flags), tf::DTypeError);
  // The op itself takes one dtype; only the public function promotes.
  const tf::OpDef& op = tf::registry().get("matmul");
  EXPECT_THROW(tf::dispatch1(op, {ones_of({2, 2}), ones_of({2, 2}, DType::F64)}), tf::DTypeError);
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I8}) {
    Tensor c = tf::matmul(ones_of({3, 0}, dtype), ones_of({0, 4}, dtype));
    EXPECT_EQ(c.shape(), tf::Dims({3, 4}));
    EXPECT_EQ(c.to_vector<double>(), std::vector<double>(12, 0.0)) << tf::dtype_name(dtype);
  }
  Tensor dot = tf::matmul(ones_of({0}), ones_of({0}));
  EXPECT_EQ(dot.rank(), 0);
  EXPECT_EQ(dot.item<float>(), 0.f);
}

TEST(Matmul, EmptyBatchAndRows) {
  EXPECT_EQ(tf::matmul(ones_of({0, 2, 3}), ones_of({3, 4})).shape(), tf::Dims({0, 2, 4}));
  EXPECT_EQ(tf::matmul(ones_of({0, 3}), ones_of({3, 4})).shape(), tf::Dims({0, 4}));
  EXPECT_EQ(tf::matmul(ones_of({2, 3}), ones_of({3, 0})).shape(), tf::Dims({2, 0}));
  EXPECT_EQ(tf::matmul(ones_of({1, 2, 3}, DType::I32), ones_of({0, 3, 4}, DType::I32)).shape(),
            tf::Dims({0, 2, 4}));
}

TEST(Matmul, ExpandedOperandsAreNotMaterialized) {
  // A stride-0 column (an expanded vector) cannot go to BLAS as is; the result must still be
  // exact, and an expanded batch reads the one stored matrix.
  Tensor col = Tensor::from_vec({1.f, 2.f, 3.f}, {3, 1}).expand({3, 4});
  Tensor right = ones_of({4, 2});
  EXPECT_EQ(tf::matmul(col, right).to_vector<float>(), (std::vector<float>{4, 4, 8, 8, 12, 12}));
  Tensor batch = ones_of({1, 3, 4}).expand({1000, 3, 4});
  Tensor c = tf::matmul(batch, right);
  EXPECT_EQ(c.shape(), tf::Dims({1000, 3, 2}));
  EXPECT_EQ(c.at<float>({999, 2, 1}), 4.f);
}

TEST(Softmax, ExactSmallCases) {
  Tensor x = Tensor::from_vec({0.0, std::log(3.0)}, {2});
  const std::vector<double> y = tf::softmax(x).to_vector<double>();
  EXPECT_NEAR(y[0], 0.25, 1e-15);
  EXPECT_NEAR(y[1], 0.75, 1e-15);
  const std::vector<double> l = x.log_softmax().to_vector<double>();
  EXPECT_NEAR(l[0], std::log(0.25), 1e-15);
  Tensor s = tf::softmax(Tensor::scalar(5.0, DType::F32));
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.item<float>(), 1.f);
  EXPECT_EQ(tf::log_softmax(Tensor::scalar(5.0, DType::F32), 0).item<float>(), 0.f);
}

TEST(Softmax, StableForLargeInputs) {
  Tensor x = Tensor::from_vec({1000.f, 1001.f, -1000.f}, {3});
  const std::vector<float> y = x.softmax().to_vector<float>();
  EXPECT_NEAR(y[0], 1.0 / (1.0 + std::exp(1.0)), 1e-6);
  EXPECT_NEAR(y[1], 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_EQ(y[2], 0.f);
  const std::vector<float> l = x.log_softmax().to_vector<float>();
  EXPECT_NEAR(l[2], -2001.0 - std::log1p(std::exp(-1.0)), 1e-3);
}

// Lanes long enough for whole vectors and a remainder, with -inf entries (masked positions: zero
// weight), against exp in double.
TEST(Softmax, NegativeInfinityGetsZeroWeightInLongLanes) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {16, 37}) {
    std::vector<float> xs(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      xs[static_cast<size_t>(i)] = i % 5 == 2 ? -inf : static_cast<float>(i % 7) * 0.75f - 2.f;
    }
    double total = 0;
    for (float v : xs) total += std::exp(static_cast<double>(v));
    const std::vector<float> y = tf::softmax(Tensor::from_vec(xs, {n}), 0).to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(static_cast<double>(xs[static_cast<size_t>(i)])) / total;
      if (i % 5 == 2) {
        EXPECT_EQ(y[static_cast<size_t>(i)], 0.f) << "n " << n << " at " << i;
      } else {
        EXPECT_NEAR(y[static_cast<size_t>(i)], want, 1e-6 * want) << "n " << n << " at " << i;
      }
    }
  }
}

TEST(Softmax, IntegerInputGivesF32AndRowsSumToOne) {
  std::vector<int64_t> values(24);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(i);
  Tensor x = Tensor::from_vec(values, {2, 3, 4});
  for (int64_t axis : {0, 1, 2, -1}) {
    Tensor y = tf::softmax(x, axis);
    EXPECT_EQ(y.dtype(), DType::F32);
    EXPECT_EQ(y.shape(), x.shape());
    const std::vector<float> v = y.to_vector<float>();
    double total = 0;
    for (float e : v) total += e;
    const double lanes = 24.0 / static_cast<double>(x.size(axis));
    EXPECT_NEAR(total, lanes, 1e-5) << "axis " << axis;
  }
}

TEST(Softmax, NanPropagatesAlongItsLaneOnly) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vec({1.f, nan, 2.f, 1.f, 2.f, 3.f}, {2, 3});
  const std::vector<float> y = tf::softmax(x, 1).to_vector<float>();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(y[i]));
  for (int i = 3; i < 6; ++i) EXPECT_FALSE(std::isnan(y[i]));
}

TEST(Softmax, ErrorsAndEmptyInputs) {
  Tensor x = ones_of({2, 3});
  EXPECT_THROW(tf::softmax(x, 2), tf::IndexError);
  EXPECT_THROW(tf::log_softmax(x, -3), tf::IndexError);
  EXPECT_THROW(tf::softmax(Tensor::scalar(1.0, DType::F32), 1), tf::IndexError);
  Tensor empty = ones_of({0, 4});
  EXPECT_EQ(tf::softmax(empty, 1).shape(), tf::Dims({0, 4}));
  EXPECT_EQ(tf::log_softmax(ones_of({3, 0}), 1).shape(), tf::Dims({3, 0}));
}

// softmax_grad(y, dy) = y (dy - sum(dy y)) and log_softmax_grad(y, dy) = dy - exp(y) sum(dy).
TEST(Softmax, GradientOpsSmallCasesAndErrors) {
  const tf::OpDef& grad = tf::registry().get("softmax_grad");
  const tf::OpDef& log_grad = tf::registry().get("log_softmax_grad");
  const tf::Attrs last{{"axis", int64_t{-1}}};
  Tensor y = Tensor::from_vec({0.25, 0.75}, {2});
  Tensor dy = Tensor::from_vec({1.0, 0.0}, {2});
  // sum(dy y) = 0.25: [0.25 * 0.75, 0.75 * -0.25].
  const std::vector<double> dx = tf::dispatch1(grad, {y, dy}, last).to_vector<double>();
  EXPECT_DOUBLE_EQ(dx[0], 0.1875);
  EXPECT_DOUBLE_EQ(dx[1], -0.1875);
  // sum(dy) = 1: dy - exp(log y) = [1 - 0.25, -0.75].
  const std::vector<double> ldx = tf::dispatch1(log_grad, {y.log(), dy}, last).to_vector<double>();
  EXPECT_NEAR(ldx[0], 0.75, 1e-15);
  EXPECT_NEAR(ldx[1], -0.75, 1e-15);
  // A 0-d input is one lane of one element: y (dy - dy y).
  EXPECT_DOUBLE_EQ(
      tf::dispatch1(grad, {Tensor::scalar(0.5, DType::F64), Tensor::scalar(2.0, DType::F64)}, last)
          .item<double>(),
      0.5);
  EXPECT_EQ(tf::dispatch1(grad, {ones_of({0, 4}), ones_of({0, 4})}, last).shape(),
            tf::Dims({0, 4}));

  Tensor f32 = ones_of({2, 3});
  EXPECT_THROW(tf::dispatch1(grad, {f32, ones_of({2, 3}, DType::F64)}, last), tf::DTypeError);
  EXPECT_THROW(
      tf::dispatch1(grad, {ones_of({2, 3}, DType::I32), ones_of({2, 3}, DType::I32)}, last),
      tf::DTypeError);
  EXPECT_THROW(tf::dispatch1(log_grad, {f32, ones_of({3, 2})}, last), tf::ShapeError);
  EXPECT_THROW(tf::dispatch1(grad, {f32, f32}, tf::Attrs{{"axis", int64_t{2}}}), tf::IndexError);
  try {
    tf::dispatch1(grad, {f32, ones_of({2, 1})}, last);
    FAIL() << "expected a ShapeError";
  } catch (const tf::ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "softmax_grad: the output gradient has shape [2, 1]"))
        << e.what();
  }
}

TEST(LayerNorm, ExactSmallCaseAndPromotion) {
  // Rows (1, 3) and (2, 2): means 2 and 2, variances 1 and 0; epsilon 0 makes rstd exact, and
  // the constant row (with epsilon 0) divides 0 by 0.
  const Tensor x = Tensor::from_vec(std::vector<double>{1, 3, 2, 2}, {2, 2});
  const Tensor gamma = Tensor::from_vec(std::vector<float>{2, 1}, {2});
  const Tensor beta = Tensor::from_vec(std::vector<float>{0, 10}, {2});
  const Tensor y = tf::layer_norm(x, gamma, beta, -1, 0.0);
  EXPECT_EQ(y.dtype(), DType::F64);
  const std::vector<double> v = y.to_vector<double>();
  EXPECT_EQ(v[0], -2.0);
  EXPECT_EQ(v[1], 11.0);
  EXPECT_TRUE(std::isnan(v[2]) && std::isnan(v[3]));
  EXPECT_EQ(tf::layer_norm(ones_of({3}, DType::I32)).dtype(), DType::F32);
}

TEST(LayerNorm, ErrorsNameTheOperand) {
  const Tensor x = ones_of({2, 3});
  EXPECT_THROW(tf::layer_norm(x, ones_of({2})), tf::ShapeError);
  EXPECT_THROW(tf::layer_norm(x, {}, ones_of({2, 3}), -1), tf::ShapeError);
  EXPECT_THROW(tf::layer_norm(x, {}, {}, 2), tf::IndexError);
  EXPECT_THROW(tf::layer_norm(Tensor::scalar(1.0, DType::F32)), tf::ShapeError);
  EXPECT_THROW(tf::layer_norm(ones_of({2, 0})), tf::ShapeError);
  EXPECT_THROW(tf::layer_norm(x, {}, {}, -1, -1.0), tf::InvalidArgument);
  const tf::OpDef& op = tf::registry().get("layer_norm");
  const tf::Attrs attrs{
      {"axis", int64_t{-1}}, {"epsilon", 1e-5}, {"scale", true}, {"center", false}};
  EXPECT_THROW(tf::dispatch(op, std::vector<Tensor>{x}, attrs),
               tf::InvalidArgument);  // gamma missing
  EXPECT_THROW(tf::dispatch(op, std::vector<Tensor>{x, ones_of({3}, DType::F64)}, attrs),
               tf::DTypeError);
  EXPECT_THROW(
      tf::dispatch(op, std::vector<Tensor>{ones_of({2, 3}, DType::I32), ones_of({3}, DType::I32)},
                   attrs),
      tf::DTypeError);
  try {
    tf::layer_norm(x, ones_of({4}));
    ADD_FAILURE() << "expected a ShapeError";
  } catch (const tf::ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "gamma has shape [4], expected [3]")) << e.what();
  }
  // The statistics layer_norm_backward takes must be one per row, in the stats dtype.
  const tf::OpDef& backward = tf::registry().get("layer_norm_backward");
  const tf::Attrs b{{"axis", int64_t{-1}}, {"scale", false}, {"param_grads", false}};
  const Tensor stats = ones_of({2, 1});
  EXPECT_EQ(tf::dispatch(backward, std::vector<Tensor>{x, x, stats, stats}, b).size(), 1u);
  EXPECT_THROW(tf::dispatch(backward, std::vector<Tensor>{x, x, ones_of({2}), stats}, b),
               tf::ShapeError);
  EXPECT_THROW(
      tf::dispatch(backward, std::vector<Tensor>{x, x, stats, ones_of({2, 1}, DType::F64)}, b),
      tf::DTypeError);
}
