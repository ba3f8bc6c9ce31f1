#pragma once
// Dense, Activation, Dropout, Flatten, Reshape and Embedding.
#include <optional>
#include <string>
#include <vector>

#include "tenflowers/nn/activations.hpp"
#include "tenflowers/nn/layer.hpp"

namespace tenflowers::nn {

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::glorot_uniform();
  Initializer bias_initializer = Initializer::zeros();
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  std::string name;
};

// y = activation(x @ kernel + bias) on the last axis; kernel [in, units].
class Dense : public Layer {
 public:
  explicit Dense(int64_t units, DenseOptions options = {});
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  int64_t units_;
  DenseOptions options_;
  ActivationKind activation_;
  Variable kernel_, bias_;
};

class Activation : public Layer {
 public:
  explicit Activation(const std::string& activation, std::string name = "");

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  ActivationKind kind_;
};

// In training, zeroes each element with probability `rate` and scales the rest by 1/(1-rate);
// the identity otherwise. With a seed, the k-th training call uses the stream (seed, k).
class Dropout : public Layer {
 public:
  explicit Dropout(double rate, std::optional<uint64_t> seed = {}, std::string name = "");

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  double rate_;
  std::optional<uint64_t> seed_;
  uint64_t calls_ = 0;
};

// [N, ...] -> [N, prod(...)].
class Flatten : public Layer {
 public:
  explicit Flatten(std::string name = "");

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;
};

// [N, ...] -> [N] + target_shape; one extent may be -1.
class Reshape : public Layer {
 public:
  explicit Reshape(std::vector<int64_t> target_shape, std::string name = "");

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  std::vector<int64_t> target_shape_;
};

// Integer ids [...] -> vectors [..., output_dim]; an id outside [0, input_dim) is an IndexError.
class Embedding : public Layer {
 public:
  Embedding(int64_t input_dim, int64_t output_dim,
            Initializer initializer = Initializer::uniform(-0.05, 0.05), std::string name = "");
  const Variable& embeddings() const { return embeddings_; }

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  int64_t input_dim_, output_dim_;
  Initializer initializer_;
  Variable embeddings_;
};

}  // namespace tenflowers::nn
