#include "tenflowers/autograd/gradient_tape.hpp"

#include <algorithm>

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

bool carries_gradient(const Tensor& t) {
  return is_floating(t.dtype());
}

// grads[id] += g, through the add op so that an outer tape records the accumulation.
void accumulate(std::unordered_map<uint64_t, Tensor>& grads, uint64_t id, const Tensor& g) {
  auto [it, inserted] = grads.try_emplace(id, g);
  if (!inserted) it->second = it->second + g;
}

}  // namespace

GradientTape::GradientTape(TapeOptions options)
    : options_(options), hook_(std::make_unique<ScopedHook>(this)) {
  exchange_spare_nodes(nodes_, /*give=*/false);
}

GradientTape::~GradientTape() {
  hook_.reset();
  exchange_spare_nodes(nodes_, /*give=*/true);
}

// The node array of a tape that is done, emptied, is kept for the next tape on the thread (the
// largest one, up to kMaxSpareNodes): a training loop records about as many ops each step, so
// recording then neither regrows the array nor has its memory returned to the system and
// faulted back in between steps.
void GradientTape::exchange_spare_nodes(std::vector<Node>& nodes, bool give) {
  constexpr size_t kMaxSpareNodes = size_t{1} << 14;
  // Trivially destructible, so usable even while the thread's other thread_locals are being
  // destroyed; the guard below frees the spare array at thread exit.
  static thread_local std::vector<Node>* spare = nullptr;
  static thread_local bool closed = false;
  if (!give) {
    if (spare && !closed) nodes.swap(*spare);
    return;
  }
  nodes.clear();
  if (!closed && nodes.capacity() > 0 && nodes.capacity() <= kMaxSpareNodes) {
    struct Guard {
      ~Guard() {
        delete spare;
        spare = nullptr;
        closed = true;
      }
    };
    static thread_local Guard guard;
    if (!spare) {
      spare = new std::vector<Node>(std::move(nodes));
    } else if (nodes.capacity() > spare->capacity()) {
      spare->swap(nodes);
    }
  }
  std::vector<Node>().swap(nodes);  // whatever was not kept
}

void GradientTape::stop() {
  hook_.reset();
}

std::vector<GradientTape*> GradientTape::active() {
  std::vector<GradientTape*> tapes;
  for (DispatchHook* hook : active_thread_hooks()) {
    if (auto* tape = dynamic_cast<GradientTape*>(hook)) tapes.push_back(tape);
  }
  return tapes;
}

void GradientTape::watch(const Tensor& t) {
  TF_CHECK(t.defined(), InvalidArgument, "watch: the tensor is undefined");
  TF_CHECK(carries_gradient(t), DTypeError,
           "watch: only floating-point tensors have gradients, got ", dtype_name(t.dtype()));
  tracked_.insert(t.id());
}

void GradientTape::watch(const Variable& v) {
  watch(v.handle());
  if (std::find(watched_variables_.begin(), watched_variables_.end(), v) ==
      watched_variables_.end()) {
    watched_variables_.push_back(v);
  }
}

std::vector<Variable> GradientTape::watched_variables() const {
  return watched_variables_;
}

bool GradientTape::is_tracked(const Tensor& t) const {
  return t.defined() && tracked_.count(t.id());
}

void GradientTape::on_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
                         std::span<const Tensor> outputs) {
  if (op.stops_gradient) return;
  const bool touches = std::any_of(inputs.begin(), inputs.end(),
                                   [&](const Tensor& t) { return tracked_.count(t.id()) > 0; });
  if (!touches) return;
  // Built in place at the end of the node array (no Node moved per record).
  Node& node = nodes_.emplace_back();
  try {
    node.op = &op;
    node.inputs.assign(inputs.begin(), inputs.end());
    node.outputs.assign(outputs.begin(), outputs.end());
    if (!attrs.empty()) node.attrs = attrs;
    for (const Tensor& t : inputs)
      node.input_versions.push_back(t.storage() ? t.storage()->version() : 0);
    for (const Tensor& t : outputs) {
      if (carries_gradient(t)) tracked_.insert(t.id());
    }
  } catch (...) {
    nodes_.pop_back();
    throw;
  }
}

void GradientTape::record_custom(const std::vector<Tensor>& inputs,
                                 const std::vector<Tensor>& outputs, CustomBackward backward) {
  const bool touches = std::any_of(inputs.begin(), inputs.end(),
                                   [&](const Tensor& t) { return tracked_.count(t.id()) > 0; });
  if (!touches) return;
  Node node;
  node.inputs.assign(inputs.begin(), inputs.end());
  node.outputs.assign(outputs.begin(), outputs.end());
  node.custom = std::move(backward);
  for (const Tensor& t : inputs)
    node.input_versions.push_back(t.storage() ? t.storage()->version() : 0);
  for (const Tensor& t : outputs) {
    if (carries_gradient(t)) tracked_.insert(t.id());
  }
  nodes_.push_back(std::move(node));
}

void GradientTape::reset() {
  nodes_.clear();
  tracked_.clear();
  watched_variables_.clear();
  used_ = false;
}

void GradientTape::consume() {
  if (!options_.persistent) {
    exchange_spare_nodes(nodes_, /*give=*/true);  // empties nodes_ and frees or keeps its array
    used_ = true;
  }
}

std::vector<Tensor> GradientTape::gradient(const std::vector<Tensor>& targets,
                                           const std::vector<Tensor>& sources,
                                           const std::vector<Tensor>& output_gradients,
                                           Unconnected unconnected) {
  std::vector<Tensor> result =
      backward(targets, sources, output_gradients, unconnected, !options_.persistent);
  consume();
  return result;
}

Tensor GradientTape::gradient(const Tensor& target, const Tensor& source, Unconnected unconnected) {
  return gradient(std::vector<Tensor>{target}, std::vector<Tensor>{source}, {}, unconnected)[0];
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target,
                                           const std::vector<Variable>& sources,
                                           Unconnected unconnected) {
  std::vector<Tensor> handles;
  for (const Variable& v : sources) handles.push_back(v.handle());
  return gradient(std::vector<Tensor>{target}, handles, {}, unconnected);
}

std::vector<Tensor> GradientTape::backward(const std::vector<Tensor>& targets,
                                           const std::vector<Tensor>& sources,
                                           const std::vector<Tensor>& output_gradients,
                                           Unconnected unconnected, bool release_as_we_go) {
  TF_CHECK(!used_, InvalidArgument,
           "gradient() was already called on this non-persistent tape; create it with "
           "TapeOptions{.persistent = true} to call it several times");
  TF_CHECK(output_gradients.empty() || output_gradients.size() == targets.size(), InvalidArgument,
           "gradient: ", output_gradients.size(), " output gradients for ", targets.size(),
           " targets");
  for (size_t i = 0; i < sources.size(); ++i) {
    TF_CHECK(sources[i].defined(), InvalidArgument, "gradient: source ", i, " is undefined");
  }
  HiddenFrom hidden(this);  // outer tapes record this computation, this tape does not

  // Tensors that depend on a source: only they receive gradients.
  IdSet reaches;
  for (const Tensor& s : sources) {
    // Only watched tensors (or results of recorded ops) are sources, as in TensorFlow.
    if (carries_gradient(s) && tracked_.count(s.id())) reaches.insert(s.id());
  }
  std::vector<bool> node_reaches(nodes_.size(), false);
  for (size_t n = 0; n < nodes_.size(); ++n) {
    const Node& node = nodes_[n];
    if (std::none_of(node.inputs.begin(), node.inputs.end(),
                     [&](const Tensor& t) { return reaches.count(t.id()) > 0; })) {
      continue;
    }
    node_reaches[n] = true;
    for (const Tensor& t : node.outputs) {
      if (carries_gradient(t)) reaches.insert(t.id());
    }
  }

  std::unordered_map<uint64_t, Tensor> grads;
  for (size_t i = 0; i < targets.size(); ++i) {
    const Tensor& target = targets[i];
    TF_CHECK(target.defined(), InvalidArgument, "gradient: target ", i, " is undefined");
    if (!carries_gradient(target) || !reaches.count(target.id())) continue;
    Tensor seed;
    if (output_gradients.empty() || !output_gradients[i].defined()) {
      seed = ones_like(target);
    } else {
      TF_CHECK(output_gradients[i].shape() == target.shape(), ShapeError,
               "gradient: output gradient ", i, " has shape ", output_gradients[i].shape(),
               " but its target has shape ", target.shape());
      seed = output_gradients[i].cast(target.dtype());
    }
    accumulate(grads, target.id(), seed);
  }

  for (size_t n = nodes_.size(); n-- > 0;) {
    if (!node_reaches[n]) continue;
    Node& node = nodes_[n];
    std::vector<Tensor> out_grads(node.outputs.size());
    bool any = false;
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      auto it = grads.find(node.outputs[k].id());
      if (it != grads.end()) {
        out_grads[k] = it->second;
        any = true;
      }
    }
    if (!any) continue;
    std::vector<bool> needs(node.inputs.size());
    bool needs_any = false;
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      needs[k] = carries_gradient(node.inputs[k]) && reaches.count(node.inputs[k].id()) > 0;
      needs_any = needs_any || needs[k];
    }
    if (!needs_any) continue;
    const std::string name = node.op ? node.op->name : std::string("custom_gradient");
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const auto& storage = node.inputs[k].storage();
      TF_CHECK(!needs[k] || !storage || storage->version() == node.input_versions[k],
               InvalidArgument, "gradient: input ", k, " of op '", name,
               "' was modified in place after it was recorded; compute the gradient before "
               "updating it");
    }
    std::vector<Tensor> in_grads;
    if (node.custom) {
      in_grads = node.custom(out_grads);
    } else {
      const OpDef& op = *node.op;
      TF_CHECK(op.differentiable, UnsupportedError, "no gradient is defined for op '", op.name,
               "': it is not differentiable (wrap its input in stop_gradient if that is intended)");
      TF_CHECK(static_cast<bool>(op.grad), UnsupportedError, "op '", op.name,
               "' has no gradient rule");
      GradContext ctx{op, node.inputs, node.outputs, out_grads, node.attrs, needs};
      in_grads = op.grad(ctx);
    }
    TF_CHECK(in_grads.size() == node.inputs.size(), InternalError, "the gradient of '", name,
             "' returned ", in_grads.size(), " gradients for ", node.inputs.size(), " inputs");
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      if (!needs[k] || !in_grads[k].defined()) continue;
      const Tensor& input = node.inputs[k];
      TF_CHECK(in_grads[k].shape() == input.shape(), InternalError, "the gradient of '", name,
               "' for input ", k, " has shape ", in_grads[k].shape(), ", expected ", input.shape());
      accumulate(grads, input.id(), in_grads[k].cast(input.dtype()));
    }
    if (release_as_we_go) node = Node();  // free what this node saved
  }

  std::vector<Tensor> result(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    auto it = grads.find(sources[i].id());
    if (it != grads.end()) {
      result[i] = it->second;
    } else if (unconnected == Unconnected::Zero) {
      result[i] = zeros_like(sources[i]);
    }
  }
  return result;
}

// One backward pass per seed; `seeds(i)` gives the output gradient of pass i. A source that
// the target does not depend on gives an undefined result (None) or zeros.
Tensor GradientTape::stacked_backward(const Tensor& target, const Tensor& source, int64_t passes,
                                      const std::function<Tensor(int64_t)>& seed_for,
                                      Dims result_shape, Unconnected unconnected) {
  TF_CHECK(options_.persistent || !used_, InvalidArgument,
           "jacobian: the non-persistent tape was already used");
  std::vector<Tensor> parts;
  parts.reserve(static_cast<size_t>(passes));
  for (int64_t i = 0; i < passes; ++i) {
    HiddenFrom hidden(this);
    Tensor g = backward({target}, {source}, {seed_for(i)}, Unconnected::None, false)[0];
    if (!g.defined()) {
      consume();
      if (unconnected == Unconnected::None) return Tensor();
      return zeros(std::move(result_shape), source.dtype(), source.device());
    }
    parts.push_back(g.unsqueeze(0));
  }
  consume();
  if (parts.empty()) return zeros(std::move(result_shape), source.dtype(), source.device());
  return concat(parts, 0).reshape(std::move(result_shape));
}

Tensor GradientTape::jacobian(const Tensor& target, const Tensor& source, Unconnected unconnected) {
  const int64_t rows = target.numel();
  Dims shape = target.shape();
  for (int64_t d : source.shape()) shape.push_back(d);
  auto seed = [&](int64_t i) {
    return one_hot(Tensor::from_vec(std::vector<int64_t>{i}, {1}), rows, target.dtype())
        .reshape(target.shape());
  };
  return stacked_backward(target, source, rows, seed, std::move(shape), unconnected);
}

Tensor GradientTape::batch_jacobian(const Tensor& target, const Tensor& source,
                                    Unconnected unconnected) {
  TF_CHECK(target.rank() >= 1 && source.rank() >= 1 && target.size(0) == source.size(0), ShapeError,
           "batch_jacobian: target ", target.shape(), " and source ", source.shape(),
           " need the same leading batch extent");
  const int64_t batch = target.size(0);
  const int64_t features = batch == 0 ? 0 : target.numel() / batch;
  // Pass i seeds feature i of every row at once; rows are independent, so each row's
  // gradient is that row's Jacobian entry. Passes stack on axis 0: [features, B, source...].
  auto seed = [&](int64_t i) {
    Tensor row = one_hot(Tensor::from_vec(std::vector<int64_t>{i}, {1}), features, target.dtype());
    return row.expand({batch, features}).reshape(target.shape());
  };
  Dims stacked{features};
  for (int64_t d : source.shape()) stacked.push_back(d);
  Tensor jac = stacked_backward(target, source, features, seed, stacked, unconnected);
  if (!jac.defined()) return jac;
  // [features, B, S...] -> [B, features, S...] -> [B, target.shape[1:], S...]
  Tensor moved = jac.transpose(0, 1);
  Dims shape = target.shape();
  for (int64_t k = 1; k < source.rank(); ++k) shape.push_back(source.shape()[k]);
  return moved.reshape(shape);
}

Tensor stop_gradient(const Tensor& x) {
  return dispatch1(TF_OP("stop_gradient"), {x});
}

}  // namespace tenflowers
