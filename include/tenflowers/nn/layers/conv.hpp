#pragma once
// Convolution and pooling layers, channels first (NCW / NCHW) as the conv ops and PyTorch.
#include <string>
#include <vector>

#include "tenflowers/nn/activations.hpp"
#include "tenflowers/nn/layer.hpp"

namespace tenflowers::nn {

struct ConvOptions {
  std::vector<int64_t> strides{1};  // one value for every axis, or one per axis
  std::string padding = "valid";    // "valid", "same" or "explicit" (then `pads`)
  std::vector<int64_t> pads{0};     // explicit padding per axis, both sides
  std::vector<int64_t> dilation{1};
  std::vector<int64_t> output_padding{0};  // Conv2DTranspose only
  int64_t groups = 1;
  std::string activation = "linear";
  bool use_bias = true;
  Initializer kernel_initializer = Initializer::glorot_uniform();
  Initializer bias_initializer = Initializer::zeros();
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  std::string name;
};

// Kernel (filters, in / groups, kw); input [N, C, W].
class Conv1D : public Layer {
 public:
  Conv1D(int64_t filters, int64_t kernel_size, ConvOptions options = {});

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  int64_t filters_, kernel_size_;
  ConvOptions options_;
  ActivationKind activation_;
  Variable kernel_, bias_;
};

// Kernel (filters, in / groups, kh, kw); input [N, C, H, W].
class Conv2D : public Layer {
 public:
  Conv2D(int64_t filters, std::vector<int64_t> kernel_size, ConvOptions options = {});
  const Variable& kernel() const { return kernel_; }
  const Variable& bias() const { return bias_; }

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  int64_t filters_;
  std::vector<int64_t> kernel_size_;
  ConvOptions options_;
  ActivationKind activation_;
  Variable kernel_, bias_;
};

// Kernel (in, filters / groups, kh, kw) as PyTorch's ConvTranspose2d; padding "valid" or
// "explicit".
class Conv2DTranspose : public Layer {
 public:
  Conv2DTranspose(int64_t filters, std::vector<int64_t> kernel_size, ConvOptions options = {});

 protected:
  void build(const std::vector<Dims>& input_shapes) override;
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  int64_t filters_;
  std::vector<int64_t> kernel_size_;
  ConvOptions options_;
  ActivationKind activation_;
  Variable kernel_, bias_;
};

struct PoolOptions {
  std::vector<int64_t> strides;    // empty: the pool size
  std::vector<int64_t> pads{0};    // per axis, both sides
  bool count_include_pad = false;  // average pools: whether padded zeros count
  std::string name;
};

// Max or average pooling over 1 (NCW) or 2 (NCHW) spatial axes.
class Pooling : public Layer {
 public:
  enum class Mode { Max, Average };
  Pooling(Mode mode, int spatial_axes, std::vector<int64_t> pool_size, PoolOptions options);

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  Mode mode_;
  int spatial_axes_;
  std::vector<int64_t> pool_size_;
  PoolOptions options_;
};

class MaxPool1D : public Pooling {
 public:
  explicit MaxPool1D(int64_t pool_size = 2, PoolOptions options = {})
      : Pooling(Mode::Max, 1, {pool_size}, std::move(options)) {}
};
class MaxPool2D : public Pooling {
 public:
  explicit MaxPool2D(std::vector<int64_t> pool_size = {2, 2}, PoolOptions options = {})
      : Pooling(Mode::Max, 2, std::move(pool_size), std::move(options)) {}
};
class AvgPool1D : public Pooling {
 public:
  explicit AvgPool1D(int64_t pool_size = 2, PoolOptions options = {})
      : Pooling(Mode::Average, 1, {pool_size}, std::move(options)) {}
};
class AvgPool2D : public Pooling {
 public:
  explicit AvgPool2D(std::vector<int64_t> pool_size = {2, 2}, PoolOptions options = {})
      : Pooling(Mode::Average, 2, std::move(pool_size), std::move(options)) {}
};

// Mean over every axis after the channel axis: [N, C, ...] -> [N, C].
class GlobalAveragePooling : public Layer {
 public:
  explicit GlobalAveragePooling(std::string name = "");

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;
};
using GlobalAveragePooling1D = GlobalAveragePooling;
using GlobalAveragePooling2D = GlobalAveragePooling;

}  // namespace tenflowers::nn
