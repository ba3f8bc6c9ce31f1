// Layers against independent computations: naive loops over Ref arrays for the values, central
// differences (layer_check) for the gradients.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/layers/conv.hpp"
#include "tenflowers/nn/layers/core.hpp"
#include "tenflowers/nn/layers/normalization.hpp"
#include "tests/nn/layer_check.hpp"

namespace tenflowers::testing {
namespace {

using nn::Layer;

Tensor rand64(Rng& rng, std::vector<int64_t> shape, double lo = -1, double hi = 1) {
  return random_tensor(rng, std::move(shape), DType::F64, lo, hi);
}

TEST(Dense, MatchesNaiveAffineMapOnTheLastAxis) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (int round = 0; round < 3; ++round) {
    const int64_t in = rng.integer(1, 6), units = rng.integer(1, 5), b = rng.integer(1, 4);
    nn::Dense dense(units, {.activation = "tanh"});
    const std::vector<int64_t> shape =
        round == 2 ? std::vector<int64_t>{b, 3, in} : std::vector<int64_t>{b, in};
    const Tensor x = rand64(rng, shape);
    const Tensor y = dense(x);
    const Ref xr = to_ref(x), w = to_ref(dense.kernel().value()),
              bias = to_ref(dense.bias().value());
    const int64_t rows = xr.numel() / in;
    std::vector<int64_t> out_shape = shape;
    out_shape.back() = units;
    Ref expected(out_shape);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t u = 0; u < units; ++u) {
        double acc = bias.data[u];
        for (int64_t k = 0; k < in; ++k) acc += xr.data[r * in + k] * w.data[k * units + u];
        expected.data[r * units + u] = std::tanh(acc);
      }
    }
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::F64));
    expect_layer_gradients_match(dense, {x}, {true}, rng);
  }
}

TEST(Dense, RejectsAnInputOfAnotherWidthAfterBuilding) {
  nn::Dense dense(3);
  dense(zeros({2, 4}));
  EXPECT_THROW(dense(zeros({2, 5})), ShapeError);
  EXPECT_THROW(nn::Dense(0), InvalidArgument);
  EXPECT_THROW(nn::Dense(2, {.activation = "relux"}), InvalidArgument);
}

// Naive cross-correlation of x [N, C, H, W] with w [F, C/g, KH, KW].
Ref naive_conv2d(const Ref& x, const Ref& w, const Ref* bias, int64_t stride, int64_t pad_top,
                 int64_t pad_left, int64_t dil, int64_t groups, int64_t oh, int64_t ow) {
  const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  const int64_t f = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  const int64_t fg = f / groups;
  Ref out({n, f, oh, ow});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < f; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bias ? bias->data[o] : 0.0;
          const int64_t g = o / fg;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t p = 0; p < kh; ++p)
              for (int64_t q = 0; q < kw; ++q) {
                const int64_t r = i * stride - pad_top + p * dil,
                              s = j * stride - pad_left + q * dil;
                if (r < 0 || r >= h || s < 0 || s >= wd) continue;
                acc += x.at({b, g * cg + ci, r, s}) * w.at({o, ci, p, q});
              }
          out.at({b, o, i, j}) = acc;
          (void)c;
        }
  return out;
}

TEST(Conv2D, MatchesNaiveConvolutionWithStridesPaddingDilationAndGroups) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (int round = 0; round < 4; ++round) {
    const int64_t groups = rng.integer(1, 2), filters = groups * rng.integer(1, 2);
    const int64_t c = groups * rng.integer(1, 2), k = rng.integer(1, 3), stride = rng.integer(1, 2);
    const int64_t dil = k > 1 ? rng.integer(1, 2) : 1;
    const bool same = round % 2 == 1;
    const int64_t h = rng.integer(k * dil, 6), w = rng.integer(k * dil, 6);
    nn::Conv2D conv(filters, {k},
                    {.strides = {stride},
                     .padding = same ? "same" : "valid",
                     .dilation = {dil},
                     .groups = groups});
    const Tensor x = rand64(rng, {2, c, h, w});
    const Tensor y = conv(x);
    const Ref bias = to_ref(conv.bias().value());
    // TensorFlow's "same": out = ceil(in / stride), the odd padding row at the end.
    auto pads = [&](int64_t in, int64_t& out) {
      if (!same) {
        out = (in - dil * (k - 1) - 1) / stride + 1;
        return int64_t{0};
      }
      out = (in + stride - 1) / stride;
      const int64_t total = std::max<int64_t>((out - 1) * stride + (k - 1) * dil + 1 - in, 0);
      return total / 2;
    };
    int64_t oh = 0, ow = 0;
    const int64_t pt = pads(h, oh), pl = pads(w, ow);
    const Ref expected = naive_conv2d(to_ref(x), to_ref(conv.kernel().value()), &bias, stride, pt,
                                      pl, dil, groups, oh, ow);
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::F64));
    if (round < 2) expect_layer_gradients_match(conv, {x}, {true}, rng);
  }
}

TEST(Conv1D, MatchesTheTwoDimensionalConvolutionOfARow) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  const int64_t c = 2, filters = 3, k = 3, w = 7;
  nn::Conv1D conv(filters, k, {.strides = {2}, .padding = "explicit", .pads = {1}});
  const Tensor x = rand64(rng, {2, c, w});
  const Tensor y = conv(x);
  const auto vars = conv.named_variables();
  ASSERT_EQ(vars.size(), 2u);
  Ref x4 = to_ref(x.unsqueeze(2)), w4 = to_ref(vars[0].second.value().unsqueeze(2));
  const Ref bias = to_ref(vars[1].second.value());
  const int64_t ow = (w + 2 - k) / 2 + 1;
  Ref expected = naive_conv2d(x4, w4, &bias, 2, 0, 1, 1, 1, 1, ow);
  expected.shape = {2, filters, ow};
  EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::F64));
  expect_layer_gradients_match(conv, {x}, {true}, rng);
}

TEST(Conv2DTranspose, IsTheAdjointOfConv2DWithTheSameKernel) {
  // <conv_t(u), v> == <u, conv(v)> for the correlation with the same kernel (no bias).
  Rng rng = Rng::for_test();
  F64Weights f64;
  const int64_t in = 3, out = 2, k = 3, stride = 2, h = 4;
  nn::Conv2DTranspose convt(out, {k}, {.strides = {stride}, .use_bias = false});
  const Tensor u = rand64(rng, {1, in, h, h});
  const Tensor y = convt(u);
  const int64_t oh = (h - 1) * stride + k;
  ASSERT_EQ(y.shape(), Dims({1, out, oh, oh}));
  const Tensor v = rand64(rng, {1, out, oh, oh});
  const Ref kernel = to_ref(convt.named_variables()[0].second.value());  // [in, out, k, k]
  // conv(v) with weight [in, out, k, k] read as (filters = in, channels = out).
  const Ref conv_v = naive_conv2d(to_ref(v), kernel, nullptr, stride, 0, 0, 1, 1, h, h);
  const Ref ur = to_ref(u), yr = to_ref(y), vr = to_ref(v);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < yr.data.size(); ++i) lhs += yr.data[i] * vr.data[i];
  for (size_t i = 0; i < ur.data.size(); ++i) rhs += ur.data[i] * conv_v.data[i];
  EXPECT_NEAR(lhs, rhs, 1e-9 * (1 + std::abs(rhs)));
  expect_layer_gradients_match(convt, {u}, {true}, rng);
}

TEST(Pooling, MaxAndAverageMatchNaiveWindows) {
  Rng rng = Rng::for_test();
  const Tensor x = rand64(rng, {2, 3, 5, 6});
  const Ref xr = to_ref(x);
  for (bool use_max : {true, false}) {
    std::shared_ptr<Layer> pool;
    if (use_max) {
      pool = std::make_shared<nn::MaxPool2D>(std::vector<int64_t>{2, 3});
    } else {
      pool = std::make_shared<nn::AvgPool2D>(std::vector<int64_t>{2, 3});
    }
    const Tensor y = (*pool)(x);
    Ref expected({2, 3, 2, 2});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t j = 0; j < 2; ++j) {
            double acc = use_max ? -INFINITY : 0.0;
            for (int64_t p = 0; p < 2; ++p)
              for (int64_t q = 0; q < 3; ++q) {
                const double v = xr.at({b, c, 2 * i + p, 3 * j + q});
                acc = use_max ? std::max(acc, v) : acc + v / 6.0;
              }
            expected.at({b, c, i, j}) = acc;
          }
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::F64));
  }
  nn::MaxPool1D pool1(3, {.strides = {2}});
  const Tensor x1 = rand64(rng, {2, 2, 7});
  const Ref x1r = to_ref(x1);
  Ref expected1({2, 2, 3});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < 3; ++i)
        expected1.at({b, c, i}) =
            std::max({x1r.at({b, c, 2 * i}), x1r.at({b, c, 2 * i + 1}), x1r.at({b, c, 2 * i + 2})});
  EXPECT_CLOSE_TO_REF(pool1(x1), expected1, tolerance_for(DType::F64));

  nn::GlobalAveragePooling gap;
  Ref expected_gap({2, 3});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < 3; ++c) {
      double acc = 0;
      for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = 0; j < 6; ++j) acc += xr.at({b, c, i, j});
      expected_gap.at({b, c}) = acc / 30.0;
    }
  EXPECT_CLOSE_TO_REF(gap(x), expected_gap, tolerance_for(DType::F64));
  EXPECT_THROW(gap(zeros({2, 3})), ShapeError);
}

TEST(BatchNormalization, TrainingUsesBatchStatisticsAndUpdatesTheMovingOnes) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  nn::BatchNormalization bn({.momentum = 0.9, .epsilon = 1e-3});
  bn.set_training(true);
  const Tensor x = rand64(rng, {4, 3, 2, 2}, -2, 3);
  const Tensor y = bn(x);
  const Ref xr = to_ref(x);
  Ref expected(xr.shape);
  std::vector<double> mu(3), var(3);
  for (int64_t c = 0; c < 3; ++c) {
    double s = 0, s2 = 0;
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t i = 0; i < 4; ++i) s += xr.at({b, c, i / 2, i % 2});
    mu[c] = s / 16;
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t i = 0; i < 4; ++i) s2 += std::pow(xr.at({b, c, i / 2, i % 2}) - mu[c], 2);
    var[c] = s2 / 16;
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t i = 0; i < 4; ++i)
        expected.at({b, c, i / 2, i % 2}) =
            (xr.at({b, c, i / 2, i % 2}) - mu[c]) / std::sqrt(var[c] + 1e-3);
  }
  EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::F64));
  Ref moving_mean({3}), moving_var({3});
  for (int64_t c = 0; c < 3; ++c) {
    moving_mean.data[c] = 0.1 * mu[c];
    moving_var.data[c] = 0.9 + 0.1 * var[c];
  }
  EXPECT_CLOSE_TO_REF(bn.moving_mean().value(), moving_mean, tolerance_for(DType::F64));
  EXPECT_CLOSE_TO_REF(bn.moving_variance().value(), moving_var, tolerance_for(DType::F64));
  EXPECT_EQ(bn.trainable_variables().size(), 2u);
  EXPECT_EQ(bn.non_trainable_variables().size(), 2u);

  bn.set_training(false);
  Ref inference(xr.shape);
  for (int64_t b = 0; b < 4; ++b)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 4; ++i)
        inference.at({b, c, i / 2, i % 2}) = (xr.at({b, c, i / 2, i % 2}) - moving_mean.data[c]) /
                                             std::sqrt(moving_var.data[c] + 1e-3);
  EXPECT_CLOSE_TO_REF(bn(x), inference, tolerance_for(DType::F64));

  bn.set_training(true);
  expect_layer_gradients_match(bn, {x}, {true}, rng);
}

// The layer as it was before the fused ops: mean, var, rsqrt and broadcast arithmetic, with its
// own moving statistics.
struct CompositeBatchNorm {
  int64_t axis;
  double momentum, epsilon;
  Tensor moving_mean, moving_var;

  Dims feature_shape(const Tensor& x) const {
    std::vector<int64_t> s(static_cast<size_t>(x.rank()), 1);
    s[static_cast<size_t>(axis)] = x.size(axis);
    return Dims(s);
  }
  Tensor operator()(const Tensor& x, const Tensor& gamma, const Tensor& beta, bool training) {
    const Dims fshape = feature_shape(x);
    Tensor mu = moving_mean.reshape(fshape), variance = moving_var.reshape(fshape);
    if (training) {
      std::vector<int64_t> axes;
      for (int64_t a = 0; a < x.rank(); ++a) {
        if (a != axis) axes.push_back(a);
      }
      mu = mean(x, axes, true);
      variance = var(x, axes, 0, true);
      moving_mean = moving_mean * momentum + mu.reshape({x.size(axis)}) * (1.0 - momentum);
      moving_var = moving_var * momentum + variance.reshape({x.size(axis)}) * (1.0 - momentum);
    }
    return (x - mu) * (rsqrt(variance + epsilon) * gamma.reshape(fshape)) + beta.reshape(fshape);
  }
};

TEST(BatchNormalization, MatchesTheCompositeFormulaInTrainingAndInference) {
  Rng rng = Rng::for_test();
  struct Case {
    std::vector<int64_t> shape;
    int64_t axis;
  };
  const Case cases[] = {{{4, 3, 3, 5}, 1}, {{6, 4}, 1}, {{2, 3, 2, 5}, -1}};
  for (DType dtype : {DType::F32, DType::F64}) {
    const Tolerance tol = dtype == DType::F64 ? Tolerance{1e-10, 1e-12} : Tolerance{1e-4, 1e-5};
    const DType saved = nn::default_weight_dtype();
    nn::set_default_weight_dtype(dtype);
    for (const Case& c : cases) {
      SCOPED_TRACE(format_dims(c.shape) + " axis " + std::to_string(c.axis) + " " +
                   std::string(dtype_name(dtype)));
      const int64_t axis = c.axis < 0 ? c.axis + static_cast<int64_t>(c.shape.size()) : c.axis;
      nn::BatchNormalization bn({.axis = c.axis, .momentum = 0.8, .epsilon = 1e-3});
      bn.set_training(true);
      const int64_t channels = c.shape[static_cast<size_t>(axis)];
      CompositeBatchNorm reference{axis, 0.8, 1e-3, zeros({channels}, dtype),
                                   ones({channels}, dtype)};
      bn(random_tensor(rng, c.shape, dtype));  // builds
      std::vector<Variable> params;
      for (auto& [key, v] : bn.named_variables()) {
        Variable var = v;
        if (key == "gamma" || key == "beta") {
          var.assign(random_tensor(rng, {channels}, dtype, -2, 2));
          params.push_back(var);
        } else {
          var.assign(key == "moving_mean" ? zeros({channels}, dtype) : ones({channels}, dtype));
        }
      }
      ASSERT_EQ(params.size(), 2u);
      // Two training steps (values, gradients and moving statistics), then inference.
      Tensor x;
      for (int step = 0; step < 2; ++step) {
        x = random_tensor(rng, c.shape, dtype, -1, 3);
        const Tensor w = random_tensor(rng, c.shape, dtype);
        Tensor y, expected;
        std::vector<Tensor> grads, ref_grads;
        {
          GradientTape tape;
          tape.watch(x);
          y = bn(x);
          grads = tape.gradient({sum(y * w)}, {x, params[0], params[1]});
        }
        {
          const Tensor gamma = params[0].handle(), beta = params[1].handle();
          GradientTape tape;
          for (const Tensor& t : {x, gamma, beta}) tape.watch(t);
          expected = reference(x, gamma, beta, true);
          ref_grads = tape.gradient({sum(expected * w)}, {x, gamma, beta});
        }
        EXPECT_CLOSE_TO_REF(y, to_ref(expected), tol);
        for (size_t i = 0; i < 3; ++i) {
          EXPECT_CLOSE_TO_REF(grads[i], to_ref(ref_grads[i]), tol) << "gradient " << i;
        }
        EXPECT_CLOSE_TO_REF(bn.moving_mean().value(), to_ref(reference.moving_mean), tol);
        EXPECT_CLOSE_TO_REF(bn.moving_variance().value(), to_ref(reference.moving_var), tol);
      }
      bn.set_training(false);
      const Tensor expected = reference(x, params[0].handle(), params[1].handle(), false);
      EXPECT_CLOSE_TO_REF(bn(x), to_ref(expected), tol);
    }
    nn::set_default_weight_dtype(saved);
  }
}

TEST(LayerNormalization, NormalizesEachSampleOverTheTrailingAxes) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  nn::LayerNormalization ln({.axes = {-2, -1}, .epsilon = 1e-5});
  const Tensor x = rand64(rng, {3, 2, 4}, -2, 2);
  // Non-trivial gamma and beta, so their roles are checked too.
  ln(x);
  for (auto& [key, v] : ln.named_variables()) {
    Variable var = v;
    var.assign(rand64(rng, v.shape().vec()));
  }
  const Ref gamma = to_ref(ln.named_variables()[0].second.value());
  const Ref beta = to_ref(ln.named_variables()[1].second.value());
  const Ref xr = to_ref(x);
  Ref expected(xr.shape);
  for (int64_t b = 0; b < 3; ++b) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < 8; ++i) s += xr.data[b * 8 + i];
    const double mu = s / 8;
    for (int64_t i = 0; i < 8; ++i) s2 += std::pow(xr.data[b * 8 + i] - mu, 2);
    const double inv = 1 / std::sqrt(s2 / 8 + 1e-5);
    for (int64_t i = 0; i < 8; ++i)
      expected.data[b * 8 + i] = (xr.data[b * 8 + i] - mu) * inv * gamma.data[i] + beta.data[i];
  }
  EXPECT_CLOSE_TO_REF(ln(x), expected, tolerance_for(DType::F64));
  expect_layer_gradients_match(ln, {x}, {true}, rng);
  EXPECT_THROW(nn::LayerNormalization({.axes = {0}})(zeros({2, 3})), InvalidArgument);
}

// The layer runs the fused layer_norm op; it must give what the composite of reductions it
// replaced gives (mean, population variance, rsqrt, scale, shift), values and gradients, in f32
// and f64, with and without gamma and beta, over one and two trailing axes.
TEST(LayerNormalization, MatchesTheCompositeOfReductions) {
  Rng rng = Rng::for_test();
  for (DType dtype : {DType::F32, DType::F64}) {
    std::optional<F64Weights> f64;
    if (dtype == DType::F64) f64.emplace();
    const Tolerance tol = dtype == DType::F64 ? Tolerance{1e-10, 1e-12} : Tolerance{1e-4, 1e-5};
    for (int variant = 0; variant < 4; ++variant) {
      const bool scale = variant % 2 == 0, center = variant < 2;
      const std::vector<int64_t> axes =
          variant == 3 ? std::vector<int64_t>{-2, -1} : std::vector<int64_t>{-1};
      nn::LayerNormalization ln({.axes = axes, .epsilon = 1e-3, .center = center, .scale = scale});
      const Tensor x = random_tensor(rng, {4, 3, 50}, dtype, -3, 3);
      ln(x);
      for (auto& [key, v] : ln.named_variables()) {
        Variable var = v;
        var.assign(random_tensor(rng, v.shape().vec(), dtype));
      }
      GradientTape tape(TapeOptions{.persistent = true});
      tape.watch(x);
      const Tensor y = ln(x);
      Tensor expected = (x - mean(x, axes, true)) * rsqrt(var(x, axes, 0, true) + 1e-3);
      std::vector<Tensor> sources{x};
      for (auto& [key, v] : ln.named_variables()) {
        expected = key == "gamma" ? expected * v.value() : expected + v.value();
        sources.push_back(v.handle());
      }
      EXPECT_CLOSE_TO_REF(y, to_ref(expected), tol) << "variant " << variant;
      const Tensor weights = random_tensor(rng, {4, 3, 50}, dtype);
      const std::vector<Tensor> got = tape.gradient({sum(y * weights)}, sources);
      const std::vector<Tensor> want = tape.gradient({sum(expected * weights)}, sources);
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_CLOSE_TO_REF(got[i], to_ref(want[i]), tol)
            << "variant " << variant << ", source " << i;
      }
    }
  }
}

TEST(Dropout, DropsAtTheRateAndRescalesInTrainingOnly) {
  Rng rng = Rng::for_test();
  const double rate = rng.uniform(0.1, 0.6);
  nn::Dropout drop(rate);
  const Tensor x = random_tensor(rng, {200, 500}, DType::F32, 0.5, 1.5);
  EXPECT_TRUE(allclose(drop(x), x, 0, 0));  // inference: identity
  drop.set_training(true);
  const Tensor y = drop(x);
  const Ref xr = to_ref(x), yr = to_ref(y);
  int64_t dropped = 0;
  for (size_t i = 0; i < xr.data.size(); ++i) {
    if (yr.data[i] == 0) {
      ++dropped;
    } else {
      EXPECT_NEAR(yr.data[i], xr.data[i] / (1 - rate), 1e-6 * std::abs(yr.data[i]));
    }
  }
  // The dropped fraction is within 6 standard deviations of a binomial's.
  const double n = static_cast<double>(xr.data.size());
  EXPECT_NEAR(static_cast<double>(dropped) / n, rate, 6 * std::sqrt(rate * (1 - rate) / n));
  // Seeded layers repeat their masks; consecutive calls differ.
  nn::Dropout a(rate, 7), b(rate, 7);
  a.set_training(true);
  b.set_training(true);
  const Tensor a1 = a(x), a2 = a(x);
  EXPECT_TRUE(allclose(a1, b(x), 0, 0));
  EXPECT_FALSE(allclose(a1, a2, 0, 0));
  EXPECT_THROW(nn::Dropout(1.0), InvalidArgument);
}

TEST(Embedding, LooksUpRowsAndRejectsIdsOutOfRange) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  nn::Embedding emb(6, 3);
  const Tensor ids = random_tensor(rng, {2, 4}, DType::I64, 0, 5);
  const Tensor y = emb(ids);
  ASSERT_EQ(y.shape(), Dims({2, 4, 3}));
  const Ref table = to_ref(emb.embeddings().value()), idr = to_ref(ids);
  Ref expected({2, 4, 3});
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t d = 0; d < 3; ++d)
      expected.data[i * 3 + d] = table.data[static_cast<int64_t>(idr.data[i]) * 3 + d];
  EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::F64));
  expect_layer_gradients_match(emb, {ids}, {false}, rng);
  EXPECT_THROW(emb(Tensor::from_vec<int64_t>({0, 6}, {2})), IndexError);
  EXPECT_THROW(emb(Tensor::from_vec<int64_t>({-1}, {1})), IndexError);
  EXPECT_THROW(emb(zeros({2})), DTypeError);
}

TEST(Reshaping, FlattenAndReshapeKeepTheBatchAxis) {
  Rng rng = Rng::for_test();
  const Tensor x = rand64(rng, {3, 2, 4});
  nn::Flatten flatten;
  nn::Reshape reshape({4, -1});
  EXPECT_EQ(flatten(x).shape(), Dims({3, 8}));
  EXPECT_TRUE(allclose(flatten(x).reshape({3, 2, 4}), x, 0, 0));
  EXPECT_EQ(reshape(x).shape(), Dims({3, 4, 2}));
  EXPECT_THROW(nn::Reshape({5})(x), ShapeError);
}

TEST(Layer, WeightsAreNamedByPathAndRegularizersAddPenalties) {
  nn::Dense dense(2, {.kernel_regularizer = nn::l2(0.5), .name = "head"});
  dense(ones({1, 3}));
  const auto named = dense.named_variables();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "kernel");
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_EQ(named[0].second.name(), "head/kernel");
  EXPECT_EQ(dense.count_params(), 8);
  const Ref w = to_ref(dense.kernel().value());
  double expected = 0;
  for (double v : w.data) expected += 0.5 * v * v;
  EXPECT_NEAR(dense.regularization_loss().item<double>(), expected, 1e-6 * expected);
  dense.set_trainable(false);
  EXPECT_TRUE(dense.trainable_variables().empty());
  EXPECT_FALSE(dense.regularization_loss().defined());
  EXPECT_NE(nn::Dense(1).name(), nn::Dense(1).name());
}

}  // namespace
}  // namespace tenflowers::testing
