#pragma once
// How linear (linear.cpp) names its activation, shared with the kernels.
#include "tenflowers/core/attrs.hpp"

namespace tenflowers {

enum class LinearActivation { None, Relu };

// The "activation" attribute; InvalidArgument for anything but "linear" and "relu".
LinearActivation linear_activation(const Attrs& attrs);

}  // namespace tenflowers
