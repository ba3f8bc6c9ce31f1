#include "tenflowers/nn/layers/core.hpp"

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {

Dense::Dense(int64_t units, DenseOptions options)
    : Layer("dense", options.name),
      units_(units),
      options_(std::move(options)),
      activation_(activation_from_name(options_.activation)) {
  TF_CHECK(units > 0, InvalidArgument, "Dense: units must be positive, got ", units);
}

void Dense::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  TF_CHECK(static_cast<int64_t>(s.size()) >= 1 && s[static_cast<int64_t>(s.size()) - 1] > 0,
           ShapeError, "layer '", name(),
           "' (dense): expected an input with a positive last axis, got ", s);
  const int64_t in = s[static_cast<int64_t>(s.size()) - 1];
  kernel_ = add_weight("kernel", {in, units_}, options_.kernel_initializer, {in, units_}, true,
                       options_.kernel_regularizer);
  if (options_.use_bias) {
    bias_ = add_weight("bias", {units_}, options_.bias_initializer, {in, units_}, true,
                       options_.bias_regularizer);
  }
}

Tensor Dense::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  const int64_t in = kernel_.shape()[0];
  TF_CHECK(x.rank() >= 1 && x.size(-1) == in, ShapeError, "layer '", name(),
           "' (dense): built for inputs with last axis ", in, ", got shape ", x.shape());
  // relu runs in the product's epilogue; other activations after it.
  const bool relu = activation_ == ActivationKind::Relu;
  const Tensor y =
      linear(x, kernel_, bias_.defined() ? Tensor(bias_) : Tensor(), relu ? "relu" : "linear");
  return relu ? y : apply_activation(activation_, y);
}

Activation::Activation(const std::string& activation, std::string name)
    : Layer("activation", std::move(name)), kind_(activation_from_name(activation)) {}

Tensor Activation::forward(const std::vector<Tensor>& inputs) {
  return apply_activation(kind_, only_input(inputs));
}

Dropout::Dropout(double rate, std::optional<uint64_t> seed, std::string name)
    : Layer("dropout", std::move(name)), rate_(rate), seed_(seed) {
  TF_CHECK(rate >= 0.0 && rate < 1.0, InvalidArgument, "Dropout: rate must be in [0, 1), got ",
           rate);
}

Tensor Dropout::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  if (!training() || rate_ == 0.0) return x;
  TF_CHECK(is_floating(x.dtype()), DTypeError, "layer '", name(),
           "' (dropout): expected a floating input, got ", dtype_name(x.dtype()));
  std::optional<uint64_t> seed;
  if (seed_) seed = *seed_ + 0x9E3779B97F4A7C15ULL * ++calls_;
  // keep ~ Bernoulli(1 - rate), scaled so the expectation is unchanged.
  const Tensor keep = bernoulli(x.shape(), 1.0 - rate_, x.dtype(), seed, x.device());
  return x * (keep * (1.0 / (1.0 - rate_)));
}

Flatten::Flatten(std::string name) : Layer("flatten", std::move(name)) {}

Tensor Flatten::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  TF_CHECK(x.rank() >= 1, ShapeError, "layer '", name(), "' (flatten): expected a batch axis, got ",
           "a 0-d tensor");
  return x.rank() == 1 ? x.unsqueeze(1) : x.flatten(1);
}

Reshape::Reshape(std::vector<int64_t> target_shape, std::string name)
    : Layer("reshape", std::move(name)), target_shape_(std::move(target_shape)) {}

Tensor Reshape::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  TF_CHECK(x.rank() >= 1, ShapeError, "layer '", name(), "' (reshape): expected a batch axis");
  std::vector<int64_t> shape{x.size(0)};
  shape.insert(shape.end(), target_shape_.begin(), target_shape_.end());
  return x.reshape(Dims(shape));
}

Embedding::Embedding(int64_t input_dim, int64_t output_dim, Initializer initializer,
                     std::string name)
    : Layer("embedding", std::move(name)),
      input_dim_(input_dim),
      output_dim_(output_dim),
      initializer_(initializer) {
  TF_CHECK(input_dim > 0 && output_dim > 0, InvalidArgument,
           "Embedding: input_dim and output_dim must be positive, got ", input_dim, " and ",
           output_dim);
}

void Embedding::build(const std::vector<Dims>&) {
  embeddings_ =
      add_weight("embeddings", {input_dim_, output_dim_}, initializer_, {input_dim_, output_dim_});
}

Tensor Embedding::forward(const std::vector<Tensor>& inputs) {
  const Tensor& ids = only_input(inputs);
  TF_CHECK(ids.dtype() == DType::I32 || ids.dtype() == DType::I64, DTypeError, "layer '", name(),
           "' (embedding): expected i32 or i64 ids, got ", dtype_name(ids.dtype()));
  // index_select accepts negative ids counting from the end; an embedding does not.
  if (ids.numel() > 0) {
    const double lo = min(ids).cast(DType::F64).item<double>();
    const double hi = max(ids).cast(DType::F64).item<double>();
    TF_CHECK(lo >= 0 && hi < static_cast<double>(input_dim_), IndexError, "layer '", name(),
             "' (embedding): ids must lie in [0, ", input_dim_, "), got values in [", lo, ", ", hi,
             "]");
  }
  std::vector<int64_t> shape = ids.shape().vec();
  shape.push_back(output_dim_);
  return index_select(embeddings_, 0, ids.reshape({ids.numel()})).reshape(Dims(shape));
}

}  // namespace tenflowers::nn
