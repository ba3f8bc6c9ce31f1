#pragma once
// The umbrella header: the whole public C++ API. Including it registers the backends.
#include "tenflowers/autograd/forward_accumulator.hpp"
#include "tenflowers/autograd/functional.hpp"
#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/autograd/variable.hpp"
#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/device.hpp"
#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/dtype.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/memory.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/parallel.hpp"
#include "tenflowers/core/random.hpp"
#include "tenflowers/core/tensor.hpp"
#include "tenflowers/io/file.hpp"
#include "tenflowers/io/safetensors.hpp"
#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/metrics.hpp"

namespace tenflowers {

// Registers the CPU backend (and the CUDA backend when built with it). Idempotent and
// thread-safe; the C API and the Python module call it too.
bool init();

namespace detail {
inline const bool kInitialized = init();
}  // namespace detail

}  // namespace tenflowers
