#pragma once
// Activation functions by name, as Keras layers take them ("relu", "softmax", ...).
#include <string>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn {

enum class ActivationKind {
  Linear,
  Relu,
  Sigmoid,
  Tanh,
  Softmax,
  LogSoftmax,
  Gelu,
  Silu,
  LeakyRelu,
  Elu,
  Softplus
};

// "linear" (or ""), "relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu" (or
// "swish"), "leaky_relu", "elu", "softplus"; InvalidArgument listing these otherwise.
ActivationKind activation_from_name(const std::string& name);
const char* activation_name(ActivationKind kind);
// Softmax and log-softmax act on the last axis.
Tensor apply_activation(ActivationKind kind, const Tensor& x);

}  // namespace tenflowers::nn
