#pragma once
// MultiHeadAttention and TransformerEncoderBlock (Keras' MultiHeadAttention and keras_nlp's
// TransformerEncoder), on batch-major sequences [N, T, d].
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenflowers/nn/layer.hpp"
#include "tenflowers/nn/layers/core.hpp"
#include "tenflowers/nn/layers/normalization.hpp"

namespace tenflowers::nn {

struct MultiHeadAttentionOptions {
  int64_t value_dim = 0;   // per head; 0: key_dim
  int64_t output_dim = 0;  // 0: the query's last axis
  double dropout = 0.0;    // on the attention probabilities, in training
  bool use_bias = true;
  bool use_causal_mask = false;  // query i attends to key j only where j <= i
  std::optional<uint64_t> seed;  // of the dropout
  Initializer kernel_initializer = Initializer::glorot_uniform();
  Initializer bias_initializer = Initializer::zeros();
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  std::string name;
};

// Inputs: query [N, Tq, dq], value [N, Tk, dv], optionally key [N, Tk, dk] (the value when
// absent), then optionally a bool attention mask broadcastable to [N, Tq, Tk] (true: attend).
// Per head h: softmax(Q_h K_h^T / sqrt(key_dim)) V_h, masked scores set to -1e9 before the
// softmax (a query with no key to attend spreads evenly), then the heads are concatenated and
// projected to output_dim. Weights as Keras: query/kernel [dq, heads, key_dim], query/bias
// [heads, key_dim], key/..., value/... with value_dim, attention_output/kernel
// [heads, value_dim, output_dim] and attention_output/bias [output_dim].
class MultiHeadAttention : public Layer {
 public:
  MultiHeadAttention(int64_t num_heads, int64_t key_dim, MultiHeadAttentionOptions options = {});
  int64_t num_heads() const { return num_heads_; }
  int64_t key_dim() const { return key_dim_; }
  int64_t value_dim() const { return value_dim_; }

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  struct Projection {
    Variable kernel, bias;
  };
  Projection add_projection(const std::string& name, int64_t in, int64_t head_dim);
  void check_projection_input(const Tensor& x, const Projection& p, const char* role) const;
  // [N, T, heads * head_dim] -> per-head [N, heads, T, head_dim] (a view).
  Tensor split_heads(const Tensor& y, int64_t head_dim) const;
  // x [N, T, d] -> per-head [N, heads, T, head_dim].
  Tensor project(const Tensor& x, const Projection& p, const char* role) const;
  // Query, key and value of self-attention from one product with the three kernels joined.
  std::array<Tensor, 3> project_self(const Tensor& x) const;

  int64_t num_heads_, key_dim_, value_dim_;
  MultiHeadAttentionOptions options_;
  std::shared_ptr<Dropout> dropout_;
  Projection query_, key_, value_;
  Variable output_kernel_, output_bias_;
};

struct TransformerEncoderOptions {
  int64_t key_dim = 0;  // per head; 0: d_model / num_heads
  double dropout = 0.0;
  std::string activation = "relu";  // of the feed-forward's first layer
  bool norm_first = false;          // pre-norm instead of the original post-norm
  double epsilon = 1e-5;            // of both layer normalizations
  bool use_causal_mask = false;
  std::optional<uint64_t> seed;  // of the dropouts
  std::string name;
};

// Inputs x [N, T, d_model] and optionally a bool padding mask [N, T] (true: a real token; the
// padded tokens are hidden from every query). Post-norm:
//   x = norm1(x + dropout(attention(x, x)));  y = norm2(x + dropout(ff2(ff1(x))))
// pre-norm:
//   x = x + dropout(attention(norm1(x)));     y = x + dropout(ff2(ff1(norm2(x))))
// with ff1 = Dense(ff_dim, activation) and ff2 = Dense(d_model). The sublayers are
// self_attention, self_attention_dropout, self_attention_norm, feedforward_intermediate,
// feedforward_output, feedforward_dropout and feedforward_norm.
class TransformerEncoderBlock : public Layer {
 public:
  TransformerEncoderBlock(int64_t num_heads, int64_t ff_dim,
                          TransformerEncoderOptions options = {});

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  int64_t num_heads_, ff_dim_;
  TransformerEncoderOptions options_;
  std::shared_ptr<MultiHeadAttention> attention_;
  std::shared_ptr<Dropout> attention_dropout_, feedforward_dropout_;
  std::shared_ptr<LayerNormalization> attention_norm_, feedforward_norm_;
  std::shared_ptr<Dense> intermediate_, output_;
};

}  // namespace tenflowers::nn
