// Higher-order derivatives, forward mode and the checkpointing policies, checked against
// closed forms and finite differences computed independently in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tests/support/reference.hpp"

namespace tf = tenflowers;
using tf::DType;
using tf::GradientTape;
using tf::Tensor;
using tf::testing::Ref;
using tf::testing::Rng;

namespace {

Tensor sin_x_cubed(const Tensor& x) {
  return tf::sum(x.sin() * x * x * x);
}

// H_ij of f at x by central second differences of f itself.
Ref fd_hessian(const tf::ScalarFn& f, const Tensor& x) {
  const Ref base = tf::testing::to_ref(x);
  const int64_t n = base.numel();
  const double h = 1e-4;
  auto eval = [&](int64_t i, double di, int64_t j, double dj) {
    Ref moved = base;
    moved.data[static_cast<size_t>(i)] += di;
    moved.data[static_cast<size_t>(j)] += dj;
    return f(tf::testing::from_ref(moved, DType::F64)).item<double>();
  };
  std::vector<int64_t> shape = base.shape;
  shape.insert(shape.end(), base.shape.begin(), base.shape.end());
  Ref hessian(shape);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      hessian.data[static_cast<size_t>(i * n + j)] =
          (eval(i, h, j, h) - eval(i, h, j, -h) - eval(i, -h, j, h) + eval(i, -h, j, -h)) /
          (4 * h * h);
    }
  }
  return hessian;
}

const tf::testing::Tolerance kSecondDifference{1e-5, 1e-6};

// A loss through layer normalization of a [2, 4] x, as a function of x, gamma and beta packed
// into one vector: with the fused op (its gradient is layer_norm_backward, whose own gradient
// gives the second order) or as the composite of reductions it replaced.
tf::ScalarFn layer_norm_loss(const Tensor& weights, bool fused) {
  return [weights, fused](const Tensor& p) {
    const Tensor x = p.narrow(0, 0, 8).reshape({2, 4});
    const Tensor gamma = p.narrow(0, 8, 4), beta = p.narrow(0, 12, 4);
    Tensor y;
    if (fused) {
      y = tf::layer_norm(x, gamma, beta, -1, 1e-3);
    } else {
      const Tensor centered = x - tf::mean(x, {-1}, true);
      y = centered * tf::rsqrt(tf::var(x, {-1}, 0, true) + 1e-3) * gamma + beta;
    }
    return tf::sum(tf::tanh(y) * weights);
  };
}

}  // namespace

TEST(HigherOrder, HessianOfSinTimesCubeMatchesClosedForm) {
  Rng rng = Rng::for_test();
  Tensor x = tf::testing::random_tensor(rng, {4}, DType::F64, -2, 2);
  Tensor h = tf::hessian(sin_x_cubed, x);
  ASSERT_EQ(h.shape(), tf::Dims({4, 4}));
  const auto xs = x.to_vector<double>();
  Ref expected({4, 4});
  for (size_t i = 0; i < 4; ++i) {
    const double v = xs[i];
    expected.data[i * 4 + i] =
        -std::sin(v) * v * v * v + 6 * std::cos(v) * v * v + 6 * v * std::sin(v);
  }
  EXPECT_CLOSE_TO_REF(h, expected, (tf::testing::Tolerance{1e-12, 1e-12}));
}

TEST(HigherOrder, ThirdDerivativeThroughThreeNestedTapes) {
  Rng rng = Rng::for_test();
  Tensor x = tf::testing::random_tensor(rng, {5}, DType::F64, -2, 2);
  GradientTape t3, t2, t1;  // created outermost first
  t3.watch(x);
  t2.watch(x);
  t1.watch(x);
  Tensor y = sin_x_cubed(x);
  Tensor g1 = t1.gradient(y, x);
  Tensor g2 = t2.gradient(tf::sum(g1), x);  // the Hessian is diagonal: row sums are f''
  Tensor g3 = t3.gradient(tf::sum(g2), x);
  const auto xs = x.to_vector<double>();
  Ref expected({5});
  for (size_t i = 0; i < 5; ++i) {
    const double v = xs[i];
    expected.data[i] =
        -v * v * v * std::cos(v) - 9 * v * v * std::sin(v) + 18 * v * std::cos(v) + 6 * std::sin(v);
  }
  EXPECT_CLOSE_TO_REF(g3, expected, (tf::testing::Tolerance{1e-11, 1e-11}));
}

TEST(HigherOrder, HessianOfSoftmaxCrossEntropyOfMatmul) {
  Rng rng = Rng::for_test();
  const Tensor inputs = tf::testing::random_tensor(rng, {5, 3}, DType::F64, -1, 1);
  const Tensor labels =
      tf::one_hot(Tensor::from_vec(std::vector<int64_t>{0, 2, 1, 1, 0}, {5}), 3, DType::F64);
  auto loss = [&](const Tensor& w) {  // w: [3, 3]
    return -tf::sum(labels * tf::log_softmax(tf::matmul(inputs, w), -1)) / 5.0;
  };
  Tensor w = tf::testing::random_tensor(rng, {3, 3}, DType::F64, -1, 1);
  EXPECT_CLOSE_TO_REF(tf::hessian(loss, w), fd_hessian(loss, w), kSecondDifference);
}

TEST(HigherOrder, HessianOfASmallMlp) {
  Rng rng = Rng::for_test();
  const Tensor inputs = tf::testing::random_tensor(rng, {4, 3}, DType::F64, -1, 1);
  const Tensor w2 = tf::testing::random_tensor(rng, {2, 1}, DType::F64, -1, 1);
  auto loss = [&](const Tensor& w1) {  // w1: [3, 2]
    return tf::mean(tf::square(tf::matmul(tf::tanh(tf::matmul(inputs, w1)), w2)));
  };
  Tensor w1 = tf::testing::random_tensor(rng, {3, 2}, DType::F64, -1, 1);
  EXPECT_CLOSE_TO_REF(tf::hessian(loss, w1), fd_hessian(loss, w1), kSecondDifference);
}

TEST(HigherOrder, HessianVectorProductsAgreeBothWays) {
  Rng rng = Rng::for_test();
  const Tensor a = tf::testing::random_tensor(rng, {4, 4}, DType::F64, -1, 1);
  auto f = [&](const Tensor& x) {
    return tf::sum(tf::tanh(tf::matmul(a, x.unsqueeze(1))) * x.unsqueeze(1));
  };
  Tensor x = tf::testing::random_tensor(rng, {4}, DType::F64, -1, 1);
  Tensor v = tf::testing::random_tensor(rng, {4}, DType::F64, -1, 1);
  const Ref h = fd_hessian(f, x);
  Ref expected({4});
  const auto vs = v.to_vector<double>();
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 4; ++j) expected.data[i] += h.data[i * 4 + j] * vs[j];
  }
  EXPECT_CLOSE_TO_REF(tf::hvp(f, x, v), expected, kSecondDifference);
  EXPECT_CLOSE_TO_REF(tf::hvp_forward_over_reverse(f, x, v), expected, kSecondDifference);
}

// The gradient of the softmax family's gradient (reverse over reverse through the gradient
// ops' own rules), weighted by v: against central differences of the first gradient, against
// the same derivative of the composite formula the gradient ops replace, and against both
// Hessian-vector products (forward over reverse runs the gradient ops' JVP rules).
TEST(HigherOrder, SecondDerivativesOfTheSoftmaxFamily) {
  Rng rng = Rng::for_test();
  const tf::testing::Tolerance kFirstDifference{1e-7, 1e-8};
  const tf::testing::Tolerance kSameMath{1e-12, 1e-13};
  for (bool log : {false, true}) {
    for (int64_t axis : {0, 1, -1}) {
      SCOPED_TRACE(std::string(log ? "log_softmax" : "softmax") + " axis " + std::to_string(axis));
      const Tensor c = tf::testing::random_tensor(rng, {3, 4}, DType::F64, -1, 1);
      const Tensor v = tf::testing::random_tensor(rng, {3, 4}, DType::F64, -1, 1);
      auto forward = [&](const Tensor& x) {
        return log ? tf::log_softmax(x, axis) : tf::softmax(x, axis);
      };
      // d<c, f(x)>/dx through the op's gradient rule (the gradient ops).
      auto first = [&](const Tensor& x) {
        GradientTape tape;
        tape.watch(x);
        return tape.gradient({forward(x)}, {x}, {c})[0];
      };
      // The same gradient written as the rules did before the gradient ops.
      auto composite = [&](const Tensor& x) {
        const Tensor y = forward(x);
        if (log) return c - tf::exp(y) * tf::sum(c, {axis}, true);
        return y * (c - tf::sum(c * y, {axis}, true));
      };
      auto second = [&](const std::function<Tensor(const Tensor&)>& gradient, const Tensor& x) {
        GradientTape outer;
        outer.watch(x);
        return outer.gradient({gradient(x)}, {x}, {v})[0];
      };
      const Tensor x = tf::testing::random_tensor(rng, {3, 4}, DType::F64, -2, 2);
      const Tensor actual = second(first, x);

      const Ref base = tf::testing::to_ref(x);
      const double h = 1e-5;
      Ref expected({3, 4});
      for (size_t j = 0; j < base.data.size(); ++j) {
        double sides[2];
        for (int k = 0; k < 2; ++k) {
          Ref moved = base;
          moved.data[j] += k == 0 ? h : -h;
          sides[k] = tf::sum(first(tf::testing::from_ref(moved, DType::F64)) * v).item<double>();
        }
        expected.data[j] = (sides[0] - sides[1]) / (2 * h);
      }
      EXPECT_CLOSE_TO_REF(actual, expected, kFirstDifference);
      EXPECT_CLOSE_TO_REF(actual, tf::testing::to_ref(second(composite, x)), kSameMath);
      // sum(c * f(x)) has Hessian H, and the weighted second derivative above is H v.
      auto loss = [&](const Tensor& t) { return tf::sum(c * forward(t)); };
      EXPECT_CLOSE_TO_REF(tf::hvp(loss, x, v), tf::testing::to_ref(actual), kSameMath);
      EXPECT_CLOSE_TO_REF(tf::hvp_forward_over_reverse(loss, x, v), tf::testing::to_ref(actual),
                          kSameMath);
    }
  }
}

// softmax's and log_softmax's backward passes run one gradient op each, not the four
// elementwise and reduction ops of the formula.
TEST(HigherOrder, SoftmaxBackwardIsOneOp) {
  struct Names : tf::DispatchHook {
    std::vector<std::string> ops;
    void on_op(const tf::OpDef& op, std::span<const Tensor>, const tf::Attrs&,
               std::span<const Tensor>) override {
      ops.push_back(op.name);
    }
  };
  Rng rng = Rng::for_test();
  for (bool log : {false, true}) {
    const Tensor x = tf::testing::random_tensor(rng, {4, 6}, DType::F32, -1, 1);
    const Tensor dy = tf::testing::random_tensor(rng, {4, 6}, DType::F32, -1, 1);
    GradientTape tape;
    tape.watch(x);
    const Tensor y = log ? tf::log_softmax(x, 0) : tf::softmax(x, 0);
    Names names;
    tf::add_global_hook(&names);
    tape.gradient({y}, {x}, {dy});
    tf::remove_global_hook(&names);
    EXPECT_EQ(names.ops, std::vector<std::string>{log ? "log_softmax_grad" : "softmax_grad"});
  }
}

TEST(HigherOrder, DerivativesThroughLayerNormMatchFiniteDifferencesAndTheComposite) {
  Rng rng = Rng::for_test();
  const Tensor weights = tf::testing::random_tensor(rng, {2, 4}, DType::F64, -1, 1);
  const tf::ScalarFn fused = layer_norm_loss(weights, true);
  const tf::ScalarFn composite = layer_norm_loss(weights, false);
  const Tensor p = tf::testing::random_tensor(rng, {16}, DType::F64, -2, 2);
  const Tensor h = tf::hessian(fused, p);
  EXPECT_CLOSE_TO_REF(h, fd_hessian(fused, p), kSecondDifference);
  const tf::testing::Tolerance same{1e-10, 1e-12};
  EXPECT_CLOSE_TO_REF(h, tf::testing::to_ref(tf::hessian(composite, p)), same);
  // Forward over reverse: the JVP rules of layer_norm and layer_norm_backward.
  const Tensor v = tf::testing::random_tensor(rng, {16}, DType::F64, -1, 1);
  EXPECT_CLOSE_TO_REF(tf::hvp_forward_over_reverse(fused, p, v),
                      tf::testing::to_ref(tf::hvp(composite, p, v)), same);
  // Third order: three nested tapes, each differentiating the gradient computation inside it.
  auto third = [&](const tf::ScalarFn& f) {
    GradientTape t3, t2, t1;
    t3.watch(p);
    t2.watch(p);
    t1.watch(p);
    const Tensor g1 = t1.gradient(f(p), p);
    const Tensor g2 = t2.gradient(tf::sum(g1 * v), p);
    return t3.gradient(tf::sum(g2 * v), p);
  };
  EXPECT_CLOSE_TO_REF(third(fused), tf::testing::to_ref(third(composite)), same);
}

TEST(ForwardMode, JvpAgreesWithReverseModeOnRandomFunctions) {
  Rng rng = Rng::for_test();
  for (int trial = 0; trial < 5; ++trial) {
    const Tensor w = tf::testing::random_tensor(rng, {3, 4}, DType::F64, -1, 1);
    const Tensor b = tf::testing::random_tensor(rng, {4}, DType::F64, -1, 1);
    auto f = [&](const Tensor& x) {  // x: [2, 3] -> [2, 4]
      Tensor h = tf::matmul(x, w) + b;
      return tf::softmax(h, -1) * tf::sigmoid(h).exp() + tf::sum(x * x, {1}, true);
    };
    Tensor x = tf::testing::random_tensor(rng, {2, 3}, DType::F64, -1, 1);
    Tensor v = tf::testing::random_tensor(rng, {2, 3}, DType::F64, -1, 1);
    Tensor u = tf::testing::random_tensor(rng, {2, 4}, DType::F64, -1, 1);
    Tensor jv = tf::jvp(f, x, v);
    GradientTape tape;
    tape.watch(x);
    Tensor y = f(x);
    Tensor jtu = tape.gradient({y}, {x}, {u})[0];
    const double left = tf::sum(u * jv).item<double>();
    const double right = tf::sum(jtu * v).item<double>();
    EXPECT_NEAR(left, right, 1e-12 * (1 + std::abs(left)));
  }
}

TEST(Jacobians, JacobianAndBatchJacobianMatchFiniteDifferences) {
  Rng rng = Rng::for_test();
  const Tensor w = tf::testing::random_tensor(rng, {3, 2}, DType::F64, -1, 1);
  Tensor x = tf::testing::random_tensor(rng, {4, 3}, DType::F64, -1, 1);
  GradientTape tape(tf::TapeOptions{.persistent = true});
  tape.watch(x);
  Tensor y = tf::tanh(tf::matmul(x, w));  // rows independent
  Tensor jac = tape.jacobian(y, x);
  Tensor batch = tape.batch_jacobian(y, x);
  ASSERT_EQ(jac.shape(), tf::Dims({4, 2, 4, 3}));
  ASSERT_EQ(batch.shape(), tf::Dims({4, 2, 3}));
  const Ref base = tf::testing::to_ref(x);
  const double h = 1e-6;
  Ref expected({4, 2, 4, 3});
  for (int64_t j = 0; j < 12; ++j) {
    Ref plus = base, minus = base;
    plus.data[static_cast<size_t>(j)] += h;
    minus.data[static_cast<size_t>(j)] -= h;
    const Ref yp =
        tf::testing::to_ref(tf::tanh(tf::matmul(tf::testing::from_ref(plus, DType::F64), w)));
    const Ref ym =
        tf::testing::to_ref(tf::tanh(tf::matmul(tf::testing::from_ref(minus, DType::F64), w)));
    for (int64_t i = 0; i < 8; ++i) {
      expected.data[static_cast<size_t>(i * 12 + j)] =
          (yp.data[static_cast<size_t>(i)] - ym.data[static_cast<size_t>(i)]) / (2 * h);
    }
  }
  EXPECT_CLOSE_TO_REF(jac, expected, (tf::testing::Tolerance{1e-6, 1e-8}));
  Ref expected_batch({4, 2, 3});
  tf::testing::for_each_index({4, 2, 3}, [&](const std::vector<int64_t>& i) {
    expected_batch.at(i) = expected.at({i[0], i[1], i[0], i[2]});
  });
  EXPECT_CLOSE_TO_REF(batch, expected_batch, (tf::testing::Tolerance{1e-6, 1e-8}));
}

TEST(CustomGradient, ReplacesTheRecordedRule) {
  Tensor x = Tensor::from_vec(std::vector<double>{0.5, -1.0, 2.0}, {3});
  GradientTape tape;
  tape.watch(x);
  // A clipped identity: forward is x, backward clips the incoming gradient to [-1, 1].
  auto clip_grad = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0] * 1.0}; };
  auto backward = [](const std::vector<Tensor>&, const std::vector<Tensor>&,
                     const std::vector<Tensor>& g) {
    return std::vector<Tensor>{tf::clamp(g[0], -1.0, 1.0)};
  };
  Tensor y = tf::custom_gradient({x}, clip_grad, backward)[0];
  Tensor loss = tf::sum(y * Tensor::from_vec(std::vector<double>{3.0, 0.5, -4.0}, {3}));
  EXPECT_EQ(tape.gradient(loss, x).to_vector<double>(), (std::vector<double>{1.0, 0.5, -1.0}));
}

TEST(Checkpointing, GradientsMatchAndPoliciesOrderPeakMemory) {
  Rng rng = Rng::for_test();
  std::vector<tf::ScalarFn> segments;
  // 64 segments: enough that sqrt(n) groups (8 boundaries, then 8 segments recomputed at once)
  // and bisection (log2(n) = 6 boundaries, one segment at a time) differ in peak memory.
  for (int i = 0; i < 64; ++i) {
    const double scale = rng.uniform(0.5, 1.5), shift = rng.uniform(-0.5, 0.5);
    segments.push_back([scale, shift](const Tensor& x) { return tf::tanh(x * scale + shift); });
  }
  const Tensor input = tf::uniform({256, 256}, -1, 1, DType::F32);  // 256 KiB per tensor
  auto run = [&](tf::MemoryStrategy strategy, size_t& peak) {
    tf::release_cached_memory();
    const size_t base = tf::memory_stats().in_use_bytes;
    tf::reset_peak_memory();
    GradientTape tape;
    tape.watch(input);
    Tensor loss = tf::sum(tf::run_segments(segments, input, strategy));
    Tensor g = tape.gradient(loss, input);
    peak = tf::memory_stats().peak_in_use_bytes - base;
    return g;
  };
  size_t none = 0, balanced = 0, minimal = 0;
  Tensor g_none = run(tf::MemoryStrategy::MinimizeRecomputation, none);
  Tensor g_balanced = run(tf::MemoryStrategy::Balanced, balanced);
  Tensor g_minimal = run(tf::MemoryStrategy::MinimizeMemory, minimal);
  EXPECT_TRUE(tf::allclose(g_balanced, g_none, 1e-6, 1e-7));
  EXPECT_TRUE(tf::allclose(g_minimal, g_none, 1e-6, 1e-7));
  EXPECT_LT(balanced, none);
  EXPECT_LT(minimal, balanced);
  RecordProperty("peak_bytes_no_checkpoint", std::to_string(none));
  RecordProperty("peak_bytes_balanced", std::to_string(balanced));
  RecordProperty("peak_bytes_minimize_memory", std::to_string(minimal));
}
