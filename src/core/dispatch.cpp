#include "tenflowers/core/dispatch.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {

struct ThreadHooks {
  std::vector<DispatchHook*> stack;
  size_t visible = 0;  // hooks [0, visible) see op calls
};
thread_local ThreadHooks t_hooks;

std::mutex g_global_mutex;
std::vector<DispatchHook*> g_global_hooks;
std::atomic<bool> g_have_global_hooks{false};

std::string describe_inputs(std::span<const Tensor> inputs) {
  std::string out = "(";
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) out += ", ";
    if (!inputs[i].defined()) {
      out += "undefined";
      continue;
    }
    out += std::string(dtype_name(inputs[i].dtype())) + format_dims(inputs[i].shape().vec());
    if (!inputs[i].device().is_cpu()) out += "@" + inputs[i].device().str();
  }
  return out + ")";
}

Device resolve_device(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs) {
  if (inputs.empty()) {
    const AttrValue* d = attrs.find("device");
    return d ? std::get<Device>(*d) : default_device();
  }
  const Device device = inputs[0].device();
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (inputs[i].device() != device) {
      throw DeviceError("inputs are on different devices: input 0 is on " + device.str() +
                        ", input " + std::to_string(i) + " on " + inputs[i].device().str() +
                        "; move them with to(device) first");
    }
  }
  (void)op;
  return device;
}

void notify_hooks(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                  std::span<const Tensor> outputs) {
  ThreadHooks& hooks = t_hooks;
  // Outermost first, so an outer hook sees an op before any op an inner hook derives from it.
  // While hook i runs, only hooks pushed before it see the ops it calls.
  const size_t count = hooks.visible;
  for (size_t i = 0; i < count; ++i) {
    const size_t saved = hooks.visible;
    hooks.visible = i;
    try {
      hooks.stack[i]->on_op(op, inputs, attrs, outputs);
    } catch (...) {
      hooks.visible = saved;
      throw;
    }
    hooks.visible = saved;
  }
  if (g_have_global_hooks.load(std::memory_order_acquire)) {
    std::vector<DispatchHook*> global;
    {
      std::lock_guard lock(g_global_mutex);
      global = g_global_hooks;
    }
    HooksPaused paused;
    for (DispatchHook* hook : global) hook->on_op(op, inputs, attrs, outputs);
  }
}

std::vector<Tensor> run_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs) {
  if (op.num_inputs >= 0 && static_cast<size_t>(op.num_inputs) != inputs.size()) {
    throw InvalidArgument("expected " + std::to_string(op.num_inputs) + " input(s), got " +
                          std::to_string(inputs.size()));
  }
  bool any_meta = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) {
      throw InvalidArgument("input " + std::to_string(i) + " is an undefined tensor");
    }
    any_meta = any_meta || inputs[i].is_meta();
  }
  const Device device = resolve_device(op, inputs, attrs);
  if (op.direct) return op.direct(inputs, attrs);

  InferContext infer{op, inputs, attrs, device, {}};
  if (!op.infer) throw InternalError("op has neither an infer rule nor a direct implementation");
  op.infer(infer);

  std::vector<Tensor> outputs(infer.outputs.size());
  if (any_meta) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      outputs[i] = Tensor::meta(infer.outputs[i].shape, infer.outputs[i].dtype, device);
    }
    return outputs;
  }

  const KernelEntry& kernel = op.kernel(device.type);
  if (!kernel) {
    backend_for(device);  // reports a missing backend clearly
    throw UnsupportedError("no " + device.str() + " kernel is registered for this op");
  }
  const DType checked = inputs.empty() ? infer.outputs.at(0).dtype : inputs[0].dtype();
  if (!kernel.supports(checked)) {
    throw DTypeError("the " + device.str() + " kernel does not support dtype " +
                     std::string(dtype_name(checked)));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const TensorMeta& meta = infer.outputs[i];
    const bool dynamic =
        std::any_of(meta.shape.begin(), meta.shape.end(), [](int64_t d) { return d < 0; });
    if (!dynamic) outputs[i] = Tensor::empty(meta.shape, meta.dtype, meta.device);
  }
  KernelContext ctx{op, inputs, attrs, outputs, device};
  kernel.fn(ctx);
  return outputs;
}

}  // namespace

std::vector<Tensor> dispatch(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs) {
  std::vector<Tensor> outputs;
  try {
    outputs = run_op(op, inputs, attrs);
  } catch (TensorError& e) {
    e.add_context("op '" + op.name + "' with inputs " + describe_inputs(inputs) +
                  (attrs.empty() ? std::string() : " and attributes {" + attrs.str() + "}") + ": ");
    throw;
  }
  if (t_hooks.visible > 0 || g_have_global_hooks.load(std::memory_order_relaxed)) {
    notify_hooks(op, inputs, attrs, outputs);
  }
  return outputs;
}

Tensor dispatch1(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs) {
  std::vector<Tensor> outputs = dispatch(op, inputs, attrs);
  if (outputs.size() != 1) {
    throw InternalError("op '" + op.name + "' made " + std::to_string(outputs.size()) +
                        " outputs where one was expected");
  }
  return std::move(outputs[0]);
}

ScopedHook::ScopedHook(DispatchHook* hook) : hook_(hook) {
  ThreadHooks& hooks = t_hooks;
  // A hook pushed while an outer hook's callback runs sits above the hidden ones; keep the
  // invariant that visible hooks are a prefix by inserting at the visible boundary.
  hooks.stack.insert(hooks.stack.begin() + static_cast<std::ptrdiff_t>(hooks.visible), hook);
  ++hooks.visible;
}

ScopedHook::~ScopedHook() {
  ThreadHooks& hooks = t_hooks;
  auto it = std::find(hooks.stack.begin(), hooks.stack.end(), hook_);
  if (it == hooks.stack.end()) return;
  const size_t index = static_cast<size_t>(it - hooks.stack.begin());
  hooks.stack.erase(it);
  if (index < hooks.visible) --hooks.visible;
}

HooksPaused::HooksPaused() : saved_(t_hooks.visible) {
  t_hooks.visible = 0;
}
HooksPaused::~HooksPaused() {
  t_hooks.visible = saved_;
}

HiddenFrom::HiddenFrom(const DispatchHook* hook) : saved_(t_hooks.visible) {
  ThreadHooks& hooks = t_hooks;
  auto it = std::find(hooks.stack.begin(), hooks.stack.end(), hook);
  if (it != hooks.stack.end()) {
    hooks.visible = std::min(hooks.visible, static_cast<size_t>(it - hooks.stack.begin()));
  }
}
HiddenFrom::~HiddenFrom() {
  t_hooks.visible = saved_;
}

void add_global_hook(DispatchHook* hook) {
  std::lock_guard lock(g_global_mutex);
  g_global_hooks.push_back(hook);
  g_have_global_hooks.store(true, std::memory_order_release);
}

void remove_global_hook(DispatchHook* hook) {
  std::lock_guard lock(g_global_mutex);
  std::erase(g_global_hooks, hook);
  g_have_global_hooks.store(!g_global_hooks.empty(), std::memory_order_release);
}

std::span<DispatchHook* const> active_thread_hooks() {
  return {t_hooks.stack.data(), t_hooks.visible};
}

}  // namespace tenflowers
