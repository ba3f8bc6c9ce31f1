#include "tenflowers/core/dispatch.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {

// The calling thread's hook stack; hooks [0, t_visible) see op calls. t_visible is a plain
// thread_local of its own, so the check every op call makes needs no TLS initialization guard.
thread_local std::vector<DispatchHook*> t_hook_stack;
constinit thread_local size_t t_visible = 0;

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
  // Outermost first, so an outer hook sees an op before any op an inner hook derives from it.
  // While hook i runs, only hooks pushed before it see the ops it calls.
  const size_t count = t_visible;
  for (size_t i = 0; i < count; ++i) {
    const size_t saved = t_visible;
    t_visible = i;
    try {
      t_hook_stack[i]->on_op(op, inputs, attrs, outputs);
    } catch (...) {
      t_visible = saved;
      throw;
    }
    t_visible = saved;
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

// Checks arity and definedness; returns whether any input is a meta tensor.
bool check_inputs(const OpDef& op, std::span<const Tensor> inputs) {
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
  return any_meta;
}

// What an op call makes; one or two tensors for nearly every op, without a heap allocation.
using Outputs = SmallVector<Tensor, 2>;

void infer_outputs(InferContext& infer) {
  if (!infer.op.infer) {
    throw InternalError("op has neither an infer rule nor a direct implementation");
  }
  infer.op.infer(infer);
}

const KernelEntry& select_kernel(const OpDef& op, std::span<const Tensor> inputs,
                                 const TensorMetas& outputs, Device device) {
  const KernelEntry& kernel = op.kernel(device.type);
  if (!kernel) {
    backend_for(device);  // reports a missing backend clearly
    throw UnsupportedError("no " + device.str() + " kernel is registered for this op");
  }
  const DType checked = inputs.empty() ? outputs.at(0).dtype : inputs[0].dtype();
  if (!kernel.supports(checked)) {
    throw DTypeError("the " + device.str() + " kernel does not support dtype " +
                     std::string(dtype_name(checked)));
  }
  return kernel;
}

void run_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs, Outputs& outputs) {
  const bool any_meta = check_inputs(op, inputs);
  const Device device = resolve_device(op, inputs, attrs);
  if (op.direct) {
    std::vector<Tensor> made;
    {
      HooksPaused paused;  // hooks see this op, not the ops its implementation calls
      made = op.direct(inputs, attrs);
    }
    outputs.assign(std::make_move_iterator(made.begin()), std::make_move_iterator(made.end()));
    return;
  }

  InferContext infer{op, inputs, attrs, device, {}};
  infer_outputs(infer);
  TensorMetas& metas = infer.outputs;
  outputs.resize(metas.size());
  if (any_meta) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      outputs[i] = Tensor::meta(std::move(metas[i].shape), metas[i].dtype, device);
    }
    return;
  }
  const KernelEntry& kernel = select_kernel(op, inputs, metas, device);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const bool dynamic =
        std::any_of(metas[i].shape.begin(), metas[i].shape.end(), [](int64_t d) { return d < 0; });
    if (!dynamic) {
      outputs[i] = Tensor::empty(std::move(metas[i].shape), metas[i].dtype, metas[i].device);
    }
  }
  KernelContext ctx{op, inputs, attrs, outputs, device};
  kernel.fn(ctx);
}

void run_op_into(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                 std::span<Tensor> outputs) {
  TF_CHECK(!op.direct, InvalidArgument, "view and kernel-free ops cannot write in place");
  check_inputs(op, inputs);
  const Device device = resolve_device(op, inputs, attrs);
  InferContext infer{op, inputs, attrs, device, {}};
  infer_outputs(infer);
  const TensorMetas& metas = infer.outputs;
  TF_CHECK(metas.size() == outputs.size(), InvalidArgument, "the op makes ", metas.size(),
           " output(s), ", outputs.size(), " given");
  for (size_t i = 0; i < outputs.size(); ++i) {
    TF_CHECK(outputs[i].defined() && !outputs[i].is_meta() &&
                 outputs[i].dtype() == metas[i].dtype && outputs[i].shape() == metas[i].shape &&
                 outputs[i].device() == device && outputs[i].is_contiguous(),
             InvalidArgument, "output ", i, " must be a contiguous ", dtype_name(metas[i].dtype),
             metas[i].shape, " tensor on ", device.str());
  }
  const KernelEntry& kernel = select_kernel(op, inputs, metas, device);
  KernelContext ctx{op, inputs, attrs, outputs, device};
  kernel.fn(ctx);
  for (Tensor& out : outputs) out.storage()->bump_version();
}

void add_op_context(TensorError& e, const OpDef& op, std::span<const Tensor> inputs,
                    const Attrs& attrs) {
  e.add_context("op '" + op.name + "' with inputs " + describe_inputs(inputs) +
                (attrs.empty() ? std::string() : " and attributes {" + attrs.str() + "}") + ": ");
}

// Runs the op and shows the call to the hooks; the error context is built only when an error
// is on its way out.
void dispatch_to(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                 Outputs& outputs) {
  try {
    run_op(op, inputs, attrs, outputs);
  } catch (TensorError& e) {
    add_op_context(e, op, inputs, attrs);
    throw;
  }
  if (t_visible > 0 || g_have_global_hooks.load(std::memory_order_relaxed)) {
    notify_hooks(op, inputs, attrs, outputs);
  }
}

}  // namespace

std::vector<Tensor> dispatch(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs) {
  Outputs outputs;
  dispatch_to(op, inputs, attrs, outputs);
  return {std::make_move_iterator(outputs.begin()), std::make_move_iterator(outputs.end())};
}

Tensor dispatch1(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs) {
  Outputs outputs;
  dispatch_to(op, inputs, attrs, outputs);
  if (outputs.size() != 1) {
    throw InternalError("op '" + op.name + "' made " + std::to_string(outputs.size()) +
                        " outputs where one was expected");
  }
  return std::move(outputs[0]);
}

void dispatch_into(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                   std::span<Tensor> outputs) {
  try {
    run_op_into(op, inputs, attrs, outputs);
  } catch (TensorError& e) {
    add_op_context(e, op, inputs, attrs);
    throw;
  }
}

ScopedHook::ScopedHook(DispatchHook* hook) : hook_(hook) {
  std::vector<DispatchHook*>& stack = t_hook_stack;
  // A hook pushed while an outer hook's callback runs sits above the hidden ones; keep the
  // invariant that visible hooks are a prefix by inserting at the visible boundary.
  stack.insert(stack.begin() + static_cast<std::ptrdiff_t>(t_visible), hook);
  ++t_visible;
}

ScopedHook::~ScopedHook() {
  std::vector<DispatchHook*>& stack = t_hook_stack;
  auto it = std::find(stack.begin(), stack.end(), hook_);
  if (it == stack.end()) return;
  const size_t index = static_cast<size_t>(it - stack.begin());
  stack.erase(it);
  if (index < t_visible) --t_visible;
}

HooksPaused::HooksPaused() : saved_(t_visible) {
  t_visible = 0;
}
HooksPaused::~HooksPaused() {
  t_visible = saved_;
}

HiddenFrom::HiddenFrom(const DispatchHook* hook) : saved_(t_visible) {
  std::vector<DispatchHook*>& stack = t_hook_stack;
  auto it = std::find(stack.begin(), stack.end(), hook);
  if (it != stack.end()) {
    t_visible = std::min(t_visible, static_cast<size_t>(it - stack.begin()));
  }
}
HiddenFrom::~HiddenFrom() {
  t_visible = saved_;
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
  return {t_hook_stack.data(), t_visible};
}

}  // namespace tenflowers
