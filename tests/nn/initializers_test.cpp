// Initializers: ranges and variances against their formulas (statistical bounds), orthogonality,
// reproducibility by seed.
#include "tenflowers/nn/initializers.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tenflowers/core/ops.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

struct Moments {
  double mean = 0, var = 0, min = INFINITY, max = -INFINITY;
};

Moments moments(const Tensor& t) {
  const Ref r = to_ref(t);
  Moments m;
  for (double v : r.data) {
    m.mean += v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  m.mean /= static_cast<double>(r.data.size());
  for (double v : r.data) m.var += (v - m.mean) * (v - m.mean);
  m.var /= static_cast<double>(r.data.size());
  return m;
}

TEST(Initializers, ScaledUniformAndNormalMatchTheirVariances) {
  Rng rng = Rng::for_test();
  manual_seed(rng.seed());
  const int64_t fan_in = rng.integer(50, 200), fan_out = rng.integer(50, 200);
  const Dims shape{fan_in, fan_out};
  const double n = static_cast<double>(shape.numel());
  struct Case {
    nn::Initializer init;
    double variance;
    double bound;  // |w| <= bound
  };
  const double glorot_var = 2.0 / static_cast<double>(fan_in + fan_out);
  const double he_var = 2.0 / static_cast<double>(fan_in);
  const Case cases[] = {
      {nn::Initializer::glorot_uniform(), glorot_var, std::sqrt(3 * glorot_var)},
      {nn::Initializer::glorot_normal(), glorot_var,
       2 * std::sqrt(glorot_var) / 0.8796256610342398},
      {nn::Initializer::he_uniform(), he_var, std::sqrt(3 * he_var)},
      {nn::Initializer::he_normal(), he_var, 2 * std::sqrt(he_var) / 0.8796256610342398},
  };
  for (const Case& c : cases) {
    const Moments m = moments(c.init(shape, DType::F64, {fan_in, fan_out}));
    // Sample mean and variance within 6 standard errors (the fourth moment is below 3 var^2).
    EXPECT_NEAR(m.mean, 0.0, 6 * std::sqrt(c.variance / n));
    EXPECT_NEAR(m.var, c.variance, 6 * c.variance * std::sqrt(2.0 / n));
    EXPECT_LE(std::max(-m.min, m.max), c.bound * (1 + 1e-12));
  }
}

TEST(Initializers, OrthogonalRowsOrColumnsAreOrthonormal) {
  Rng rng = Rng::for_test();
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{4, 9}, {9, 4}, {5, 5}}) {
    const Tensor w =
        nn::Initializer::orthogonal(2.0).with_seed(rng.seed())({rows, cols}, DType::F64, {});
    const Tensor gram = rows <= cols ? matmul(w, w.t()) : matmul(w.t(), w);
    const int64_t k = std::min(rows, cols);
    Ref expected({k, k});
    for (int64_t i = 0; i < k; ++i) expected.data[i * k + i] = 4.0;
    EXPECT_CLOSE_TO_REF(gram, expected, (Tolerance{1e-12, 1e-12}));
  }
  EXPECT_THROW(nn::Initializer::orthogonal()({5}, DType::F32, {}), ShapeError);
}

TEST(Initializers, SeedsReproduceAndConstantsFill) {
  const auto init = nn::Initializer::he_uniform().with_seed(11);
  EXPECT_TRUE(allclose(init({3, 4}, DType::F32, {3, 4}), init({3, 4}, DType::F32, {3, 4}), 0, 0));
  EXPECT_TRUE(
      allclose(nn::Initializer::constant(2.5)({2, 2}, DType::F32, {}), full({2, 2}, 2.5), 0, 0));
  EXPECT_TRUE(
      allclose(nn::Initializer::zeros()({3}, DType::F64, {}), zeros({3}, DType::F64), 0, 0));
  EXPECT_THROW(nn::Initializer::uniform(1, 0), InvalidArgument);
  EXPECT_THROW(nn::Initializer::he_normal()({2}, DType::I32, {}), DTypeError);
}

}  // namespace
}  // namespace tenflowers::testing
