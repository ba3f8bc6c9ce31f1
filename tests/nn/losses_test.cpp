// Losses against naive float64 loops written from the Keras formulas, gradients against central
// differences, stability at huge logits, and typed errors for bad input.
#include "tenflowers/nn/losses.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "tests/support/reference.hpp"

namespace tf = tenflowers;
namespace losses = tf::nn::losses;
using tf::DType;
using tf::GradientTape;
using tf::Tensor;
using tf::nn::Reduction;
using tf::testing::Layout;
using tf::testing::Ref;
using tf::testing::Rng;

namespace {

// Keras' probability clamp [1e-7, 1 - 1e-7], with the bounds as the compute dtype holds them
// (in f32, 1 - 1e-7 rounds to 1 - 2^-23).
struct Clamp {
  double lo, hi;
};
Clamp clamp_in(DType dtype) {
  if (dtype == DType::F64) return {1e-7, 1 - 1e-7};
  return {static_cast<float>(1e-7), static_cast<float>(1 - 1e-7)};
}

// One sample's loss from a row of targets and a row of predictions (n classes / features).
using RowLoss = std::function<double(const double* t, const double* p, int64_t n, Clamp c)>;

double clamped(double p, double lo, double hi) {
  return std::min(std::max(p, lo), hi);
}

double naive_mse(const double* t, const double* p, int64_t n, Clamp c) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += (p[i] - t[i]) * (p[i] - t[i]);
  return s / static_cast<double>(n);
}

double naive_mae(const double* t, const double* p, int64_t n, Clamp c) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(p[i] - t[i]);
  return s / static_cast<double>(n);
}

RowLoss naive_huber(double delta) {
  return [delta](const double* t, const double* p, int64_t n, Clamp) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double e = p[i] - t[i];
      s += std::fabs(e) <= delta ? 0.5 * e * e : delta * std::fabs(e) - 0.5 * delta * delta;
    }
    return s / static_cast<double>(n);
  };
}

double naive_bce(const double* t, const double* p, int64_t n, Clamp c) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double q = clamped(p[i], c.lo, c.hi);
    s -= t[i] * std::log(q) + (1 - t[i]) * std::log(1 - q);
  }
  return s / static_cast<double>(n);
}

// -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), evaluated in long double.
double naive_bce_logits(const double* t, const double* x, int64_t n, Clamp c) {
  long double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const long double v = x[i];
    // log(1 + e^v) without overflow: v + log(1 + e^-v) for positive v.
    const long double softplus = v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
    s += softplus - v * t[i];
  }
  return static_cast<double>(s / n);
}

double naive_cce(const double* t, const double* p, int64_t n, Clamp c) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += p[i];
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s -= t[i] * std::log(clamped(p[i] / total, c.lo, c.hi));
  return s;
}

// log_softmax in long double with the max subtracted.
std::vector<long double> naive_log_softmax(const double* x, int64_t n) {
  long double top = x[0];
  for (int64_t i = 1; i < n; ++i) top = std::max<long double>(top, x[i]);
  long double z = 0;
  for (int64_t i = 0; i < n; ++i) z += std::exp(x[i] - top);
  std::vector<long double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = x[i] - top - std::log(z);
  return out;
}

double naive_cce_logits(const double* t, const double* x, int64_t n, Clamp c) {
  const auto logp = naive_log_softmax(x, n);
  long double s = 0;
  for (int64_t i = 0; i < n; ++i) s -= t[i] * logp[static_cast<size_t>(i)];
  return static_cast<double>(s);
}

double naive_kl(const double* t, const double* p, int64_t n, Clamp c) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = clamped(t[i], c.lo, 1), b = clamped(p[i], c.lo, 1);
    s += a * std::log(a / b);
  }
  return s;
}

// Terms t log(t / p) of either sign cancel. Each carries an absolute error of about
// u (t + |term|) from the rounded quotient and the log, and the sum adds u |term| per term, so
// errors scale with sum(t + |term|) rather than with the result.
double kl_magnitude(const double* t, const double* p, int64_t n, Clamp c) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = clamped(t[i], c.lo, 1), b = clamped(p[i], c.lo, 1);
    s += a + std::fabs(a * std::log(a / b));
  }
  return s;
}

// Per-sample losses of y_pred's shape without its last axis.
Ref naive_per_sample(const Ref& t, const Ref& p, const RowLoss& row, DType dtype) {
  const int64_t n = p.shape.back();
  Ref out(std::vector<int64_t>(p.shape.begin(), p.shape.end() - 1));
  for (int64_t r = 0; r < out.numel(); ++r) {
    out.data[static_cast<size_t>(r)] =
        row(t.data.data() + r * n, p.data.data() + r * n, n, clamp_in(dtype));
  }
  return out;
}

Ref reduced(const Ref& per_sample, Reduction reduction) {
  if (reduction == Reduction::None) return per_sample;
  double s = 0;
  for (double v : per_sample.data) s += v;
  if (reduction == Reduction::Mean && per_sample.numel() > 0) s /= per_sample.numel();
  return Ref({}, {s});
}

using DenseLoss = std::function<Tensor(const Tensor&, const Tensor&, Reduction)>;

struct DenseCase {
  std::string name;
  DenseLoss loss;
  RowLoss naive;
  double target_lo, target_hi, pred_lo, pred_hi;
  // For losses whose terms can cancel: the scale rounding errors are relative to (else the
  // value itself).
  RowLoss magnitude = nullptr;
};

std::vector<DenseCase> dense_cases() {
  return {
      {"mse", [](auto& t, auto& p, Reduction r) { return losses::mse(t, p, r); }, naive_mse, -2, 2,
       -2, 2},
      {"mae", [](auto& t, auto& p, Reduction r) { return losses::mae(t, p, r); }, naive_mae, -2, 2,
       -2, 2},
      {"huber", [](auto& t, auto& p, Reduction r) { return losses::huber(t, p, 0.7, r); },
       naive_huber(0.7), -2, 2, -2, 2},
      // Probabilities reaching 0 and 1 exercise the clamping.
      {"bce",
       [](auto& t, auto& p, Reduction r) { return losses::binary_crossentropy(t, p, false, r); },
       naive_bce, 0, 1, 0, 1},
      {"bce_logits",
       [](auto& t, auto& p, Reduction r) { return losses::binary_crossentropy(t, p, true, r); },
       naive_bce_logits, 0, 1, -8, 8},
      {"cce",
       [](auto& t, auto& p, Reduction r) {
         return losses::categorical_crossentropy(t, p, false, r);
       },
       naive_cce, 0, 1, 0.01, 1},
      {"cce_logits",
       [](auto& t, auto& p, Reduction r) {
         return losses::categorical_crossentropy(t, p, true, r);
       },
       naive_cce_logits, 0, 1, -8, 8},
      {"kl", [](auto& t, auto& p, Reduction r) { return losses::kl_divergence(t, p, r); }, naive_kl,
       0, 1, 0, 1, kl_magnitude},
  };
}

// Tolerance of a reduced loss: the per-sample losses are non-negative, so rounding in their sum
// stays relative; f16 and bf16 inputs compute in f32.
tf::testing::Tolerance loss_tolerance(DType dtype) {
  return tf::testing::tolerance_for(dtype == DType::F64 ? DType::F64 : DType::F32);
}

}  // namespace

TEST(Losses, DenseLossesMatchNaiveLoops) {
  Rng rng = Rng::for_test();
  const std::vector<std::vector<int64_t>> shapes = {{5}, {7, 3}, {16, 10}, {2, 3, 4}, {0, 4}};
  for (const DenseCase& c : dense_cases()) {
    for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
      for (const auto& shape : shapes) {
        for (Layout layout : {Layout::Contiguous, Layout::Transposed, Layout::Strided}) {
          SCOPED_TRACE(c.name + " " + std::string(tf::dtype_name(dtype)) + " " +
                       tf::format_dims(shape) + " layout " + std::to_string(int(layout)));
          const Tensor t =
              tf::testing::random_tensor(rng, shape, DType::F64, c.target_lo, c.target_hi, layout);
          const Tensor p =
              tf::testing::random_tensor(rng, shape, dtype, c.pred_lo, c.pred_hi, layout);
          const Ref per_sample =
              naive_per_sample(tf::testing::to_ref(t), tf::testing::to_ref(p), c.naive, dtype);
          for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
            const Tensor loss = c.loss(t, p, r);
            EXPECT_EQ(loss.dtype(), dtype == DType::F64 ? DType::F64 : DType::F32);
            tf::testing::Tolerance tol = loss_tolerance(dtype);
            if (c.magnitude) {
              const Ref scale = naive_per_sample(tf::testing::to_ref(t), tf::testing::to_ref(p),
                                                 c.magnitude, dtype);
              double largest = 0;
              if (r == Reduction::None) {
                for (double v : scale.data) largest = std::max(largest, v);
              } else {
                largest = reduced(scale, r).data[0];
              }
              tol = {0.0, tol.atol + tol.rtol * largest};
            }
            EXPECT_CLOSE_TO_REF(loss, reduced(per_sample, r), tol);
          }
        }
      }
    }
  }
}

TEST(Losses, SparseCategoricalCrossentropyMatchesNaiveLoops) {
  Rng rng = Rng::for_test();
  for (bool from_logits : {false, true}) {
    for (DType label_dtype : {DType::U8, DType::I32, DType::I64}) {
      for (DType dtype : {DType::F32, DType::F64}) {
        for (const std::vector<int64_t>& batch : std::vector<std::vector<int64_t>>{{9}, {3, 4}}) {
          const int64_t classes = rng.integer(2, 12);
          std::vector<int64_t> shape = batch;
          shape.push_back(classes);
          const Tensor labels =
              tf::testing::random_tensor(rng, batch, label_dtype, 0, double(classes - 1));
          const Tensor p = tf::testing::random_tensor(rng, shape, dtype, from_logits ? -6 : 0.01,
                                                      from_logits ? 6 : 1, Layout::Transposed);
          // The same loss with a one-hot target, computed naively.
          const Ref label_ref = tf::testing::to_ref(labels);
          Ref one_hot(shape);
          for (int64_t i = 0; i < label_ref.numel(); ++i) {
            one_hot.data[static_cast<size_t>(i * classes + int64_t(label_ref.data[size_t(i)]))] = 1;
          }
          const Ref per_sample = naive_per_sample(
              one_hot, tf::testing::to_ref(p), from_logits ? naive_cce_logits : naive_cce, dtype);
          for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
            EXPECT_CLOSE_TO_REF(losses::sparse_categorical_crossentropy(labels, p, from_logits, r),
                                reduced(per_sample, r), loss_tolerance(dtype));
          }
          // Labels with a trailing axis of 1, as Keras accepts.
          EXPECT_CLOSE_TO_REF(
              losses::sparse_categorical_crossentropy(labels.unsqueeze(-1), p, from_logits),
              reduced(per_sample, Reduction::Mean), loss_tolerance(dtype));
        }
      }
    }
  }
}

namespace {

// d(loss)/d(x) by central differences of the loss itself, in float64.
Ref central_difference(const std::function<Tensor(const Tensor&)>& loss, const Tensor& x) {
  const Ref base = tf::testing::to_ref(x);
  Ref grad(base.shape);
  const double h = 1e-5;
  for (size_t i = 0; i < base.data.size(); ++i) {
    Ref plus = base, minus = base;
    plus.data[i] += h;
    minus.data[i] -= h;
    grad.data[i] = (loss(tf::testing::from_ref(plus, DType::F64)).item<double>() -
                    loss(tf::testing::from_ref(minus, DType::F64)).item<double>()) /
                   (2 * h);
  }
  return grad;
}

Tensor tape_gradient(const std::function<Tensor(const Tensor&)>& loss, const Tensor& x) {
  GradientTape tape;
  tape.watch(x);
  const Tensor value = loss(x);
  return tape.gradient(value, x);
}

// Central differences with h = 1e-5 on losses whose third derivatives are O(1) on these inputs
// err by about h^2 = 1e-10, plus rounding of about 1e-16 / h = 1e-11.
const tf::testing::Tolerance kFiniteDifference{1e-6, 1e-8};

}  // namespace

TEST(Losses, GradientsMatchCentralDifferences) {
  Rng rng = Rng::for_test();
  for (const DenseCase& c : dense_cases()) {
    SCOPED_TRACE(c.name);
    // Probabilities stay clear of the clamps, so the loss is smooth around each point.
    const bool probabilities = c.pred_lo >= 0;
    const double lo = probabilities ? 0.05 : c.pred_lo, hi = probabilities ? 0.95 : c.pred_hi;
    const Tensor t = tf::testing::random_tensor(rng, {4, 5}, DType::F64, std::max(c.target_lo, lo),
                                                std::min(c.target_hi, hi));
    const Tensor p = tf::testing::random_tensor(rng, {4, 5}, DType::F64, lo, hi, Layout::Strided);
    for (Reduction r : {Reduction::Sum, Reduction::Mean}) {
      auto wrt_pred = [&](const Tensor& x) { return c.loss(t, x, r); };
      EXPECT_CLOSE_TO_REF(tape_gradient(wrt_pred, p), central_difference(wrt_pred, p),
                          kFiniteDifference);
      auto wrt_target = [&](const Tensor& x) { return c.loss(x, p, r); };
      EXPECT_CLOSE_TO_REF(tape_gradient(wrt_target, t), central_difference(wrt_target, t),
                          kFiniteDifference);
    }
  }
  for (bool from_logits : {false, true}) {
    const Tensor labels = tf::testing::random_tensor(rng, {6}, DType::I64, 0, 3);
    const Tensor p = tf::testing::random_tensor(rng, {6, 4}, DType::F64, from_logits ? -3 : 0.05,
                                                from_logits ? 3 : 0.95);
    auto loss = [&](const Tensor& x) {
      return losses::sparse_categorical_crossentropy(labels, x, from_logits);
    };
    EXPECT_CLOSE_TO_REF(tape_gradient(loss, p), central_difference(loss, p), kFiniteDifference);
  }
}

TEST(Losses, BinaryCrossentropyFromLogitsGradientAtZeroIsSigmoidMinusTarget) {
  const Tensor x = tf::zeros({4, 1}, DType::F64);
  const Tensor z = Tensor::from_vec<double>({0.0, 1.0, 0.25, 0.5}, {4, 1});
  const Tensor g = tape_gradient(
      [&](const Tensor& v) { return losses::binary_crossentropy(z, v, true, Reduction::Sum); }, x);
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{0.5, -0.5, 0.25, 0.0}));
}

TEST(Losses, HugeLogitsGiveExactFiniteLossesAndGradients) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::F32, DType::F64}) {
    SCOPED_TRACE(std::string(tf::dtype_name(dtype)));
    const tf::testing::Tolerance tol = tf::testing::tolerance_for(dtype);
    const Tensor x = tf::testing::random_tensor(rng, {8, 6}, dtype, -1e4, 1e4);
    const Ref xr = tf::testing::to_ref(x);
    const Tensor labels = tf::testing::random_tensor(rng, {8}, DType::I64, 0, 5);
    const Tensor one_hot = tf::one_hot(labels, 6, dtype);
    // 0/1 targets: the exact loss is then |x| or 0, which rounding cannot blur.
    const Tensor z = tf::testing::random_tensor(rng, {8, 6}, DType::I64, 0, 1).cast(dtype);
    const Ref zr = tf::testing::to_ref(z), onehot_r = tf::testing::to_ref(one_hot);

    // Binary: loss log(1 + e^x) - x z and gradient (sigmoid(x) - z) / n per element.
    Ref bce_grad({8, 6});
    for (size_t i = 0; i < xr.data.size(); ++i) {
      const long double s = 1.0L / (1.0L + std::exp(-static_cast<long double>(xr.data[i])));
      bce_grad.data[i] = static_cast<double>((s - zr.data[i]) / 6.0L);
    }
    auto bce = [&](const Tensor& v) {
      return losses::binary_crossentropy(z, v, true, Reduction::Sum);
    };
    EXPECT_CLOSE_TO_REF(
        bce(x), reduced(naive_per_sample(zr, xr, naive_bce_logits, dtype), Reduction::Sum), tol);
    EXPECT_CLOSE_TO_REF(tape_gradient(bce, x), bce_grad, tol);

    // Categorical and sparse: loss logsumexp(x) - x_label and gradient softmax(x) - one_hot.
    Ref cce_grad({8, 6});
    for (int64_t r = 0; r < 8; ++r) {
      const auto logp = naive_log_softmax(xr.data.data() + r * 6, 6);
      for (int64_t c = 0; c < 6; ++c) {
        const size_t i = static_cast<size_t>(r * 6 + c);
        cce_grad.data[i] = static_cast<double>(std::exp(logp[size_t(c)]) - onehot_r.data[i]);
      }
    }
    const Ref cce_value =
        reduced(naive_per_sample(onehot_r, xr, naive_cce_logits, dtype), Reduction::Sum);
    auto cce = [&](const Tensor& v) {
      return losses::categorical_crossentropy(one_hot, v, true, Reduction::Sum);
    };
    auto sparse = [&](const Tensor& v) {
      return losses::sparse_categorical_crossentropy(labels, v, true, Reduction::Sum);
    };
    for (const auto& loss : {std::function<Tensor(const Tensor&)>(cce), {sparse}}) {
      const Tensor value = loss(x);
      EXPECT_TRUE(std::isfinite(value.item<double>()));
      EXPECT_CLOSE_TO_REF(value, cce_value, tol);
      EXPECT_CLOSE_TO_REF(tape_gradient(loss, x), cce_grad, tol);
    }
  }
}

TEST(Losses, ClassesMatchFreeFunctionsAndHaveKerasNames) {
  Rng rng = Rng::for_test();
  const Tensor t = tf::testing::random_tensor(rng, {5, 3}, DType::F32, 0, 1);
  const Tensor p = tf::testing::random_tensor(rng, {5, 3}, DType::F32, 0.1, 0.9);
  const Tensor labels = tf::testing::random_tensor(rng, {5}, DType::I64, 0, 2);
  struct Pair {
    std::unique_ptr<tf::nn::Loss> loss;
    Tensor expected;
    std::string name;
    Tensor target;
  };
  std::vector<Pair> pairs;
  pairs.push_back({std::make_unique<losses::MeanSquaredError>(Reduction::Sum),
                   losses::mse(t, p, Reduction::Sum), "mean_squared_error", t});
  pairs.push_back(
      {std::make_unique<losses::MeanAbsoluteError>(), losses::mae(t, p), "mean_absolute_error", t});
  pairs.push_back({std::make_unique<losses::Huber>(0.3, Reduction::None),
                   losses::huber(t, p, 0.3, Reduction::None), "huber_loss", t});
  pairs.push_back({std::make_unique<losses::BinaryCrossentropy>(true),
                   losses::binary_crossentropy(t, p, true), "binary_crossentropy", t});
  pairs.push_back({std::make_unique<losses::CategoricalCrossentropy>(),
                   losses::categorical_crossentropy(t, p), "categorical_crossentropy", t});
  pairs.push_back({std::make_unique<losses::SparseCategoricalCrossentropy>(true),
                   losses::sparse_categorical_crossentropy(labels, p, true),
                   "sparse_categorical_crossentropy", labels});
  pairs.push_back(
      {std::make_unique<losses::KLDivergence>(), losses::kl_divergence(t, p), "kl_divergence", t});
  for (const Pair& pair : pairs) {
    EXPECT_EQ(pair.loss->name(), pair.name);
    const Tensor value = (*pair.loss)(pair.target, p);
    EXPECT_EQ(value.shape(), pair.expected.shape());
    EXPECT_EQ(value.to_vector<double>(), pair.expected.to_vector<double>()) << pair.name;
  }
}

TEST(Losses, TargetsWithOneAxisLessAlignToAUnitLastAxis) {
  Rng rng = Rng::for_test();
  const Tensor t = tf::testing::random_tensor(rng, {6}, DType::F64, 0, 1);
  const Tensor p = tf::testing::random_tensor(rng, {6, 1}, DType::F64, 0, 1);
  EXPECT_EQ(losses::mse(t, p, Reduction::None).to_vector<double>(),
            losses::mse(t.unsqueeze(-1), p, Reduction::None).to_vector<double>());
  EXPECT_EQ(
      losses::binary_crossentropy(p, t, false, Reduction::None).to_vector<double>(),
      losses::binary_crossentropy(p.squeeze(), t, false, Reduction::None).to_vector<double>());
}

TEST(Losses, EmptyBatchMeanIsZero) {
  const Tensor t = tf::zeros({0, 3}), p = tf::zeros({0, 3});
  EXPECT_EQ(losses::mse(t, p).item<double>(), 0.0);
  EXPECT_EQ(losses::mse(t, p, Reduction::None).shape(), tf::Dims({0}));
  EXPECT_EQ(losses::sparse_categorical_crossentropy(tf::zeros({0}, DType::I64), p).item<double>(),
            0.0);
}

TEST(Losses, BadInputsThrowTypedErrors) {
  const Tensor p = tf::full({4, 3}, 0.5);
  EXPECT_THROW(losses::mse(tf::zeros({4}), p), tf::ShapeError);
  EXPECT_THROW(losses::mse(tf::zeros({3, 4}), p), tf::ShapeError);
  EXPECT_THROW(losses::categorical_crossentropy(tf::zeros({4, 1}), p), tf::ShapeError);
  EXPECT_THROW(losses::mse(tf::zeros({4, 3}), tf::zeros({4, 3}, DType::I32)), tf::DTypeError);
  EXPECT_THROW(losses::mse(tf::scalar_like(p, 1.0), tf::scalar_like(p, 1.0)), tf::ShapeError);
  EXPECT_THROW(losses::huber(p, p, 0.0), tf::InvalidArgument);
  EXPECT_THROW(losses::huber(p, p, std::nan("")), tf::InvalidArgument);
  EXPECT_THROW(losses::Huber(-1.0), tf::InvalidArgument);
  EXPECT_THROW(losses::sparse_categorical_crossentropy(tf::zeros({4}), p), tf::DTypeError);
  EXPECT_THROW(losses::sparse_categorical_crossentropy(tf::zeros({4, 3}, DType::I64), p),
               tf::ShapeError);
  EXPECT_THROW(losses::mse(Tensor(), p), tf::InvalidArgument);
}

TEST(Losses, OutOfRangeLabelThrowsIndexErrorNamingIt) {
  const Tensor p = tf::full({2, 3, 4}, 0.25);
  for (int64_t bad : {4, -1, 100}) {
    std::vector<int64_t> values = {0, 1, 2, 3, 3, 2};
    values[4] = bad;
    const Tensor labels = Tensor::from_vec<int64_t>(values, {2, 3});
    try {
      losses::sparse_categorical_crossentropy(labels, p, true);
      ADD_FAILURE() << "label " << bad << " was accepted";
    } catch (const tf::IndexError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("label " + std::to_string(bad)), std::string::npos) << message;
      EXPECT_NE(message.find("[1, 1]"), std::string::npos) << message;
      EXPECT_NE(message.find("[0, 4)"), std::string::npos) << message;
    }
  }
}
