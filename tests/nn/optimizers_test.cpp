// The optimizers against the naive float64 implementation in naive_optimizers.hpp (every option
// combination, several steps on random tensors, some gradients undefined), clipping on
// hand-computed cases, real minimization of a least-squares problem through GradientTape, the
// state()/load_state round trip and the error cases.
#include <gtest/gtest.h>

#include "tests/nn/naive_optimizers.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::nn::testing {
namespace {

using ::tenflowers::testing::Rng;

Tensor tensor_of(const Values& v, const std::vector<int64_t>& shape, DType dtype) {
  return Tensor::from_vec<double>(v, Dims(shape)).cast(dtype);
}

Values random_values(Rng& rng, size_t n, double lo = -2.0, double hi = 2.0) {
  Values v(n);
  for (double& x : v) x = rng.uniform(lo, hi);
  return v;
}

// Values as the dtype stores them, so the naive run starts from exactly what the library sees.
Values rounded(const Values& v, DType dtype) {
  return tensor_of(v, {static_cast<int64_t>(v.size())}, dtype).to_vector<double>();
}

struct Tolerance {
  double rtol, atol;
};

void expect_close(const Values& actual, const Values& expected, Tolerance tol,
                  const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t e = 0; e < actual.size(); ++e) {
    EXPECT_NEAR(actual[e], expected[e], tol.atol + tol.rtol * std::abs(expected[e]))
        << what << " element " << e;
  }
}

const std::vector<std::vector<int64_t>> kShapes = {{3, 4}, {7}, {}};

// Runs `steps` steps of the library optimizer and the naive one on the same random variables
// and gradients (variable 1 has no gradient on step 2, variable 2 none on step 0, so its slots
// start later) and compares the variables, the slots and the step count after every step.
void expect_matches_naive(const Config& config, DType dtype, Tolerance tol, int steps = 6) {
  SCOPED_TRACE(config.label + " " + std::string(dtype_name(dtype)));
  Rng rng = Rng::for_test();
  SCOPED_TRACE("seed " + std::to_string(rng.seed()));
  std::unique_ptr<Optimizer> optimizer = make_optimizer(config);
  NaiveOptimizer naive(config);
  std::vector<Variable> vars;
  std::vector<Values> params;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const size_t n = static_cast<size_t>(Dims(kShapes[i]).numel());
    params.push_back(rounded(random_values(rng, n, -1.0, 1.0), dtype));
    vars.emplace_back(tensor_of(params[i], kShapes[i], dtype), "var" + std::to_string(i));
  }
  for (int step = 0; step < steps; ++step) {
    std::vector<Tensor> grads(vars.size());
    std::vector<std::optional<Values>> naive_grads(vars.size());
    for (size_t i = 0; i < vars.size(); ++i) {
      if ((i == 1 && step == 2) || (i == 2 && step == 0)) continue;
      naive_grads[i] = rounded(random_values(rng, params[i].size()), dtype);
      grads[i] = tensor_of(*naive_grads[i], kShapes[i], dtype);
    }
    optimizer->apply_gradients(grads, vars);
    naive.step(params, naive_grads);
    EXPECT_EQ(optimizer->iterations(), naive.t());
    const auto state = optimizer->state();
    for (size_t i = 0; i < vars.size(); ++i) {
      const std::string where = "step " + std::to_string(step) + " var" + std::to_string(i);
      EXPECT_EQ(vars[i].dtype(), dtype);
      expect_close(vars[i].value().to_vector<double>(), params[i], tol, where);
      for (const std::string& slot : optimizer->slot_names()) {
        const Values* expected = naive.slot(i, slot);
        const std::string name = vars[i].name() + "/" + slot;
        auto it = std::find_if(state.begin(), state.end(),
                               [&](const auto& entry) { return entry.first == name; });
        ASSERT_EQ(it != state.end(), expected != nullptr) << where << " slot " << slot;
        if (!expected) continue;
        EXPECT_EQ(it->second.dtype(), dtype);
        EXPECT_EQ(it->second.shape(), vars[i].shape());
        expect_close(it->second.to_vector<double>(), *expected, tol, where + " slot " + slot);
      }
    }
  }
}

// Every option combination of every optimizer: momentum variants, amsgrad, centering, decay,
// the three clippings and a schedule.
std::vector<Config> all_configs() {
  const OptimizerOptions clip_all{
      .weight_decay = 0.05, .clip_value = 1.5, .clip_norm = 2.0, .global_clip_norm = 3.0};
  auto decay = std::make_shared<ExponentialDecay>(0.2, 2, 0.5);
  return {
      {.label = "sgd", .kind = Kind::SGD},
      {.label = "sgd wd", .kind = Kind::SGD, .common = {.weight_decay = 0.1}},
      {.label = "sgd momentum", .kind = Kind::SGD, .momentum = 0.9},
      {.label = "sgd dampening", .kind = Kind::SGD, .momentum = 0.8, .dampening = 0.3},
      {.label = "sgd nesterov", .kind = Kind::SGD, .momentum = 0.9, .nesterov = true},
      {.label = "sgd nesterov clip",
       .kind = Kind::SGD,
       .momentum = 0.7,
       .nesterov = true,
       .common = clip_all},
      {.label = "sgd schedule", .kind = Kind::SGD, .schedule = decay, .momentum = 0.5},
      {.label = "adam", .kind = Kind::Adam},
      {.label = "adam amsgrad", .kind = Kind::Adam, .lr = 0.05, .amsgrad = true},
      {.label = "adam wd eps",
       .kind = Kind::Adam,
       .beta1 = 0.8,
       .beta2 = 0.9,
       .epsilon = 1e-3,
       .common = {.weight_decay = 0.1}},
      {.label = "adam clip", .kind = Kind::Adam, .amsgrad = true, .common = clip_all},
      {.label = "adam clip norm", .kind = Kind::Adam, .common = {.clip_norm = 0.5}},
      {.label = "adamw", .kind = Kind::AdamW, .common = {.weight_decay = 0.2}},
      {.label = "adamw amsgrad global",
       .kind = Kind::AdamW,
       .amsgrad = true,
       .common = {.weight_decay = 0.01, .global_clip_norm = 1.0}},
      {.label = "adamw schedule",
       .kind = Kind::AdamW,
       .schedule = decay,
       .common = {.weight_decay = 0.1}},
      {.label = "rmsprop", .kind = Kind::RMSprop, .lr = 0.01},
      {.label = "rmsprop centered",
       .kind = Kind::RMSprop,
       .lr = 0.01,
       .rho = 0.9,
       .centered = true},
      {.label = "rmsprop momentum", .kind = Kind::RMSprop, .lr = 0.01, .momentum = 0.9},
      {.label = "rmsprop centered momentum clip",
       .kind = Kind::RMSprop,
       .lr = 0.01,
       .momentum = 0.5,
       .epsilon = 1e-4,
       .rho = 0.8,
       .centered = true,
       .common = clip_all},
      {.label = "adagrad", .kind = Kind::Adagrad, .epsilon = 1e-10},
      {.label = "adagrad initial",
       .kind = Kind::Adagrad,
       .epsilon = 1e-6,
       .initial_accumulator = 0.1},
      {.label = "adagrad clip", .kind = Kind::Adagrad, .epsilon = 1e-10, .common = clip_all},
  };
}

TEST(Optimizers, EveryConfigurationMatchesNaiveFloat64) {
  for (const Config& config : all_configs()) {
    expect_matches_naive(config, DType::F64, {1e-11, 1e-13});
  }
}

// Capturable optimizers keep the step count, learning rate and bias corrections in a step state
// advanced by the optimizer_step op (what a replayed CUDA graph reads): the same steps, clipping
// and schedules included.
TEST(Optimizers, CapturableConfigurationsMatchNaiveFloat64) {
  for (Config config : all_configs()) {
    config.common.capturable = true;
    config.label += " capturable";
    expect_matches_naive(config, DType::F64, {1e-11, 1e-13});
  }
}

// f32 computes in float: each step adds a few roundings of values of size <= ~2 (about 1e-7
// each), so six steps stay well within 1e-5 relative plus 5e-6 absolute.
TEST(Optimizers, EveryConfigurationMatchesNaiveFloat32) {
  for (const Config& config : all_configs()) {
    expect_matches_naive(config, DType::F32, {1e-5, 5e-6});
  }
}

// 16-bit variables and slots compute in float and round each stored value once per step (2^-11
// relative for f16, 2^-8 for bf16); one step stays within a few of those roundings.
TEST(Optimizers, HalfPrecisionVariablesOneStep) {
  for (const Config& config : all_configs()) {
    expect_matches_naive(config, DType::F16, {4e-3, 4e-3}, 1);
    expect_matches_naive(config, DType::BF16, {3e-2, 3e-2}, 1);
  }
}

TEST(Optimizers, ClippingByValueNormAndGlobalNorm) {
  Variable a(Tensor::from_vec<double>({0.0, 0.0}, {2}), "a");
  Variable b(Tensor::from_vec<double>({0.0}, {1}), "b");
  const std::vector<Variable> vars{a, b};
  const auto run = [&](OptimizerOptions common, std::vector<Tensor> grads) {
    a.assign(zeros({2}, DType::F64));
    b.assign(zeros({1}, DType::F64));
    SGD sgd({.learning_rate = 1.0, .common = common});
    sgd.apply_gradients(grads, vars);
    return std::vector<double>{-a.value().at<double>({0}), -a.value().at<double>({1}),
                               -b.value().at<double>({0})};
  };
  const std::vector<Tensor> grads{Tensor::from_vec<double>({3.0, -4.0}, {2}),
                                  Tensor::from_vec<double>({12.0}, {1})};
  // clip_value: elements clamped to [-5, 5].
  EXPECT_EQ(run({.clip_value = 5.0}, grads), (std::vector<double>{3.0, -4.0, 5.0}));
  // clip_norm: ||a|| = 5 -> scaled to 1; ||b|| = 12 -> 1.
  const auto by_norm = run({.clip_norm = 1.0}, grads);
  EXPECT_NEAR(by_norm[0], 0.6, 1e-15);
  EXPECT_NEAR(by_norm[1], -0.8, 1e-15);
  EXPECT_NEAR(by_norm[2], 1.0, 1e-15);
  // A norm already below the limit is left alone.
  EXPECT_EQ(run({.clip_norm = 20.0}, grads), (std::vector<double>{3.0, -4.0, 12.0}));
  // global: sqrt(9 + 16 + 144) = 13 -> everything scaled by 2.6 / 13 = 0.2.
  const auto global = run({.global_clip_norm = 2.6}, grads);
  EXPECT_NEAR(global[0], 0.6, 1e-15);
  EXPECT_NEAR(global[1], -0.8, 1e-15);
  EXPECT_NEAR(global[2], 2.4, 1e-15);
  // In order: value (b -> 5), norm (b stays 5, a stays 5), global (sqrt(50) -> 5).
  const auto all = run({.clip_value = 5.0, .clip_norm = 5.0, .global_clip_norm = 5.0}, grads);
  const double s = 5.0 / std::sqrt(50.0);
  EXPECT_NEAR(all[0], 3.0 * s, 1e-15);
  EXPECT_NEAR(all[1], -4.0 * s, 1e-15);
  EXPECT_NEAR(all[2], 5.0 * s, 1e-15);
}

TEST(Optimizers, UndefinedGradientsSkipTheirVariables) {
  Variable w(Tensor::from_vec<double>({1.0, 2.0}, {2}), "w");
  Variable skipped(Tensor::from_vec<double>({5.0}, {1}), "skipped");
  Adam adam({.learning_rate = 0.1, .common = {.weight_decay = 0.5}});
  const std::vector<Tensor> grads{Tensor::from_vec<double>({1.0, -1.0}, {2}), Tensor()};
  const std::vector<Variable> vars{w, skipped};
  adam.apply_gradients(grads, vars);
  adam.apply_gradients(std::vector<Tensor>(2), vars);  // nothing at all: only the count moves
  EXPECT_EQ(adam.iterations(), 2);
  EXPECT_EQ(skipped.value().item<double>(), 5.0);  // not even decayed
  const auto state = adam.state();
  ASSERT_EQ(state.size(), 3u);  // w/m, w/v, iterations: no slots for the skipped variable
  EXPECT_EQ(state[0].first, "w/m");
  EXPECT_EQ(state[1].first, "w/v");
  EXPECT_EQ(state[2].first, "iterations");
  EXPECT_EQ(state[2].second.dtype(), DType::I64);
  EXPECT_EQ(state[2].second.rank(), 0);
  EXPECT_EQ(state[2].second.item<int64_t>(), 2);
}

TEST(Optimizers, Float32GradientForFloat64Variable) {
  Variable w(Tensor::from_vec<double>({1.0, 2.0}, {2}), "w");
  SGD sgd({.learning_rate = 0.5});
  const Tensor g = Tensor::from_vec<float>({0.25f, -1.0f}, {2});
  sgd.apply_gradients({&g, 1}, {&w, 1});
  EXPECT_EQ(w.value().to_vector<double>(), (std::vector<double>{0.875, 2.5}));
}

// Least squares: minimize mean((A x - b)^2) through GradientTape; the optimum comes from the
// normal equations solved here by Gaussian elimination.
TEST(Optimizers, MinimizeLeastSquaresThroughGradientTape) {
  Rng rng = Rng::for_test();
  SCOPED_TRACE("seed " + std::to_string(rng.seed()));
  constexpr int64_t kRows = 24, kCols = 3;
  Values a_values = random_values(rng, kRows * kCols, -1.0, 1.0);
  Values b_values = random_values(rng, kRows, -1.0, 1.0);
  const Tensor A = tensor_of(a_values, {kRows, kCols}, DType::F64);
  const Tensor b = tensor_of(b_values, {kRows, 1}, DType::F64);

  // A^T A x = A^T b.
  std::vector<Values> normal(kCols, Values(kCols + 1, 0.0));
  for (int64_t i = 0; i < kCols; ++i) {
    for (int64_t r = 0; r < kRows; ++r) {
      for (int64_t j = 0; j < kCols; ++j)
        normal[i][j] += a_values[r * kCols + i] * a_values[r * kCols + j];
      normal[i][kCols] += a_values[r * kCols + i] * b_values[r];
    }
  }
  for (int64_t i = 0; i < kCols; ++i) {
    for (int64_t k = i + 1; k < kCols; ++k) {
      const double f = normal[k][i] / normal[i][i];
      for (int64_t j = i; j <= kCols; ++j) normal[k][j] -= f * normal[i][j];
    }
  }
  Values optimum(kCols);
  for (int64_t i = kCols - 1; i >= 0; --i) {
    double v = normal[i][kCols];
    for (int64_t j = i + 1; j < kCols; ++j) v -= normal[i][j] * optimum[j];
    optimum[i] = v / normal[i][i];
  }
  const auto loss_of = [&](const Tensor& x) {
    const Tensor r = matmul(A, x) - b;
    return mean(r * r);
  };
  const double best = loss_of(tensor_of(optimum, {kCols, 1}, DType::F64)).item<double>();

  auto cosine = std::make_shared<CosineDecay>(0.1, 1500, 0.0, 50, 0.0);
  const std::vector<Config> configs = {
      {.label = "sgd", .kind = Kind::SGD, .lr = 0.3},
      {.label = "sgd nesterov", .kind = Kind::SGD, .lr = 0.1, .momentum = 0.9, .nesterov = true},
      {.label = "adam", .kind = Kind::Adam, .schedule = cosine},
      {.label = "adamw",
       .kind = Kind::AdamW,
       .schedule = cosine,
       .amsgrad = true,
       .common = {.weight_decay = 0.0}},
      {.label = "rmsprop",
       .kind = Kind::RMSprop,
       .schedule = cosine,
       .momentum = 0.5,
       .centered = true},
      {.label = "adagrad", .kind = Kind::Adagrad, .lr = 0.5, .epsilon = 1e-10},
  };
  for (const Config& config : configs) {
    SCOPED_TRACE(config.label);
    std::unique_ptr<Optimizer> optimizer = make_optimizer(config);
    std::vector<Variable> vars{Variable(zeros({kCols, 1}, DType::F64), "x")};
    const double initial = loss_of(vars[0]).item<double>();
    for (int step = 0; step < 1600; ++step) {
      GradientTape tape;
      const Tensor loss = loss_of(vars[0]);
      optimizer->apply_gradients(tape.gradient(loss, vars), vars);
    }
    const double final_loss = loss_of(vars[0]).item<double>();
    EXPECT_LT(final_loss, initial);
    EXPECT_LT(final_loss - best, 1e-6 * initial) << "final " << final_loss << " optimum " << best;
    const Values x = vars[0].value().to_vector<double>();
    for (int64_t i = 0; i < kCols; ++i) EXPECT_NEAR(x[i], optimum[i], 1e-2);
  }
}

// state() saved after some steps and loaded into a fresh optimizer gives identical next steps.
// Capturable optimizers too, loading into one whose step state already exists (it restarts from
// the loaded count).
TEST(Optimizers, StateRoundTripGivesIdenticalNextSteps) {
  for (bool capturable : {false, true}) {
    for (Config config : all_configs()) {
      config.common.capturable = capturable;
      SCOPED_TRACE(config.label + (capturable ? " capturable" : ""));
      Rng rng = Rng::for_test();
      std::vector<Variable> vars, copies;
      for (size_t i = 0; i < kShapes.size(); ++i) {
        const Tensor init =
            tensor_of(random_values(rng, static_cast<size_t>(Dims(kShapes[i]).numel())), kShapes[i],
                      DType::F32);
        vars.emplace_back(init, "layer" + std::to_string(i) + "/kernel");
        copies.emplace_back(init, "layer" + std::to_string(i) + "/kernel");
      }
      const auto random_grads = [&] {
        std::vector<Tensor> grads;
        for (const Variable& v : vars) {
          grads.push_back(tensor_of(random_values(rng, static_cast<size_t>(v.shape().numel())),
                                    v.shape().vec(), DType::F32));
        }
        return grads;
      };
      std::unique_ptr<Optimizer> original = make_optimizer(config);
      for (int step = 0; step < 3; ++step) original->apply_gradients(random_grads(), vars);
      std::vector<std::pair<std::string, Tensor>> saved;
      for (const auto& [name, t] : original->state()) saved.emplace_back(name, t.copy());

      std::unique_ptr<Optimizer> restored = make_optimizer(config);
      if (capturable) restored->apply_gradients(random_grads(), copies);
      for (size_t i = 0; i < vars.size(); ++i) copies[i].assign(vars[i].value());
      restored->load_state(saved, copies);
      EXPECT_EQ(restored->iterations(), 3);
      EXPECT_EQ(restored->learning_rate(), original->learning_rate());
      for (int step = 0; step < 2; ++step) {
        const std::vector<Tensor> grads = random_grads();
        original->apply_gradients(grads, vars);
        restored->apply_gradients(grads, copies);
        for (size_t i = 0; i < vars.size(); ++i) {
          EXPECT_EQ(vars[i].value().to_vector<float>(), copies[i].value().to_vector<float>());
        }
      }
      const auto a = original->state(), b = restored->state();
      ASSERT_EQ(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].first, b[k].first);
        EXPECT_EQ(a[k].second.to_vector<double>(), b[k].second.to_vector<double>()) << a[k].first;
      }
    }
  }
}

TEST(Optimizers, LoadStateReportsEveryMismatchAndChangesNothing) {
  Variable w(zeros({2, 3}), "w");
  Variable bias(zeros({3}), "bias");
  const std::vector<Variable> vars{w, bias};
  Adam adam;
  const std::vector<Tensor> grads{full({2, 3}, 1.0), full({3}, 1.0)};
  adam.apply_gradients(grads, vars);
  const auto good = adam.state();

  auto broken = good;
  broken.erase(broken.begin());                // w/m missing
  broken[0].second = zeros({3, 2});            // w/v: wrong shape
  broken[1].second = zeros({3}, DType::F64);   // bias/m: wrong dtype
  broken.emplace_back("extra/m", zeros({3}));  // unexpected
  Adam other;
  try {
    other.load_state(broken, vars);
    FAIL() << "expected an error";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    for (const char* part : {"missing entry 'w/m'", "'w/v' has shape [3, 2]", "'bias/m' has dtype",
                             "unexpected entry 'extra/m'"}) {
      EXPECT_NE(message.find(part), std::string::npos) << part << " not in: " << message;
    }
  }
  EXPECT_EQ(other.iterations(), 0);
  EXPECT_EQ(other.state().size(), 1u);  // still nothing but iterations

  auto wrong_shape = good;
  wrong_shape[0].second = zeros({6});
  EXPECT_THROW(other.load_state(wrong_shape, vars), ShapeError);
  auto wrong_dtype = good;
  wrong_dtype[0].second = zeros({2, 3}, DType::F16);
  EXPECT_THROW(other.load_state(wrong_dtype, vars), DTypeError);
  auto no_iterations = good;
  no_iterations.pop_back();
  EXPECT_THROW(other.load_state(no_iterations, vars), InvalidArgument);
  auto float_iterations = good;
  float_iterations.back().second = Tensor::from_scalar(1.0);
  EXPECT_THROW(other.load_state(float_iterations, vars), DTypeError);
  auto duplicated = good;
  duplicated.push_back(good[0]);
  EXPECT_THROW(other.load_state(duplicated, vars), InvalidArgument);
  EXPECT_THROW(other.load_state(good, std::vector<Variable>{w, Variable(zeros({3}), "w")}),
               InvalidArgument);
  EXPECT_THROW(other.load_state(good, std::vector<Variable>{Variable(zeros({3}))}),
               InvalidArgument);
  EXPECT_EQ(other.iterations(), 0);
  other.load_state(good, vars);
  EXPECT_EQ(other.iterations(), 1);
}

TEST(Optimizers, StateNeedsUniqueNonEmptyNames) {
  Variable a(zeros({2}), "same"), b(zeros({2}), "same"), unnamed(zeros({2}));
  const Tensor g = full({2}, 1.0);
  SGD momentum({.momentum = 0.9});
  momentum.apply_gradients(std::vector<Tensor>{g, g}, std::vector<Variable>{a, b});
  EXPECT_THROW(momentum.state(), InvalidArgument);
  SGD momentum2({.momentum = 0.9});
  momentum2.apply_gradients({&g, 1}, {&unnamed, 1});
  EXPECT_THROW(momentum2.state(), InvalidArgument);
  SGD plain;  // no slots: names do not matter
  plain.apply_gradients({&g, 1}, {&unnamed, 1});
  EXPECT_EQ(plain.state().size(), 1u);
}

TEST(Optimizers, ApplyGradientsErrorsChangeNothing) {
  Variable w(Tensor::from_vec<float>({1.0f, 2.0f}, {2}), "weights");
  Variable other(Tensor::from_vec<float>({3.0f}, {1}), "other");
  Adam adam;
  const std::vector<Variable> vars{w, other};
  const Tensor g2 = full({2}, 1.0), g1 = full({1}, 1.0);
  EXPECT_THROW(adam.apply_gradients(std::vector<Tensor>{g2}, vars), InvalidArgument);
  try {
    adam.apply_gradients(std::vector<Tensor>{g2, g2}, vars);
    FAIL() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("'other'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(adam.apply_gradients(std::vector<Tensor>{g2, full({1}, 1.0, DType::I32)}, vars),
               DTypeError);
  EXPECT_THROW(adam.apply_gradients(std::vector<Tensor>{g2, g2}, std::vector<Variable>{w, w}),
               InvalidArgument);
  EXPECT_THROW(
      adam.apply_gradients(std::vector<Tensor>{g2, g1}, std::vector<Variable>{w, Variable()}),
      InvalidArgument);
  Variable counter(Tensor::from_vec<int32_t>({1}, {1}), "counter");
  EXPECT_THROW(adam.apply_gradients({&g1, 1}, {&counter, 1}), DTypeError);
  EXPECT_EQ(adam.iterations(), 0);
  EXPECT_EQ(w.value().to_vector<float>(), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(adam.state().size(), 1u);
}

TEST(Optimizers, OptionsAreValidated) {
  EXPECT_THROW(SGD({.learning_rate = -0.1}), InvalidArgument);
  EXPECT_THROW(SGD({.momentum = -0.5}), InvalidArgument);
  EXPECT_THROW(SGD({.dampening = 1.5}), InvalidArgument);
  EXPECT_THROW(SGD({.nesterov = true}), InvalidArgument);
  EXPECT_THROW(SGD({.momentum = 0.9, .dampening = 0.1, .nesterov = true}), InvalidArgument);
  EXPECT_THROW(SGD({.common = {.weight_decay = -1.0}}), InvalidArgument);
  EXPECT_THROW(SGD({.common = {.clip_value = 0.0}}), InvalidArgument);
  EXPECT_THROW(SGD({.common = {.clip_norm = -1.0}}), InvalidArgument);
  EXPECT_THROW(SGD({.common = {.global_clip_norm = std::nan("")}}), InvalidArgument);
  EXPECT_THROW(Adam({.beta1 = 1.0}), InvalidArgument);
  EXPECT_THROW(Adam({.beta2 = -0.1}), InvalidArgument);
  EXPECT_THROW(Adam({.epsilon = -1e-8}), InvalidArgument);
  EXPECT_THROW(AdamW({.common = {.weight_decay = -0.01}}), InvalidArgument);
  EXPECT_THROW(RMSprop({.rho = 1.0}), InvalidArgument);
  EXPECT_THROW(RMSprop({.momentum = -0.1}), InvalidArgument);
  EXPECT_THROW(Adagrad({.initial_accumulator_value = -0.1}), InvalidArgument);
  EXPECT_THROW(Adagrad({.epsilon = -1.0}), InvalidArgument);
  EXPECT_THROW(SGD({.learning_rate = std::shared_ptr<ExponentialDecay>()}), InvalidArgument);
  EXPECT_EQ(AdamW().options().weight_decay, 1e-2);  // torch's default
}

}  // namespace
}  // namespace tenflowers::nn::testing
