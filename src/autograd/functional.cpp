#include "tenflowers/autograd/functional.hpp"

#include <cmath>

#include "tenflowers/core/ops.hpp"

namespace tenflowers {

Tensor grad(const ScalarFn& f, const Tensor& x) {
  GradientTape tape;
  tape.watch(x);
  const Tensor y = f(x);
  return tape.gradient(y, x, Unconnected::Zero);
}

namespace {
// The gradient of sum(f(x)), computed under `outer` so that it can be differentiated again.
Tensor recorded_gradient(const ScalarFn& f, const Tensor& x) {
  GradientTape inner;
  inner.watch(x);
  const Tensor y = f(x);
  return inner.gradient(y, x, Unconnected::Zero);
}
}  // namespace

Tensor hessian(const ScalarFn& f, const Tensor& x) {
  GradientTape outer(TapeOptions{.persistent = true});
  outer.watch(x);
  const Tensor g = recorded_gradient(f, x);
  return outer.jacobian(g, x, Unconnected::Zero);
}

Tensor hvp(const ScalarFn& f, const Tensor& x, const Tensor& v) {
  TF_CHECK(v.shape() == x.shape(), ShapeError, "hvp: v has shape ", v.shape(), ", expected ",
           x.shape());
  GradientTape outer;
  outer.watch(x);
  const Tensor g = recorded_gradient(f, x);
  const Tensor projected = sum(g * v.cast(g.dtype()));
  return outer.gradient(projected, x, Unconnected::Zero);
}

Tensor hvp_forward_over_reverse(const ScalarFn& f, const Tensor& x, const Tensor& v) {
  ForwardAccumulator accumulator({x}, {v});
  const Tensor g = recorded_gradient(f, x);
  return accumulator.jvp(g, Unconnected::Zero);
}

Tensor jvp(const ScalarFn& f, const Tensor& x, const Tensor& v) {
  ForwardAccumulator accumulator({x}, {v});
  const Tensor y = f(x);
  return accumulator.jvp(y, Unconnected::Zero);
}

std::vector<Tensor> custom_gradient(const std::vector<Tensor>& inputs, const CustomForward& forward,
                                    const CustomGradientFn& backward) {
  for (DispatchHook* hook : active_thread_hooks()) {
    auto* accumulator = dynamic_cast<ForwardAccumulator*>(hook);
    if (!accumulator) continue;
    for (const Tensor& in : inputs) {
      TF_CHECK(!accumulator->jvp(in).defined(), UnsupportedError,
               "custom_gradient and checkpoint define reverse-mode gradients only; a "
               "ForwardAccumulator cannot carry tangents through them");
    }
  }
  std::vector<Tensor> outputs;
  {
    HooksPaused paused;
    outputs = forward(inputs);
    // Fresh handles, so an output that is an input returned as-is is still a node of its own.
    for (Tensor& out : outputs) out = out.view();
  }
  for (GradientTape* tape : GradientTape::active()) {
    tape->record_custom(inputs, outputs,
                        [inputs, outputs, backward](const std::vector<Tensor>& grads) {
                          std::vector<Tensor> filled = grads;
                          for (size_t k = 0; k < filled.size(); ++k) {
                            if (!filled[k].defined()) filled[k] = zeros_like(outputs[k]);
                          }
                          std::vector<Tensor> result = backward(inputs, outputs, filled);
                          TF_CHECK(result.size() == inputs.size(), InvalidArgument,
                                   "custom_gradient: the backward "
                                   "function returned ",
                                   result.size(), " gradients for ", inputs.size(), " inputs");
                          return result;
                        });
  }
  return outputs;
}

std::vector<Tensor> checkpoint(const CustomForward& segment, const std::vector<Tensor>& inputs) {
  auto recompute = [segment](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                             const std::vector<Tensor>& grads) {
    GradientTape tape;
    for (const Tensor& t : in) {
      if (is_floating(t.dtype())) tape.watch(t);
    }
    const std::vector<Tensor> outputs = segment(in);
    return tape.gradient(outputs, in, grads, Unconnected::None);
  };
  return custom_gradient(inputs, segment, recompute);
}

namespace {

using Segments = std::shared_ptr<const std::vector<ScalarFn>>;

Tensor run_plain(const Segments& segments, size_t lo, size_t hi, Tensor x) {
  for (size_t i = lo; i < hi; ++i) x = (*segments)[i](x);
  return x;
}

// Recursive bisection: the forward pass keeps only this range's input and output; its
// backward pass recomputes the two halves, each again checkpointed, so at most O(log n)
// boundary tensors are alive at once (for O(n log n) recomputation).
Tensor run_bisected(const Segments& segments, size_t lo, size_t hi, const Tensor& x) {
  if (hi - lo <= 1) return run_plain(segments, lo, hi, x);
  auto body = [segments, lo, hi](const std::vector<Tensor>& in) {
    const size_t mid = lo + (hi - lo) / 2;
    return std::vector<Tensor>{
        run_bisected(segments, mid, hi, run_bisected(segments, lo, mid, in[0]))};
  };
  return checkpoint(body, {x})[0];
}

}  // namespace

Tensor run_segments(const std::vector<ScalarFn>& segments, const Tensor& input,
                    MemoryStrategy strategy) {
  // The backward pass recomputes segments after this function returns: share them.
  const auto shared = std::make_shared<const std::vector<ScalarFn>>(segments);
  const size_t n = segments.size();
  switch (strategy) {
    case MemoryStrategy::MinimizeRecomputation:
      return run_plain(shared, 0, n, input);
    case MemoryStrategy::MinimizeMemory:
      return run_bisected(shared, 0, n, input);
    case MemoryStrategy::Balanced:
      break;
  }
  // Chen et al.'s sqrt(n) schedule: groups of ceil(sqrt(n)) segments, each checkpointed.
  const auto group =
      static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(std::max<size_t>(n, 1)))));
  Tensor x = input;
  for (size_t lo = 0; lo < n; lo += group) {
    const size_t hi = std::min(n, lo + group);
    auto body = [shared, lo, hi](const std::vector<Tensor>& in) {
      return std::vector<Tensor>{run_plain(shared, lo, hi, in[0])};
    };
    x = checkpoint(body, {x})[0];
  }
  return x;
}

}  // namespace tenflowers
