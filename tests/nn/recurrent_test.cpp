// LSTM and GRU against naive loops over Ref arrays (Keras' equations and masking rules), and
// their gradients against central differences.
#include <gtest/gtest.h>

#include <cmath>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/layers/recurrent.hpp"
#include "tests/nn/layer_check.hpp"

namespace tenflowers::testing {
namespace {

double sigmoid_ref(double v) {
  return 1.0 / (1.0 + std::exp(-v));
}

// The inputs of one case: x [N, T, F], an optional mask [N, T] and optional initial states.
struct Case {
  Tensor x, mask;
  std::vector<Tensor> states;
  std::vector<Tensor> inputs() const {
    std::vector<Tensor> in{x};
    if (mask.defined()) in.push_back(mask);
    in.insert(in.end(), states.begin(), states.end());
    return in;
  }
};

Case random_case(Rng& rng, int64_t n, int64_t t, int64_t f, int64_t units, int64_t state_count,
                 bool masked, bool initial) {
  Case c;
  c.x = random_tensor(rng, {n, t, f}, DType::F64);
  if (masked) c.mask = random_tensor(rng, {n, t}, DType::Bool);
  for (int64_t i = 0; initial && i < state_count; ++i) {
    c.states.push_back(random_tensor(rng, {n, units}, DType::F64));
  }
  return c;
}

// The naive result: every step's output [N, T, u] (Keras' masked outputs) and the final states.
struct Naive {
  Ref outputs;
  std::vector<Ref> states;
};

// Runs `cell(b, x_t, states)` -> new states (h first) over the sequence with Keras' masking:
// a masked step keeps the states and repeats the previous output (zeros at first).
template <class Cell>
Naive run_naive(const Case& c, int64_t units, size_t state_count, Cell cell) {
  const Ref x = to_ref(c.x);
  const int64_t n = x.shape[0], steps = x.shape[1], f = x.shape[2];
  const Ref mask = c.mask.defined() ? to_ref(c.mask) : Ref();
  Naive out{Ref({n, steps, units}), {}};
  for (size_t s = 0; s < state_count; ++s) {
    out.states.push_back(c.states.empty() ? Ref({n, units}) : to_ref(c.states[s]));
  }
  for (int64_t b = 0; b < n; ++b) {
    std::vector<std::vector<double>> states(state_count);
    for (size_t s = 0; s < state_count; ++s) {
      states[s].assign(out.states[s].data.begin() + b * units,
                       out.states[s].data.begin() + (b + 1) * units);
    }
    std::vector<double> previous(static_cast<size_t>(units), 0.0);
    for (int64_t t = 0; t < steps; ++t) {
      const bool keep = !c.mask.defined() || mask.data[b * steps + t] != 0.0;
      if (keep) {
        const std::vector<double> xt(x.data.begin() + (b * steps + t) * f,
                                     x.data.begin() + (b * steps + t + 1) * f);
        states = cell(xt, states);
        previous = states[0];
      }
      for (int64_t j = 0; j < units; ++j)
        out.outputs.data[(b * steps + t) * units + j] = previous[j];
    }
    for (size_t s = 0; s < state_count; ++s) {
      for (int64_t j = 0; j < units; ++j) out.states[s].data[b * units + j] = states[s][j];
    }
  }
  return out;
}

// sum_k v[k] * w[k, col] for a row-major [rows, cols] matrix.
double dot_column(const std::vector<double>& v, const Ref& w, int64_t col) {
  const int64_t cols = w.shape[1];
  double acc = 0;
  for (size_t k = 0; k < v.size(); ++k) acc += v[k] * w.data[static_cast<int64_t>(k) * cols + col];
  return acc;
}

Naive naive_lstm(const nn::LSTM& lstm, const Case& c) {
  const Ref w = to_ref(lstm.kernel().value()), u = to_ref(lstm.recurrent_kernel().value());
  const Ref bias = to_ref(lstm.bias().value());
  const int64_t units = lstm.units();
  return run_naive(c, units, 2, [&](const std::vector<double>& xt, const auto& s) {
    std::vector<std::vector<double>> next(2, std::vector<double>(static_cast<size_t>(units)));
    auto gate = [&](int64_t g, int64_t j) {
      const int64_t col = g * units + j;
      return dot_column(xt, w, col) + dot_column(s[0], u, col) + bias.data[col];
    };
    for (int64_t j = 0; j < units; ++j) {
      const double i = sigmoid_ref(gate(0, j)), f = sigmoid_ref(gate(1, j));
      const double candidate = std::tanh(gate(2, j)), o = sigmoid_ref(gate(3, j));
      next[1][j] = f * s[1][j] + i * candidate;
      next[0][j] = o * std::tanh(next[1][j]);
    }
    return next;
  });
}

Naive naive_gru(const nn::GRU& gru, const Case& c, bool reset_after) {
  const Ref w = to_ref(gru.kernel().value()), u = to_ref(gru.recurrent_kernel().value());
  const Ref bias = to_ref(gru.bias().value());
  const int64_t units = gru.units();
  // Reset-after: bias rows (input, recurrent); otherwise one input bias.
  auto input_bias = [&](int64_t col) { return bias.data[col]; };
  auto recurrent_bias = [&](int64_t col) { return reset_after ? bias.data[3 * units + col] : 0.0; };
  return run_naive(c, units, 1, [&](const std::vector<double>& xt, const auto& s) {
    const std::vector<double>& h = s[0];
    std::vector<double> z(static_cast<size_t>(units)), r(z.size()), next(z.size());
    for (int64_t j = 0; j < units; ++j) {
      z[j] = sigmoid_ref(dot_column(xt, w, j) + input_bias(j) + dot_column(h, u, j) +
                         recurrent_bias(j));
      r[j] = sigmoid_ref(dot_column(xt, w, units + j) + input_bias(units + j) +
                         dot_column(h, u, units + j) + recurrent_bias(units + j));
    }
    std::vector<double> rh(z.size());
    for (int64_t j = 0; j < units; ++j) rh[j] = r[j] * h[j];
    for (int64_t j = 0; j < units; ++j) {
      const int64_t col = 2 * units + j;
      const double recurrent = reset_after ? r[j] * (dot_column(h, u, col) + recurrent_bias(col))
                                           : dot_column(rh, u, col);
      const double candidate = std::tanh(dot_column(xt, w, col) + input_bias(col) + recurrent);
      next[j] = z[j] * h[j] + (1 - z[j]) * candidate;
    }
    return std::vector<std::vector<double>>{next};
  });
}

// Gives the bias random values, so that every bias term shows in the comparison.
void randomize_bias(const nn::RecurrentLayer& layer, Rng& rng) {
  Variable bias = layer.bias();
  bias.assign(random_tensor(rng, bias.shape().vec(), DType::F64));
}

// The naive outputs as the layer returns them: all steps, or the last step's.
Ref expected_output(const Naive& naive, bool return_sequences) {
  if (return_sequences) return naive.outputs;
  const int64_t n = naive.outputs.shape[0], steps = naive.outputs.shape[1],
                units = naive.outputs.shape[2];
  Ref last({n, units});
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t j = 0; j < units; ++j) {
      last.data[b * units + j] = naive.outputs.data[((b + 1) * steps - 1) * units + j];
    }
  }
  return last;
}

TEST(LSTM, MatchesNaiveLoopsWithMasksAndInitialStates) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (int round = 0; round < 8; ++round) {
    const bool sequences = round & 1, masked = round & 2, initial = round & 4;
    const int64_t n = rng.integer(1, 3), t = rng.integer(1, 5), f = rng.integer(1, 3),
                  units = rng.integer(1, 3);
    nn::RecurrentOptions options;
    options.return_sequences = sequences;
    nn::LSTM lstm(units, options);
    const Case c = random_case(rng, n, t, f, units, 2, masked, initial);
    lstm.call(c.inputs());  // builds
    randomize_bias(lstm, rng);
    const nn::RecurrentOutput out = lstm.call_with_state(c.inputs());
    const Naive naive = naive_lstm(lstm, c);
    const Tolerance tol = tolerance_for(DType::F64);
    EXPECT_CLOSE_TO_REF(out.output, expected_output(naive, sequences), tol) << "round " << round;
    EXPECT_CLOSE_TO_REF(out.h, naive.states[0], tol);
    EXPECT_CLOSE_TO_REF(out.c, naive.states[1], tol);
  }
}

TEST(LSTM, HasKerasWeightShapesAndUnitForgetBias) {
  F64Weights f64;
  nn::LSTM lstm(3);
  lstm(zeros({2, 4, 5}, DType::F64));
  const auto vars = lstm.named_variables();
  ASSERT_EQ(vars.size(), 3u);
  EXPECT_EQ(vars[0].first, "kernel");
  EXPECT_EQ(vars[0].second.shape(), Dims({5, 12}));
  EXPECT_EQ(vars[1].first, "recurrent_kernel");
  EXPECT_EQ(vars[1].second.shape(), Dims({3, 12}));
  EXPECT_EQ(vars[2].first, "bias");
  const Ref bias = to_ref(vars[2].second.value());
  for (int64_t j = 0; j < 12; ++j) EXPECT_EQ(bias.data[j], j >= 3 && j < 6 ? 1.0 : 0.0) << j;
  // The recurrent kernel's rows are orthonormal.
  const Ref u = to_ref(vars[1].second.value());
  for (int64_t a = 0; a < 3; ++a) {
    for (int64_t b = 0; b < 3; ++b) {
      double dot = 0;
      for (int64_t k = 0; k < 12; ++k) dot += u.data[a * 12 + k] * u.data[b * 12 + k];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12);
    }
  }
}

TEST(GRU, MatchesNaiveLoopsWithAndWithoutResetAfter) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (int round = 0; round < 16; ++round) {
    const bool sequences = round & 1, masked = round & 2, initial = round & 4,
               reset_after = round & 8;
    const int64_t n = rng.integer(1, 3), t = rng.integer(1, 5), f = rng.integer(1, 3),
                  units = rng.integer(1, 3);
    nn::RecurrentOptions options;
    options.return_sequences = sequences;
    options.reset_after = reset_after;
    nn::GRU gru(units, options);
    const Case c = random_case(rng, n, t, f, units, 1, masked, initial);
    gru.call(c.inputs());
    EXPECT_EQ(gru.bias().shape(), reset_after ? Dims({2, 3 * units}) : Dims({3 * units}));
    randomize_bias(gru, rng);
    const nn::RecurrentOutput out = gru.call_with_state(c.inputs());
    const Naive naive = naive_gru(gru, c, reset_after);
    const Tolerance tol = tolerance_for(DType::F64);
    EXPECT_CLOSE_TO_REF(out.output, expected_output(naive, sequences), tol) << "round " << round;
    EXPECT_CLOSE_TO_REF(out.h, naive.states[0], tol);
    EXPECT_FALSE(out.c.defined());
  }
}

TEST(Recurrent, GradientsMatchCentralDifferences) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  nn::RecurrentOptions options;
  options.return_sequences = true;
  nn::LSTM lstm(2, options);
  const Case lc = random_case(rng, 2, 3, 2, 2, 2, true, true);
  expect_layer_gradients_match(lstm, lc.inputs(), {true, false, true, true}, rng);
  for (const bool reset_after : {true, false}) {
    options.reset_after = reset_after;
    nn::GRU gru(3, options);
    const Case gc = random_case(rng, 2, 3, 2, 3, 1, true, true);
    expect_layer_gradients_match(gru, gc.inputs(), {true, false, true}, rng);
  }
  nn::GRU last(2);  // the last output only, no mask
  expect_layer_gradients_match(last, {random_tensor(rng, {1, 3, 2}, DType::F64)}, {true}, rng);
}

TEST(Recurrent, RejectsBadInputsWithTypedErrors) {
  EXPECT_THROW(nn::LSTM(0), InvalidArgument);
  nn::RecurrentOptions bad_activation;
  bad_activation.activation = "tanhh";
  EXPECT_THROW(nn::GRU(2, bad_activation), InvalidArgument);

  nn::LSTM lstm(2);
  EXPECT_THROW(lstm(zeros({2, 3})), ShapeError);  // rank 2: not built
  lstm(zeros({2, 3, 4}));
  EXPECT_THROW(lstm(zeros({2, 3, 5})), ShapeError);  // another feature count
  EXPECT_THROW(lstm(zeros({2, 0, 4})), ShapeError);  // no steps
  EXPECT_THROW(lstm.call({zeros({2, 3, 4}), zeros({2, 4}, DType::Bool)}), ShapeError);
  EXPECT_THROW(lstm.call({zeros({2, 3, 4}), zeros({2, 3, 1}, DType::Bool)}), ShapeError);
  EXPECT_THROW(lstm.call({zeros({2, 3, 4}), zeros({2, 2})}), InvalidArgument);  // h without c
  EXPECT_THROW(lstm.call({zeros({2, 3, 4}), zeros({2, 3}), zeros({2, 2})}), ShapeError);
  EXPECT_THROW(lstm.call({zeros({2, 3, 4}), zeros({2, 3}, DType::Bool), zeros({2, 2}),
                          zeros({2, 2}), zeros({2, 2})}),
               InvalidArgument);
  nn::GRU gru(2);
  EXPECT_THROW(gru.call({zeros({2, 3, 4}), zeros({2, 2}), zeros({2, 2})}), InvalidArgument);
}

}  // namespace
}  // namespace tenflowers::testing
