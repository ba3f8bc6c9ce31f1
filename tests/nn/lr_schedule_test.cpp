// Learning-rate schedules against their formulas written out here, argument validation, and
// ReduceLROnPlateau driving an optimizer's rate through a scripted metric sequence.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include <tenflowers/tenflowers.hpp>

namespace tenflowers::nn {
namespace {

TEST(LrSchedule, Constant) {
  ConstantSchedule s(0.25);
  for (int64_t step : {0, 1, 1000}) EXPECT_EQ(s(step), 0.25);
  EXPECT_THROW(ConstantSchedule(-1.0), InvalidArgument);
  EXPECT_THROW(ConstantSchedule(std::nan("")), InvalidArgument);
  EXPECT_THROW(s(-1), InvalidArgument);
}

TEST(LrSchedule, StepDecay) {
  StepDecay s(0.5, 3, 0.1);
  const double expected[] = {0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.005};
  for (int64_t step = 0; step < 7; ++step) EXPECT_NEAR(s(step), expected[step], 1e-15);
  EXPECT_THROW(StepDecay(0.5, 0), InvalidArgument);
  EXPECT_THROW(StepDecay(-0.5, 3), InvalidArgument);
  EXPECT_THROW(StepDecay(0.5, 3, -0.1), InvalidArgument);
}

TEST(LrSchedule, PiecewiseConstantFollowsKerasBoundaries) {
  PiecewiseConstantDecay s({2, 5}, {1.0, 0.5, 0.1});
  const double expected[] = {1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1};
  for (int64_t step = 0; step < 8; ++step) EXPECT_EQ(s(step), expected[step]) << step;
  EXPECT_THROW(PiecewiseConstantDecay({2, 5}, {1.0, 0.5}), InvalidArgument);
  EXPECT_THROW(PiecewiseConstantDecay({5, 2}, {1.0, 0.5, 0.1}), InvalidArgument);
  EXPECT_THROW(PiecewiseConstantDecay({2, 2}, {1.0, 0.5, 0.1}), InvalidArgument);
  EXPECT_THROW(PiecewiseConstantDecay({2}, {1.0, -0.5}), InvalidArgument);
  PiecewiseConstantDecay single({}, {0.3});
  EXPECT_EQ(single(100), 0.3);
}

TEST(LrSchedule, ExponentialDecay) {
  ExponentialDecay smooth(0.1, 10, 0.5);
  ExponentialDecay stairs(0.1, 10, 0.5, true);
  for (int64_t step : {0, 1, 9, 10, 15, 37}) {
    EXPECT_NEAR(smooth(step), 0.1 * std::pow(0.5, step / 10.0), 1e-15);
    EXPECT_NEAR(stairs(step), 0.1 * std::pow(0.5, std::floor(step / 10.0)), 1e-15);
  }
  EXPECT_THROW(ExponentialDecay(0.1, 0, 0.5), InvalidArgument);
  EXPECT_THROW(ExponentialDecay(0.1, 10, 0.0), InvalidArgument);
  EXPECT_THROW(ExponentialDecay(-0.1, 10, 0.5), InvalidArgument);
}

TEST(LrSchedule, CosineDecayWithWarmup) {
  const double peak = 0.2, alpha = 0.1, start = 0.02;
  const int64_t warmup = 4, decay = 10;
  CosineDecay s(peak, decay, alpha, warmup, start);
  for (int64_t step = 0; step < 20; ++step) {
    double expected;
    if (step < warmup) {
      expected = start + (peak - start) * static_cast<double>(step) / warmup;
    } else {
      const double t = static_cast<double>(std::min<int64_t>(step - warmup, decay));
      expected = peak * ((1 - alpha) * 0.5 * (1 + std::cos(std::numbers::pi * t / decay)) + alpha);
    }
    EXPECT_NEAR(s(step), expected, 1e-15) << step;
  }
  EXPECT_NEAR(s(warmup), peak, 1e-15);
  EXPECT_NEAR(s(warmup + decay + 5), alpha * peak, 1e-15);
  CosineDecay plain(1.0, 8);
  EXPECT_NEAR(plain(4), 0.5, 1e-15);
  EXPECT_THROW(CosineDecay(1.0, 0), InvalidArgument);
  EXPECT_THROW(CosineDecay(1.0, 8, 1.5), InvalidArgument);
  EXPECT_THROW(CosineDecay(1.0, 8, 0.0, -1), InvalidArgument);
  EXPECT_THROW(CosineDecay(-1.0, 8), InvalidArgument);
}

TEST(LrSchedule, OptimizerEvaluatesItsScheduleAtItsStepCount) {
  auto schedule = std::make_shared<StepDecay>(1.0, 2, 0.5);
  SGD sgd({.learning_rate = schedule});
  Variable w(Tensor::from_vec<double>({0.0}, {1}), "w");
  const Tensor grad = Tensor::from_vec<double>({1.0}, {1});
  double expected_w = 0.0;
  for (int step = 0; step < 5; ++step) {
    EXPECT_EQ(sgd.learning_rate(), (*schedule)(step));
    expected_w -= (*schedule)(step);
    sgd.apply_gradients({&grad, 1}, {&w, 1});
    EXPECT_NEAR(w.value().item<double>(), expected_w, 1e-15);
  }
}

TEST(ReduceLROnPlateau, ReducesAfterPatienceWithCooldownAndFloor) {
  SGD sgd({.learning_rate = 1.0});
  ReduceLROnPlateau plateau(
      sgd, {.factor = 0.5, .patience = 2, .min_delta = 0.1, .cooldown = 1, .min_lr = 0.2});
  // Improvements must beat the best by more than min_delta.
  struct Epoch {
    double metric;
    bool reduced;
    double rate;
  };
  const Epoch script[] = {
      {1.0, false, 1.0},   // best 1.0
      {0.95, false, 1.0},  // not better by > 0.1: wait 1
      {0.97, true, 0.5},   // wait 2 = patience: reduce, cooldown 1
      {0.99, false, 0.5},  // cooldown epoch: no bad epoch counted
      {0.99, false, 0.5},  // wait 1
      {0.99, true, 0.25},  // wait 2: reduce
      {0.5, false, 0.25},  // cooldown ends and the metric improves: best 0.5
      {0.6, false, 0.25},  // wait 1
      {0.6, true, 0.2},    // reduce, floored at min_lr
      {0.6, false, 0.2},   // cooldown
      {0.6, false, 0.2},   // wait 1
      {0.6, false, 0.2},   // wait 2, but the rate is at min_lr
  };
  for (const Epoch& e : script) {
    EXPECT_EQ(plateau.update(e.metric), e.reduced) << e.metric;
    EXPECT_DOUBLE_EQ(sgd.learning_rate(), e.rate);
  }
  EXPECT_EQ(plateau.best(), 0.5);
}

TEST(ReduceLROnPlateau, MaxModeAndNaN) {
  Adam adam({.learning_rate = 0.1});
  ReduceLROnPlateau plateau(
      adam, {.mode = ReduceLROnPlateauOptions::Mode::Max, .factor = 0.1, .patience = 0});
  EXPECT_FALSE(plateau.update(0.5));
  EXPECT_FALSE(plateau.update(0.7));
  EXPECT_TRUE(plateau.update(0.7));  // patience 0: the first bad epoch reduces
  EXPECT_DOUBLE_EQ(adam.learning_rate(), 0.01);
  EXPECT_TRUE(plateau.update(std::nan("")));  // NaN is no improvement
  EXPECT_DOUBLE_EQ(adam.learning_rate(), 0.001);
}

TEST(ReduceLROnPlateau, ValidatesArguments) {
  SGD sgd;
  EXPECT_THROW(ReduceLROnPlateau(sgd, {.factor = 1.0}), InvalidArgument);
  EXPECT_THROW(ReduceLROnPlateau(sgd, {.factor = 0.0}), InvalidArgument);
  EXPECT_THROW(ReduceLROnPlateau(sgd, {.patience = -1}), InvalidArgument);
  EXPECT_THROW(ReduceLROnPlateau(sgd, {.min_delta = -1.0}), InvalidArgument);
  EXPECT_THROW(ReduceLROnPlateau(sgd, {.cooldown = -1}), InvalidArgument);
  EXPECT_THROW(ReduceLROnPlateau(sgd, {.min_lr = -1.0}), InvalidArgument);
  SGD scheduled({.learning_rate = std::make_shared<ConstantSchedule>(0.1)});
  EXPECT_THROW(ReduceLROnPlateau{scheduled}, InvalidArgument);
}

}  // namespace
}  // namespace tenflowers::nn
