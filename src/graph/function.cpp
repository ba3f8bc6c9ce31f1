#include "tenflowers/graph/function.hpp"

#include "tenflowers/core/error.hpp"

namespace tenflowers::graph {
namespace {

std::string signature(std::span<const Tensor> inputs) {
  std::string key;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TF_CHECK(inputs[i].defined() && !inputs[i].is_meta(), InvalidArgument, "input ", i,
             " of a Function call needs a tensor with data");
    key += std::string(dtype_name(inputs[i].dtype())) + format_dims(inputs[i].shape().vec()) + "@" +
           inputs[i].device().str() + ";";
  }
  return key;
}

}  // namespace

Function::Function(TracedFn fn, OptimizeOptions options) : fn_(std::move(fn)), options_(options) {
  TF_CHECK(static_cast<bool>(fn_), InvalidArgument, "Function: no function given");
}

Function::Function(std::function<Tensor(const Tensor&)> fn, OptimizeOptions options)
    : options_(options) {
  TF_CHECK(static_cast<bool>(fn), InvalidArgument, "Function: no function given");
  fn_ = [fn = std::move(fn)](std::span<const Tensor> inputs) -> std::vector<Tensor> {
    TF_CHECK(inputs.size() == 1, InvalidArgument, "this Function takes one input, got ",
             inputs.size());
    return {fn(inputs[0])};
  };
}

const Session& Function::session_for(std::span<const Tensor> inputs) {
  const std::string key = signature(inputs);
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    std::vector<TensorSpec> specs;
    for (const Tensor& t : inputs) specs.emplace_back(t.shape(), t.dtype(), t.device());
    Graph traced = trace(fn_, specs);
    it = sessions_.emplace(key, std::make_unique<Session>(optimize(traced, options_))).first;
  }
  return *it->second;
}

std::vector<Tensor> Function::operator()(std::span<const Tensor> inputs) {
  return session_for(inputs).run(inputs);
}

Tensor Function::call1(const Tensor& input) {
  std::vector<Tensor> out = (*this)({input});
  TF_CHECK(out.size() == 1, InvalidArgument, "call1: the function returned ", out.size(),
           " tensors, not one");
  return out[0];
}

const Graph& Function::graph_for(std::span<const Tensor> inputs) {
  return session_for(inputs).graph();
}

size_t Function::num_traces() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace tenflowers::graph
