#include "tenflowers/nn/activations.hpp"

#include <array>
#include <utility>

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

constexpr std::array<std::pair<const char*, ActivationKind>, 13> kNames{{
    {"linear", ActivationKind::Linear},
    {"", ActivationKind::Linear},
    {"relu", ActivationKind::Relu},
    {"sigmoid", ActivationKind::Sigmoid},
    {"tanh", ActivationKind::Tanh},
    {"softmax", ActivationKind::Softmax},
    {"log_softmax", ActivationKind::LogSoftmax},
    {"gelu", ActivationKind::Gelu},
    {"silu", ActivationKind::Silu},
    {"swish", ActivationKind::Silu},
    {"leaky_relu", ActivationKind::LeakyRelu},
    {"elu", ActivationKind::Elu},
    {"softplus", ActivationKind::Softplus},
}};

}  // namespace

ActivationKind activation_from_name(const std::string& name) {
  for (const auto& [n, kind] : kNames) {
    if (name == n) return kind;
  }
  throw InvalidArgument(
      "unknown activation '" + name +
      "'; expected one of linear, relu, sigmoid, tanh, softmax, log_softmax, gelu, silu, swish, "
      "leaky_relu, elu, softplus");
}

const char* activation_name(ActivationKind kind) {
  for (const auto& [n, k] : kNames) {
    if (k == kind && *n != '\0') return n;
  }
  return "linear";
}

Tensor apply_activation(ActivationKind kind, const Tensor& x) {
  switch (kind) {
    case ActivationKind::Linear:
      return x;
    case ActivationKind::Relu:
      return relu(x);
    case ActivationKind::Sigmoid:
      return sigmoid(x);
    case ActivationKind::Tanh:
      return tanh(x);
    case ActivationKind::Softmax:
      return softmax(x, -1);
    case ActivationKind::LogSoftmax:
      return log_softmax(x, -1);
    case ActivationKind::Gelu:
      return gelu(x);
    case ActivationKind::Silu:
      return silu(x);
    case ActivationKind::LeakyRelu:
      return leaky_relu(x, 0.2);  // Keras' default slope
    case ActivationKind::Elu:
      return elu(x);
    case ActivationKind::Softplus:
      return softplus(x);
  }
  throw InternalError("unknown activation kind");
}

}  // namespace tenflowers::nn
