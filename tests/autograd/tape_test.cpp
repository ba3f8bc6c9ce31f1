// GradientTape semantics: watching, persistence, unconnected sources, stop_recording, reset,
// thread ownership, in-place modification, non-differentiable ops and memory release.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/reference.hpp"

namespace tf = tenflowers;
using tf::DType;
using tf::GradientTape;
using tf::Tensor;
using tf::testing::Rng;

namespace {
Tensor vec(std::vector<double> v) {
  const auto n = static_cast<int64_t>(v.size());
  return Tensor::from_vec(v, {n});
}
}  // namespace

TEST(Tape, GradientOfPolynomialMatchesCalculus) {
  Rng rng = Rng::for_test();
  Tensor x = tf::testing::random_tensor(rng, {5}, DType::F64, -2, 2);
  GradientTape tape;
  tape.watch(x);
  Tensor y = 3.0 * x * x * x - 2.0 * x + 1.0;  // dy/dx = 9x^2 - 2
  Tensor g = tape.gradient(y, x);
  const auto xs = x.to_vector<double>();
  const auto gs = g.to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_NEAR(gs[i], 9 * xs[i] * xs[i] - 2, 1e-12);
}

TEST(Tape, NonPersistentTapeRefusesASecondGradient) {
  Tensor x = vec({1.0, 2.0});
  GradientTape tape;
  tape.watch(x);
  Tensor y = tf::sum(x * x);
  tape.gradient(y, x);
  EXPECT_THROW(tape.gradient(y, x), tf::InvalidArgument);
}

TEST(Tape, PersistentTapeAnswersSeveralTargetsAndSources) {
  Tensor x = vec({1.0, 2.0, 3.0});
  Tensor w = vec({0.5, -1.0, 2.0});
  GradientTape tape(tf::TapeOptions{.persistent = true});
  tape.watch(x);
  tape.watch(w);
  Tensor a = tf::sum(x * w);
  Tensor b = tf::sum(x.exp());
  auto gab = tape.gradient({a, b}, {x, w});
  // d(a+b)/dx = w + exp(x); d(a+b)/dw = x
  EXPECT_TRUE(tf::allclose(gab[0], w + x.exp(), 1e-12, 0));
  EXPECT_TRUE(tf::allclose(gab[1], x, 1e-12, 0));
  Tensor gx = tape.gradient(b, x);
  EXPECT_TRUE(tf::allclose(gx, x.exp(), 1e-12, 0));
}

TEST(Tape, NonScalarTargetMeansItsSumAndOutputGradientsWeightIt) {
  Tensor x = vec({1.0, -2.0, 3.0});
  GradientTape tape(tf::TapeOptions{.persistent = true});
  tape.watch(x);
  Tensor y = x * x;
  EXPECT_TRUE(tf::allclose(tape.gradient(y, x), 2.0 * x, 1e-12, 0));
  Tensor weights = vec({1.0, 0.0, -1.0});
  Tensor g = tape.gradient({y}, {x}, {weights})[0];
  EXPECT_TRUE(tf::allclose(g, 2.0 * x * weights, 1e-12, 0));
}

TEST(Tape, UnconnectedSourcesFollowTheCallersPolicy) {
  Tensor x = vec({1.0, 2.0});
  Tensor unused = vec({3.0, 4.0});
  GradientTape tape(tf::TapeOptions{.persistent = true});
  tape.watch(x);
  tape.watch(unused);
  Tensor y = tf::sum(x * 2.0);
  EXPECT_FALSE(tape.gradient(y, unused).defined());
  Tensor zero = tape.gradient(y, unused, tf::Unconnected::Zero);
  EXPECT_EQ(zero.to_vector<double>(), (std::vector<double>{0.0, 0.0}));
}

TEST(Tape, StopRecordingAndStopGradientCutTheGraph) {
  Tensor x = vec({1.0, 2.0});
  GradientTape tape(tf::TapeOptions{.persistent = true});
  tape.watch(x);
  Tensor hidden;
  {
    auto pause = tape.stop_recording();
    hidden = x * 10.0;
  }
  Tensor y = tf::sum(x * x + hidden);
  EXPECT_TRUE(tf::allclose(tape.gradient(y, x), 2.0 * x, 1e-12, 0));
  Tensor z = tf::sum(x * tf::stop_gradient(x));
  EXPECT_TRUE(tf::allclose(tape.gradient(z, x), x, 1e-12, 0));
}

TEST(Tape, ResetForgetsTheRecord) {
  Tensor x = vec({1.0, 2.0});
  GradientTape tape(tf::TapeOptions{.persistent = true});
  tape.watch(x);
  Tensor y = tf::sum(x * x);
  tape.reset();
  EXPECT_EQ(tape.recorded_ops(), 0u);
  EXPECT_FALSE(tape.gradient(y, x).defined());
  tape.watch(x);
  Tensor z = tf::sum(x * 3.0);
  EXPECT_TRUE(tf::allclose(tape.gradient(z, x), tf::full_like(x, 3.0), 1e-12, 0));
}

TEST(Tape, VariablesAreWatchedWhenRead) {
  tf::Variable v(vec({1.0, 2.0}), "v");
  tf::Variable frozen(vec({5.0, 5.0}), "frozen", /*trainable=*/false);
  {
    GradientTape tape;
    Tensor y = tf::sum(v.value() * v.value() + frozen.value());
    auto grads = tape.gradient(y, std::vector<tf::Variable>{v, frozen});
    EXPECT_TRUE(tf::allclose(grads[0], 2.0 * v.value(), 1e-12, 0));
    EXPECT_FALSE(grads[1].defined());
    ASSERT_EQ(tape.watched_variables().size(), 1u);
    EXPECT_EQ(tape.watched_variables()[0].name(), "v");
  }
  {
    GradientTape tape(tf::TapeOptions{.watch_accessed_variables = false});
    Tensor y = tf::sum(v.value() * 2.0);
    EXPECT_FALSE(tape.gradient(y, v.handle()).defined());
  }
}

TEST(Tape, VariableIdentityIsStableAcrossAssignments) {
  tf::Variable v(vec({1.0, 2.0}));
  const uint64_t id = v.id();
  v.assign(vec({3.0, 4.0}));
  v.assign_add(vec({1.0, 1.0}));
  v.assign_sub(Tensor::from_scalar(0.5));
  EXPECT_EQ(v.id(), id);
  EXPECT_EQ(v.value().to_vector<double>(), (std::vector<double>{3.5, 4.5}));
  EXPECT_THROW(v.assign(vec({1.0, 2.0, 3.0})), tf::ShapeError);
  EXPECT_EQ(v.value().to_vector<double>(), (std::vector<double>{3.5, 4.5}));
}

TEST(Tape, InPlaceUpdateAfterRecordingIsReported) {
  tf::Variable v(vec({1.0, 2.0}));
  GradientTape tape;
  Tensor y = tf::sum(v.value() * v.value());
  v.assign_add(vec({1.0, 1.0}));
  EXPECT_THROW(tape.gradient(y, v.handle()), tf::InvalidArgument);
}

TEST(Tape, TapesOnOtherThreadsDoNotInterfere) {
  Tensor x = vec({1.0, 2.0});
  GradientTape tape;
  tape.watch(x);
  Tensor mine = tf::sum(x * x);
  std::thread other([&] {
    GradientTape theirs;
    theirs.watch(x);
    Tensor y = tf::sum(x * 5.0);
    EXPECT_TRUE(tf::allclose(theirs.gradient(y, x), tf::full_like(x, 5.0), 1e-12, 0));
  });
  other.join();
  const size_t recorded = tape.recorded_ops();
  EXPECT_TRUE(tf::allclose(tape.gradient(mine, x), 2.0 * x, 1e-12, 0));
  EXPECT_EQ(recorded, 2u);  // mul and sum, nothing from the other thread
}

TEST(Tape, GradientThroughANonDifferentiableOpNamesIt) {
  Tensor x = vec({1.0, 3.0, 2.0});
  GradientTape tape;
  tape.watch(x);
  Tensor y = tf::sum(tf::one_hot(tf::argmax(x), 3, DType::F64) * x);
  // one_hot's input is an integer tensor, so no gradient flows through argmax: x still gets
  // the gradient of the product with a constant.
  Tensor g = tape.gradient(y, x);
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{0.0, 1.0, 0.0}));
}

TEST(Tape, SavedTensorsAreFreedDuringTheBackwardPass) {
  tf::release_cached_memory();
  Tensor x = tf::uniform({256, 1024}, -1, 1, DType::F32);  // 1 MiB
  const size_t before = tf::memory_stats().in_use_bytes;
  Tensor g;
  {
    GradientTape tape;
    tape.watch(x);
    Tensor y = x;
    for (int i = 0; i < 8; ++i) y = (y * 0.5).tanh();  // each step saves 2 MiB
    Tensor loss = tf::sum(y);
    y = Tensor();
    const size_t recorded = tf::memory_stats().in_use_bytes - before;
    EXPECT_GE(recorded, 8u << 20);
    tf::reset_peak_memory();
    g = tape.gradient(loss, x);
    // Freed node by node: the backward pass never needs much more than what was recorded.
    EXPECT_LE(tf::memory_stats().peak_in_use_bytes - before, recorded + (4u << 20));
    // Everything the tape held is gone once gradient() returns, before the tape is destroyed.
    EXPECT_LE(tf::memory_stats().in_use_bytes - before, (2u << 20));
  }
  EXPECT_EQ(g.shape(), x.shape());
}
