// MultiHeadAttention and TransformerEncoderBlock against naive loops over Ref arrays, and their
// gradients against central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <optional>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/nn/layers/attention.hpp"
#include "tests/nn/layer_check.hpp"

namespace tenflowers::testing {
namespace {

Tensor rand64(Rng& rng, std::vector<int64_t> shape) {
  return random_tensor(rng, std::move(shape), DType::F64);
}

std::optional<Ref> find_weight(const nn::Layer& layer, const std::string& key) {
  for (const auto& [k, v] : layer.named_variables()) {
    if (k == key) return to_ref(v.value());
  }
  return std::nullopt;
}

Ref weight(const nn::Layer& layer, const std::string& key) {
  std::optional<Ref> w = find_weight(layer, key);
  EXPECT_TRUE(w.has_value()) << "no weight " << key;
  return w.value_or(Ref({1}));
}

// Random values for every weight, so that biases, gammas and betas all show in the comparison.
void randomize_weights(nn::Layer& layer, Rng& rng) {
  for (Variable& v : layer.variables()) v.assign(rand64(rng, v.shape().vec()));
}

using AttendFn = std::function<bool(int64_t b, int64_t i, int64_t j)>;

// Naive multi-head attention with the weights under `prefix` of `layer`; x [N, T, d] Refs.
Ref naive_attention(const nn::Layer& layer, const std::string& prefix, const Ref& query,
                    const Ref& value, const Ref& key, const AttendFn& attend) {
  const Ref wq = weight(layer, prefix + "query/kernel"), wk = weight(layer, prefix + "key/kernel"),
            wv = weight(layer, prefix + "value/kernel"),
            wo = weight(layer, prefix + "attention_output/kernel");
  const std::optional<Ref> bq = find_weight(layer, prefix + "query/bias"),
                           bk = find_weight(layer, prefix + "key/bias"),
                           bv = find_weight(layer, prefix + "value/bias"),
                           bo = find_weight(layer, prefix + "attention_output/bias");
  const int64_t n = query.shape[0], tq = query.shape[1], tk = value.shape[1];
  const int64_t heads = wq.shape[1], kd = wq.shape[2], vd = wv.shape[2], out = wo.shape[2];
  // x[b, t, :] @ w[:, h, j] + bias[h, j]
  auto project = [](const Ref& x, const Ref& w, const std::optional<Ref>& bias, int64_t b,
                    int64_t t, int64_t h, int64_t j) {
    double acc = bias ? bias->at({h, j}) : 0.0;
    for (int64_t i = 0; i < x.shape[2]; ++i) acc += x.at({b, t, i}) * w.at({i, h, j});
    return acc;
  };
  Ref y({n, tq, out});
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t i = 0; i < tq; ++i) {
      std::vector<double> context(static_cast<size_t>(heads * vd), 0.0);
      for (int64_t h = 0; h < heads; ++h) {
        std::vector<double> scores(static_cast<size_t>(tk));
        for (int64_t j = 0; j < tk; ++j) {
          double s = 0;
          for (int64_t e = 0; e < kd; ++e) {
            s += project(query, wq, bq, b, i, h, e) * project(key, wk, bk, b, j, h, e);
          }
          scores[j] = attend(b, i, j) ? s / std::sqrt(double(kd)) : -1e9;
        }
        double top = scores[0], total = 0;
        for (double s : scores) top = std::max(top, s);
        for (double& s : scores) total += (s = std::exp(s - top));
        for (int64_t j = 0; j < tk; ++j) {
          for (int64_t e = 0; e < vd; ++e) {
            context[h * vd + e] += scores[j] / total * project(value, wv, bv, b, j, h, e);
          }
        }
      }
      for (int64_t o = 0; o < out; ++o) {
        double acc = bo ? bo->data[o] : 0.0;
        for (int64_t h = 0; h < heads; ++h) {
          for (int64_t e = 0; e < vd; ++e) acc += context[h * vd + e] * wo.at({h, e, o});
        }
        y.at({b, i, o}) = acc;
      }
    }
  }
  return y;
}

TEST(MultiHeadAttention, MatchesNaiveAttentionWithMasksAndKeys) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (int round = 0; round < 12; ++round) {
    const bool with_key = round & 1, causal = round & 2;
    const int mask_kind = round / 4;  // none, [N, Tq, Tk], [N, 1, Tk]
    // Self-attention (one tensor as query and value) takes the joined-projection path.
    const bool self = !with_key && round % 4 == 0;
    const int64_t n = rng.integer(1, 2), tq = rng.integer(1, 4);
    const int64_t tk = self ? tq : rng.integer(1, 4);
    const int64_t heads = rng.integer(1, 3), key_dim = rng.integer(1, 3);
    const int64_t dq = rng.integer(1, 4), dk = rng.integer(1, 4);
    const int64_t dv = self ? dq : rng.integer(1, 4);
    nn::MultiHeadAttentionOptions options;
    options.value_dim = rng.integer(0, 3);
    options.output_dim = rng.integer(0, 3);
    options.use_bias = round != 5;
    options.use_causal_mask = causal;
    nn::MultiHeadAttention mha(heads, key_dim, options);
    const Tensor query = rand64(rng, {n, tq, dq});
    const Tensor value = self ? query : rand64(rng, {n, tk, dv});
    const Tensor key = with_key ? rand64(rng, {n, tk, dk}) : value;
    std::vector<Tensor> inputs{query, value};
    if (with_key) inputs.push_back(key);
    Tensor mask;
    if (mask_kind > 0) {
      mask = random_tensor(rng, {n, mask_kind == 1 ? tq : 1, tk}, DType::Bool);
      inputs.push_back(mask);
    }
    mha.call(inputs);  // builds
    randomize_weights(mha, rng);
    const Ref mask_ref = mask.defined() ? to_ref(mask) : Ref();
    const AttendFn attend = [&](int64_t b, int64_t i, int64_t j) {
      if (causal && j > i) return false;
      if (!mask.defined()) return true;
      return mask_ref.at({b, mask_kind == 1 ? i : 0, j}) != 0.0;
    };
    const Ref expected =
        naive_attention(mha, "", to_ref(query), to_ref(value), to_ref(key), attend);
    EXPECT_CLOSE_TO_REF(mha.call(inputs), expected, tolerance_for(DType::F64)) << "round " << round;
  }
}

TEST(MultiHeadAttention, HasKerasWeightShapes) {
  nn::MultiHeadAttentionOptions options;
  options.value_dim = 5;
  options.output_dim = 7;
  nn::MultiHeadAttention mha(2, 3, options);
  mha.call({zeros({1, 4, 6}), zeros({1, 2, 8}), zeros({1, 2, 9})});
  const std::vector<std::pair<std::string, Dims>> expected{{"query/kernel", {6, 2, 3}},
                                                           {"query/bias", {2, 3}},
                                                           {"key/kernel", {9, 2, 3}},
                                                           {"key/bias", {2, 3}},
                                                           {"value/kernel", {8, 2, 5}},
                                                           {"value/bias", {2, 5}},
                                                           {"attention_output/kernel", {2, 5, 7}},
                                                           {"attention_output/bias", {7}}};
  const auto vars = mha.named_variables();
  ASSERT_EQ(vars.size(), expected.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    EXPECT_EQ(vars[i].first, expected[i].first);
    EXPECT_EQ(vars[i].second.shape(), expected[i].second) << vars[i].first;
  }
}

TEST(MultiHeadAttention, DropsAttentionProbabilitiesOnlyInTraining) {
  Rng rng = Rng::for_test();
  nn::MultiHeadAttentionOptions options;
  options.dropout = 0.5;
  options.seed = 7;
  nn::MultiHeadAttention mha(2, 2, options);
  const Tensor x = random_tensor(rng, {2, 6, 4}, DType::F32);
  const Tensor inference = mha.call({x, x});
  EXPECT_TRUE(allclose(mha.call({x, x}), inference));
  mha.set_training(true);
  EXPECT_FALSE(allclose(mha.call({x, x}), inference));
}

TEST(MultiHeadAttention, GradientsMatchCentralDifferences) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  nn::MultiHeadAttentionOptions options;
  options.use_causal_mask = true;
  nn::MultiHeadAttention mha(2, 2, options);
  const std::vector<Tensor> inputs{rand64(rng, {2, 3, 2}), rand64(rng, {2, 3, 3}),
                                   rand64(rng, {2, 3, 2}),
                                   random_tensor(rng, {2, 1, 3}, DType::Bool)};
  mha.call(inputs);
  randomize_weights(mha, rng);
  expect_layer_gradients_match(mha, inputs, {true, true, true, false}, rng);
}

TEST(MultiHeadAttention, RejectsBadInputsWithTypedErrors) {
  EXPECT_THROW(nn::MultiHeadAttention(0, 2), InvalidArgument);
  EXPECT_THROW(nn::MultiHeadAttention(2, 0), InvalidArgument);
  nn::MultiHeadAttentionOptions bad_rate;
  bad_rate.dropout = 1.0;
  EXPECT_THROW(nn::MultiHeadAttention(2, 2, bad_rate), InvalidArgument);

  nn::MultiHeadAttention mha(2, 2);
  const Tensor q = zeros({2, 3, 4}), v = zeros({2, 5, 4});
  EXPECT_THROW(mha.call({q}), InvalidArgument);
  EXPECT_THROW(mha.call({zeros({3, 4}), v}), ShapeError);
  EXPECT_THROW(mha.call({q, zeros({3, 5, 4})}), ShapeError);                  // batch
  EXPECT_THROW(mha.call({q, v, zeros({2, 4, 4})}), ShapeError);               // key length
  EXPECT_THROW(mha.call({q, v, zeros({2, 3, 4}, DType::Bool)}), ShapeError);  // mask [.., Tk]
  EXPECT_THROW(mha.call({q, v, zeros({3, 5}, DType::Bool)}), ShapeError);     // mask rank
  EXPECT_THROW(mha.call({q, v, v, v}), InvalidArgument);  // a fourth input that is no mask
  mha.call({q, v, zeros({2, 1, 5}, DType::Bool)});
  EXPECT_THROW(mha.call({zeros({2, 3, 6}), v}), ShapeError);  // built for queries of width 4
}

// Naive layer normalization over the last axis.
Ref naive_layer_norm(const Ref& x, const Ref& gamma, const Ref& beta, double epsilon) {
  const int64_t d = x.shape.back(), rows = x.numel() / d;
  Ref y(x.shape);
  for (int64_t r = 0; r < rows; ++r) {
    double mu = 0, var = 0;
    for (int64_t i = 0; i < d; ++i) mu += x.data[r * d + i] / d;
    for (int64_t i = 0; i < d; ++i) var += (x.data[r * d + i] - mu) * (x.data[r * d + i] - mu) / d;
    for (int64_t i = 0; i < d; ++i) {
      y.data[r * d + i] =
          (x.data[r * d + i] - mu) / std::sqrt(var + epsilon) * gamma.data[i] + beta.data[i];
    }
  }
  return y;
}

// Naive x @ w + b on the last axis, then `activation` elementwise.
Ref naive_dense(const Ref& x, const Ref& w, const Ref& b, double (*activation)(double)) {
  const int64_t in = w.shape[0], out = w.shape[1], rows = x.numel() / in;
  std::vector<int64_t> shape = x.shape;
  shape.back() = out;
  Ref y(shape);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.data[o];
      for (int64_t i = 0; i < in; ++i) acc += x.data[r * in + i] * w.data[i * out + o];
      y.data[r * out + o] = activation(acc);
    }
  }
  return y;
}

Ref plus(Ref a, const Ref& b) {
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] += b.data[i];
  return a;
}

double identity(double v) {
  return v;
}
double relu_ref(double v) {
  return v > 0 ? v : 0.0;
}
double gelu_ref(double v) {
  return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
}

// The block's equations (see attention.hpp) with the naive pieces.
Ref naive_encoder_block(const nn::Layer& block, const Ref& x, const AttendFn& attend,
                        bool norm_first, double (*activation)(double), double epsilon) {
  auto norm = [&](const std::string& key, const Ref& v) {
    return naive_layer_norm(v, weight(block, key + "/gamma"), weight(block, key + "/beta"),
                            epsilon);
  };
  auto attention = [&](const Ref& v) {
    return naive_attention(block, "self_attention/", v, v, v, attend);
  };
  auto feed_forward = [&](const Ref& v) {
    const Ref hidden = naive_dense(v, weight(block, "feedforward_intermediate/kernel"),
                                   weight(block, "feedforward_intermediate/bias"), activation);
    return naive_dense(hidden, weight(block, "feedforward_output/kernel"),
                       weight(block, "feedforward_output/bias"), identity);
  };
  if (norm_first) {
    const Ref h = plus(x, attention(norm("self_attention_norm", x)));
    return plus(h, feed_forward(norm("feedforward_norm", h)));
  }
  const Ref h = norm("self_attention_norm", plus(x, attention(x)));
  return norm("feedforward_norm", plus(h, feed_forward(h)));
}

TEST(TransformerEncoderBlock, MatchesNaiveBlockPostAndPreNorm) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (int round = 0; round < 8; ++round) {
    const bool norm_first = round & 1, padded = round & 2, gelu = round & 4;
    const int64_t heads = rng.integer(1, 2), d_model = heads * rng.integer(1, 3);
    const int64_t n = rng.integer(1, 2), t = rng.integer(1, 4), ff_dim = rng.integer(1, 4);
    nn::TransformerEncoderOptions options;
    options.norm_first = norm_first;
    options.activation = gelu ? "gelu" : "relu";
    options.use_causal_mask = round == 6;
    nn::TransformerEncoderBlock block(heads, ff_dim, options);
    const Tensor x = rand64(rng, {n, t, d_model});
    std::vector<Tensor> inputs{x};
    if (padded) inputs.push_back(random_tensor(rng, {n, t}, DType::Bool));
    block.call(inputs);
    randomize_weights(block, rng);
    const Ref padding = padded ? to_ref(inputs[1]) : Ref();
    const AttendFn attend = [&](int64_t b, int64_t i, int64_t j) {
      if (options.use_causal_mask && j > i) return false;
      return !padded || padding.at({b, j}) != 0.0;
    };
    const Ref expected = naive_encoder_block(block, to_ref(x), attend, norm_first,
                                             gelu ? gelu_ref : relu_ref, options.epsilon);
    EXPECT_CLOSE_TO_REF(block.call(inputs), expected, tolerance_for(DType::F64))
        << "round " << round;
  }
}

TEST(TransformerEncoderBlock, GradientsMatchCentralDifferences) {
  Rng rng = Rng::for_test();
  F64Weights f64;
  for (const bool norm_first : {false, true}) {
    nn::TransformerEncoderOptions options;
    options.norm_first = norm_first;
    options.activation = "gelu";  // smooth, so the differences do not straddle a kink
    nn::TransformerEncoderBlock block(2, 3, options);
    const std::vector<Tensor> inputs{rand64(rng, {1, 3, 4}),
                                     Tensor::from_vec<bool>({true, true, false}, {1, 3})};
    block.call(inputs);
    randomize_weights(block, rng);
    expect_layer_gradients_match(block, inputs, {true, false}, rng);
  }
}

TEST(TransformerEncoderBlock, RejectsBadInputsWithTypedErrors) {
  EXPECT_THROW(nn::TransformerEncoderBlock(0, 4), InvalidArgument);
  EXPECT_THROW(nn::TransformerEncoderBlock(2, 0), InvalidArgument);
  nn::TransformerEncoderBlock odd(2, 4);
  EXPECT_THROW(odd(zeros({1, 3, 5})), InvalidArgument);  // 5 is not divisible by 2 heads
  nn::TransformerEncoderBlock block(2, 4);
  EXPECT_THROW(block(zeros({3, 4})), ShapeError);
  const Tensor x = zeros({2, 3, 4});
  block(x);
  EXPECT_THROW(block.call({x, zeros({2, 3})}), DTypeError);
  EXPECT_THROW(block.call({x, zeros({2, 4}, DType::Bool)}), ShapeError);
  EXPECT_THROW(block.call({x, zeros({2, 3}, DType::Bool), zeros({2, 3}, DType::Bool)}),
               InvalidArgument);
  EXPECT_THROW(block(zeros({2, 3, 6})), ShapeError);
}

}  // namespace
}  // namespace tenflowers::testing
