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
#include "tenflowers/core/fused_elementwise.hpp"
#include "tenflowers/core/memory.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/parallel.hpp"
#include "tenflowers/core/random.hpp"
#include "tenflowers/core/tensor.hpp"
#include "tenflowers/data/dataset.hpp"
#include "tenflowers/data/loader.hpp"
#include "tenflowers/data/readers.hpp"
#include "tenflowers/data/synthetic.hpp"
#include "tenflowers/graph/function.hpp"
#include "tenflowers/graph/graph.hpp"
#include "tenflowers/graph/passes.hpp"
#include "tenflowers/graph/session.hpp"
#include "tenflowers/graph/trace.hpp"
#include "tenflowers/io/file.hpp"
#include "tenflowers/io/safetensors.hpp"
#include "tenflowers/nn/activations.hpp"
#include "tenflowers/nn/callbacks.hpp"
#include "tenflowers/nn/functional.hpp"
#include "tenflowers/nn/initializers.hpp"
#include "tenflowers/nn/layer.hpp"
#include "tenflowers/nn/layers/attention.hpp"
#include "tenflowers/nn/layers/conv.hpp"
#include "tenflowers/nn/layers/core.hpp"
#include "tenflowers/nn/layers/normalization.hpp"
#include "tenflowers/nn/layers/recurrent.hpp"
#include "tenflowers/nn/logs.hpp"
#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/lr_schedule.hpp"
#include "tenflowers/nn/metrics.hpp"
#include "tenflowers/nn/model.hpp"
#include "tenflowers/nn/models.hpp"
#include "tenflowers/nn/optimizer.hpp"
#include "tenflowers/nn/optimizers.hpp"

namespace tenflowers {

// Registers the CPU backend (and the CUDA backend when built with it). Idempotent and
// thread-safe; the C API and the Python module call it too.
bool init();

namespace detail {
inline const bool kInitialized = init();
}  // namespace detail

}  // namespace tenflowers
