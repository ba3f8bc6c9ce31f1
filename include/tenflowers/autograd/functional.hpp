#pragma once
// Derivative helpers built on tapes and accumulators, custom gradients and gradient
// checkpointing.
#include <functional>
#include <vector>

#include "tenflowers/autograd/forward_accumulator.hpp"
#include "tenflowers/autograd/gradient_tape.hpp"

namespace tenflowers {

using ScalarFn = std::function<Tensor(const Tensor&)>;

// d f / d x for a function whose output is summed to a scalar.
Tensor grad(const ScalarFn& f, const Tensor& x);
// Hessian of sum(f(x)): shape x.shape + x.shape (nested tapes).
Tensor hessian(const ScalarFn& f, const Tensor& x);
// Hessian-vector product H·v, reverse over reverse.
Tensor hvp(const ScalarFn& f, const Tensor& x, const Tensor& v);
// Hessian-vector product H·v, forward over reverse (one forward-mode pass over the gradient).
Tensor hvp_forward_over_reverse(const ScalarFn& f, const Tensor& x, const Tensor& v);
// J·v of f at x (forward mode).
Tensor jvp(const ScalarFn& f, const Tensor& x, const Tensor& v);

// Runs forward(inputs) without recording its inside, and records one node whose gradient is
// backward(inputs, outputs, output_grads) -> one gradient per input (undefined for none).
using CustomForward = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using CustomGradientFn = std::function<std::vector<Tensor>(
    const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
    const std::vector<Tensor>& output_grads)>;
std::vector<Tensor> custom_gradient(const std::vector<Tensor>& inputs, const CustomForward& forward,
                                    const CustomGradientFn& backward);

// Gradient checkpointing: runs segment(inputs) without keeping its intermediate tensors; the
// backward pass recomputes them. Gradients equal those of the plain call.
std::vector<Tensor> checkpoint(const CustomForward& segment, const std::vector<Tensor>& inputs);

// The seed's memory strategies as policies over a chain of segments (e.g. layers):
// MinimizeRecomputation keeps every intermediate (no checkpoints); Balanced checkpoints groups
// of ceil(sqrt(n)) segments (O(sqrt n) memory, one recomputation); MinimizeMemory bisects the
// chain recursively (O(log n) boundary tensors, O(n log n) recomputation).
enum class MemoryStrategy { MinimizeMemory, MinimizeRecomputation, Balanced };
Tensor run_segments(const std::vector<ScalarFn>& segments, const Tensor& input,
                    MemoryStrategy strategy);

}  // namespace tenflowers
