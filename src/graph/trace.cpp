#include "tenflowers/graph/trace.hpp"

#include <unordered_map>

#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::graph {
namespace {

// Sees the traced code's op calls and maps each tensor it meets to a graph value.
class Tracer : public DispatchHook {
 public:
  explicit Tracer(Graph& graph) : graph_(graph) {}

  void bind(const Tensor& t, ValueRef value) { values_[t.id()] = value; }

  ValueRef value_of(const Tensor& t) {
    auto it = values_.find(t.id());
    if (it != values_.end()) return it->second;
    TF_CHECK(!t.is_meta(), InvalidArgument,
             "a symbolic tensor from another trace was used; pass it in as an input instead");
    const ValueRef value = graph_.constant(t);
    values_[t.id()] = value;
    return value;
  }

  void on_op(const OpDef& op, std::span<const Tensor> inputs, const Attrs& attrs,
             std::span<const Tensor> outputs) override {
    std::vector<ValueRef> refs;
    refs.reserve(inputs.size());
    for (const Tensor& t : inputs) refs.push_back(value_of(t));
    std::vector<TensorMeta> metas;
    for (const Tensor& t : outputs) metas.push_back({t.dtype(), t.shape(), t.device()});
    const std::vector<ValueRef> made =
        graph_.add_op_with_outputs(op, std::move(refs), attrs, std::move(metas));
    for (size_t k = 0; k < outputs.size(); ++k) bind(outputs[k], made[k]);
  }

 private:
  Graph& graph_;
  std::unordered_map<uint64_t, ValueRef> values_;
};

}  // namespace

Graph trace(const TracedFn& fn, std::span<const TensorSpec> inputs) {
  TF_CHECK(static_cast<bool>(fn), InvalidArgument, "trace: no function given");
  Graph graph;
  Tracer tracer(graph);
  std::vector<Tensor> symbols;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorSpec& spec = inputs[i];
    const std::string name = spec.name.empty() ? "input" + std::to_string(i) : spec.name;
    const ValueRef value = graph.placeholder(name, spec.dtype, spec.shape, spec.device);
    symbols.push_back(Tensor::meta(spec.shape, spec.dtype, spec.device));
    tracer.bind(symbols.back(), value);
  }
  std::vector<Tensor> results;
  {
    ScopedHook hook(&tracer);
    results = fn(symbols);
  }
  TF_CHECK(!results.empty(), InvalidArgument, "trace: the function returned no tensors");
  std::vector<ValueRef> outputs;
  for (size_t i = 0; i < results.size(); ++i) {
    TF_CHECK(results[i].defined(), InvalidArgument, "trace: result ", i, " is undefined");
    outputs.push_back(tracer.value_of(results[i]));
  }
  graph.set_outputs(std::move(outputs));
  return graph;
}

}  // namespace tenflowers::graph
