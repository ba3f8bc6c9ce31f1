#pragma once
// The one path every op call takes: validate, place, infer, allocate, run the kernel, then let
// the hooks see the call (autograd tapes, graph tracers, profilers and op tracing).
#include <span>
#include <vector>

#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

std::vector<Tensor> dispatch(const OpDef& op, std::span<const Tensor> inputs,
                             const Attrs& attrs = {});
// For single-output ops; throws InternalError if the op made another number of outputs.
Tensor dispatch1(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs = {});
inline Tensor dispatch1(const OpDef& op, std::initializer_list<Tensor> inputs,
                        const Attrs& attrs = {}) {
  return dispatch1(op, std::span<const Tensor>(inputs.begin(), inputs.size()), attrs);
}

// Runs an op's kernel writing into existing tensors (in place, e.g. variable updates): the
// outputs must be contiguous and match the inferred dtypes and shapes. In-place writes are not
// differentiable, so hooks are not notified; each output's storage version is bumped.
void dispatch_into(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                   std::span<Tensor> outputs);
inline void dispatch_into(const OpDef& op, std::initializer_list<Tensor> inputs, const Attrs& attrs,
                          Tensor& output) {
  dispatch_into(op, std::span<const Tensor>(inputs.begin(), inputs.size()), attrs,
                std::span<Tensor>(&output, 1));
}

// Observes op calls. Hooks on the calling thread's stack see that thread's calls (tapes,
// tracers); global hooks see every call (profilers). While a hook's on_op runs, the ops it calls
// are shown only to the hooks pushed before it (outer tapes), never to itself or later ones.
class DispatchHook {
 public:
  virtual ~DispatchHook() = default;
  virtual void on_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                     std::span<const Tensor> outputs) = 0;
};

// Pushes a hook on this thread's stack for the guard's lifetime.
class ScopedHook {
 public:
  explicit ScopedHook(DispatchHook* hook);
  ~ScopedHook();
  ScopedHook(const ScopedHook&) = delete;
  ScopedHook& operator=(const ScopedHook&) = delete;

 private:
  DispatchHook* hook_;
};

// Hides the thread's hooks from op calls made in its lifetime (stop_recording, gradient code).
class HooksPaused {
 public:
  HooksPaused();
  ~HooksPaused();
  HooksPaused(const HooksPaused&) = delete;
  HooksPaused& operator=(const HooksPaused&) = delete;

 private:
  size_t saved_;
};

// Hides `hook` and every hook pushed after it from op calls made in its lifetime, leaving the
// hooks pushed before it (outer tapes) watching: a tape computing gradients uses this so that
// only outer tapes record the computation (which is how higher-order derivatives arise).
class HiddenFrom {
 public:
  explicit HiddenFrom(const DispatchHook* hook);
  ~HiddenFrom();
  HiddenFrom(const HiddenFrom&) = delete;
  HiddenFrom& operator=(const HiddenFrom&) = delete;

 private:
  size_t saved_;
};

void add_global_hook(DispatchHook* hook);
void remove_global_hook(DispatchHook* hook);

// The hooks on this thread's stack, innermost last, that currently see op calls.
std::span<DispatchHook* const> active_thread_hooks();

}  // namespace tenflowers
