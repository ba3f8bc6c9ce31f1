#pragma once
// Shared by the passes: copies nodes of an old graph into a new one, mapping their values.
#include <vector>

#include "tenflowers/graph/graph.hpp"

namespace tenflowers::graph::detail {

class Rebuild {
 public:
  explicit Rebuild(const Graph& old) : old_(old), map_(old.nodes().size()) {}

  ValueRef map(ValueRef v) const {
    return map_[static_cast<size_t>(v.node)][static_cast<size_t>(v.index)];
  }
  std::vector<ValueRef> map(const std::vector<ValueRef>& vs) const {
    std::vector<ValueRef> out;
    for (ValueRef v : vs) out.push_back(map(v));
    return out;
  }
  // Copies old node `index` as it is.
  void copy(int32_t index) {
    const Node& n = old_.node(index);
    std::vector<ValueRef> made;
    switch (n.kind) {
      case NodeKind::Placeholder:
        made = {graph_.placeholder(n.name, n.outputs[0].dtype, n.outputs[0].shape,
                                   n.outputs[0].device)};
        break;
      case NodeKind::Constant:
        made = {graph_.constant(n.value)};
        break;
      case NodeKind::Op:
        made = graph_.add_op_with_outputs(*n.op, map(n.inputs), n.attrs, n.outputs);
        break;
    }
    bind(index, std::move(made));
  }
  void bind(int32_t index, std::vector<ValueRef> values) {
    map_[static_cast<size_t>(index)] = std::move(values);
  }
  Graph& graph() { return graph_; }
  Graph finish() {
    graph_.set_outputs(map(old_.outputs()));
    return std::move(graph_);
  }

 private:
  const Graph& old_;
  Graph graph_;
  std::vector<std::vector<ValueRef>> map_;
};

}  // namespace tenflowers::graph::detail
