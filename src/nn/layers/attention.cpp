#include "tenflowers/nn/layers/attention.hpp"

#include <array>
#include <cmath>

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

// Added in place of masked scores: exp() of it underflows to 0 next to any real score, and it
// saturates to the lowest finite value in f16, so a fully masked row stays finite (uniform).
constexpr double kMaskedScore = -1e9;

void check_sequence(const Tensor& t, const char* role, const Layer& layer) {
  TF_CHECK(t.rank() == 3, ShapeError, "layer '", layer.name(), "' (", layer.kind(),
           "): expected the ", role, " as [N, T, d], got shape ", t.shape());
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t num_heads, int64_t key_dim,
                                       MultiHeadAttentionOptions options)
    : Layer("multi_head_attention", options.name),
      num_heads_(num_heads),
      key_dim_(key_dim),
      value_dim_(options.value_dim == 0 ? key_dim : options.value_dim),
      options_(std::move(options)) {
  TF_CHECK(num_heads > 0 && key_dim > 0 && value_dim_ > 0 && options_.output_dim >= 0,
           InvalidArgument,
           "MultiHeadAttention: num_heads, key_dim and value_dim must be positive and output_dim "
           "non-negative, got ",
           num_heads, ", ", key_dim, ", ", value_dim_, " and ", options_.output_dim);
  dropout_ = track("dropout", std::make_shared<Dropout>(options_.dropout, options_.seed));
}

MultiHeadAttention::Projection MultiHeadAttention::add_projection(const std::string& name,
                                                                  int64_t in, int64_t head_dim) {
  const Fans fans{in, num_heads_ * head_dim};
  Projection p;
  p.kernel = add_weight(name + "/kernel", {in, num_heads_, head_dim}, options_.kernel_initializer,
                        fans, true, options_.kernel_regularizer);
  if (options_.use_bias) {
    p.bias = add_weight(name + "/bias", {num_heads_, head_dim}, options_.bias_initializer, fans,
                        true, options_.bias_regularizer);
  }
  return p;
}

void MultiHeadAttention::check_projection_input(const Tensor& x, const Projection& p,
                                                const char* role) const {
  TF_CHECK(x.size(2) == p.kernel.shape()[0], ShapeError, "layer '", name(),
           "' (multi_head_attention): built for a ", role, " with last axis ", p.kernel.shape()[0],
           ", got shape ", x.shape());
}

Tensor MultiHeadAttention::split_heads(const Tensor& y, int64_t head_dim) const {
  return y.reshape({y.size(0), y.size(1), num_heads_, head_dim}).permute({0, 2, 1, 3});
}

Tensor MultiHeadAttention::project(const Tensor& x, const Projection& p, const char* role) const {
  check_projection_input(x, p, role);
  const Dims& k = p.kernel.shape();
  const Tensor bias = p.bias.defined() ? p.bias.value().reshape({k[1] * k[2]}) : Tensor();
  return split_heads(linear(x, p.kernel.value().reshape({k[0], k[1] * k[2]}), bias), k[2]);
}

std::array<Tensor, 3> MultiHeadAttention::project_self(const Tensor& x) const {
  check_projection_input(x, query_, "query");
  const std::array<const Projection*, 3> projections{&query_, &key_, &value_};
  std::vector<Tensor> kernels, biases;
  std::vector<int64_t> widths;
  for (const Projection* p : projections) {
    const Dims& k = p->kernel.shape();
    widths.push_back(k[1] * k[2]);
    kernels.push_back(p->kernel.value().reshape({k[0], widths.back()}));
    if (p->bias.defined()) biases.push_back(p->bias.value().reshape({widths.back()}));
  }
  const Tensor y = linear(x, concat(kernels, 1), biases.empty() ? Tensor() : concat(biases, 0));
  const std::vector<Tensor> parts = split(y, widths, -1);
  return {split_heads(parts[0], key_dim_), split_heads(parts[1], key_dim_),
          split_heads(parts[2], value_dim_)};
}

Tensor MultiHeadAttention::forward(const std::vector<Tensor>& inputs) {
  expect_inputs(inputs, 2, 4);
  size_t sequences = inputs.size();
  Tensor mask;
  if (sequences > 2 && inputs.back().dtype() == DType::Bool) mask = inputs[--sequences];
  TF_CHECK(sequences <= 3, InvalidArgument, "layer '", name(),
           "' (multi_head_attention): expected query, value, an optional key and an optional "
           "bool mask, got 4 inputs whose last is ",
           dtype_name(inputs.back().dtype()));
  const Tensor& query = inputs[0];
  const Tensor& value = inputs[1];
  const Tensor& key = sequences == 3 ? inputs[2] : value;
  check_sequence(query, "query", *this);
  check_sequence(value, "value", *this);
  check_sequence(key, "key", *this);
  const int64_t n = query.size(0), tq = query.size(1), tk = value.size(1);
  TF_CHECK(value.size(0) == n && key.size(0) == n && key.size(1) == tk, ShapeError, "layer '",
           name(), "' (multi_head_attention): query ", query.shape(), ", value ", value.shape(),
           " and key ", key.shape(), " must share the batch, and key and value the length");
  if (mask.defined()) {
    const Dims& m = mask.shape();
    TF_CHECK(m.size() == 3 && (m[0] == n || m[0] == 1) && (m[1] == tq || m[1] == 1) &&
                 (m[2] == tk || m[2] == 1),
             ShapeError, "layer '", name(),
             "' (multi_head_attention): expected a bool attention mask broadcastable to [", n, ", ",
             tq, ", ", tk, "], got ", m);
  }

  // Whether a key is given shows in the inputs' dtypes (a bool last input is the mask), which
  // build() does not see, so the first forward makes the weights.
  if (!query_.kernel.defined()) {
    query_ = add_projection("query", query.size(2), key_dim_);
    key_ = add_projection("key", key.size(2), key_dim_);
    value_ = add_projection("value", value.size(2), value_dim_);
    const int64_t out = options_.output_dim > 0 ? options_.output_dim : query.size(2);
    const Fans fans{num_heads_ * value_dim_, out};
    output_kernel_ =
        add_weight("attention_output/kernel", {num_heads_, value_dim_, out},
                   options_.kernel_initializer, fans, true, options_.kernel_regularizer);
    if (options_.use_bias) {
      output_bias_ = add_weight("attention_output/bias", {out}, options_.bias_initializer, fans,
                                true, options_.bias_regularizer);
    }
  }

  // Self-attention projects its one input with the three kernels side by side: one larger
  // product forward, and one for the input's gradient instead of three.
  std::array<Tensor, 3> qkv;
  if (query.id() == value.id() && key.id() == value.id()) {
    qkv = project_self(query);
  } else {
    qkv = {project(query, query_, "query"), project(key, key_, "key"),
           project(value, value_, "value")};
  }
  // Scaling the query rather than the scores, as Keras, keeps the [Tq, Tk] work smaller.
  const Tensor q = qkv[0] * (1.0 / std::sqrt(double(key_dim_)));
  const Tensor& k = qkv[1];
  const Tensor& v = qkv[2];
  Tensor scores = matmul(q, k.transpose(-2, -1));  // [N, heads, Tq, Tk]
  if (options_.use_causal_mask) {
    const Tensor rows = arange(tq, DType::I64, query.device()).unsqueeze(1);
    const Tensor causal = ge(rows, arange(tk, DType::I64, query.device())).unsqueeze(0);
    mask = mask.defined() ? logical_and(mask, causal) : causal;
  }
  if (mask.defined()) scores = masked_fill(scores, logical_not(mask).unsqueeze(1), kMaskedScore);
  const Tensor probabilities = (*dropout_)(softmax(scores, -1));
  const Tensor context =
      matmul(probabilities, v).permute({0, 2, 1, 3}).reshape({n, tq, num_heads_ * value_dim_});
  const Dims& ko = output_kernel_.shape();
  return linear(context, output_kernel_.value().reshape({ko[0] * ko[1], ko[2]}),
                output_bias_.defined() ? output_bias_.value() : Tensor());
}

TransformerEncoderBlock::TransformerEncoderBlock(int64_t num_heads, int64_t ff_dim,
                                                 TransformerEncoderOptions options)
    : Layer("transformer_encoder", options.name),
      num_heads_(num_heads),
      ff_dim_(ff_dim),
      options_(std::move(options)) {
  TF_CHECK(num_heads > 0 && ff_dim > 0 && options_.key_dim >= 0, InvalidArgument,
           "TransformerEncoderBlock: num_heads and ff_dim must be positive and key_dim "
           "non-negative, got ",
           num_heads, ", ", ff_dim, " and ", options_.key_dim);
  TF_CHECK(options_.dropout >= 0.0 && options_.dropout < 1.0, InvalidArgument,
           "TransformerEncoderBlock: dropout must be in [0, 1), got ", options_.dropout);
}

void TransformerEncoderBlock::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  TF_CHECK(s.size() == 3 && s[2] > 0, ShapeError, "layer '", name(),
           "' (transformer_encoder): expected an input [N, T, d_model], got ", s);
  const int64_t d_model = s[2];
  TF_CHECK(options_.key_dim > 0 || d_model % num_heads_ == 0, InvalidArgument, "layer '", name(),
           "' (transformer_encoder): d_model ", d_model, " is not divisible by ", num_heads_,
           " heads; give key_dim");
  const int64_t key_dim = options_.key_dim > 0 ? options_.key_dim : d_model / num_heads_;
  // Each dropout gets its own stream when seeded.
  auto seed = [&](uint64_t k) {
    return options_.seed ? std::optional<uint64_t>(*options_.seed + k) : std::nullopt;
  };
  MultiHeadAttentionOptions attention_options;
  attention_options.dropout = options_.dropout;
  attention_options.use_causal_mask = options_.use_causal_mask;
  attention_options.seed = seed(0);
  attention_ = track("self_attention",
                     std::make_shared<MultiHeadAttention>(num_heads_, key_dim, attention_options));
  attention_dropout_ =
      track("self_attention_dropout", std::make_shared<Dropout>(options_.dropout, seed(1)));
  LayerNormOptions norm_options;
  norm_options.epsilon = options_.epsilon;
  attention_norm_ =
      track("self_attention_norm", std::make_shared<LayerNormalization>(norm_options));
  DenseOptions intermediate_options;
  intermediate_options.activation = options_.activation;
  intermediate_ =
      track("feedforward_intermediate", std::make_shared<Dense>(ff_dim_, intermediate_options));
  output_ = track("feedforward_output", std::make_shared<Dense>(d_model));
  feedforward_dropout_ =
      track("feedforward_dropout", std::make_shared<Dropout>(options_.dropout, seed(2)));
  feedforward_norm_ = track("feedforward_norm", std::make_shared<LayerNormalization>(norm_options));
}

Tensor TransformerEncoderBlock::forward(const std::vector<Tensor>& inputs) {
  expect_inputs(inputs, 1, 2);
  const Tensor& x = inputs[0];
  check_sequence(x, "input", *this);
  const Dims& s = x.shape();
  std::vector<Tensor> attention_inputs{x, x};
  if (inputs.size() == 2) {
    const Tensor& padding = inputs[1];
    TF_CHECK(padding.dtype() == DType::Bool, DTypeError, "layer '", name(),
             "' (transformer_encoder): expected a bool padding mask, got ",
             dtype_name(padding.dtype()));
    TF_CHECK(padding.shape() == Dims({s[0], s[1]}), ShapeError, "layer '", name(),
             "' (transformer_encoder): expected a padding mask [", s[0], ", ", s[1], "], got ",
             padding.shape());
    attention_inputs.push_back(padding.unsqueeze(1));  // [N, 1, T]: hides padded keys
  }
  auto attend = [&](const Tensor& h) {
    attention_inputs[0] = attention_inputs[1] = h;
    return (*attention_dropout_)(attention_->call(attention_inputs));
  };
  auto feed_forward = [&](const Tensor& h) {
    return (*feedforward_dropout_)((*output_)((*intermediate_)(h)));
  };
  if (options_.norm_first) {
    const Tensor h = x + attend((*attention_norm_)(x));
    return h + feed_forward((*feedforward_norm_)(h));
  }
  const Tensor h = (*attention_norm_)(x + attend(x));
  return (*feedforward_norm_)(h + feed_forward(h));
}

}  // namespace tenflowers::nn
