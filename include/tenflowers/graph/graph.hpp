#pragma once
// Graph: a dataflow program of registry ops. Nodes are kept in topological order (every input
// refers to an earlier node), so a Session runs them front to back and passes rewrite them in
// one sweep. A graph is built by tracing eager code (trace.hpp) or node by node; either way
// every op node's shapes and dtypes come from the op's own infer rule.
#include <cstdint>
#include <string>
#include <vector>

#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::graph {

// Output `index` of node `node`.
struct ValueRef {
  int32_t node = -1;
  int32_t index = 0;
  friend bool operator==(const ValueRef&, const ValueRef&) = default;
};

enum class NodeKind { Placeholder, Constant, Op };

struct Node {
  NodeKind kind = NodeKind::Op;
  const OpDef* op = nullptr;  // Op nodes
  std::vector<ValueRef> inputs;
  Attrs attrs;
  std::vector<TensorMeta> outputs;
  Tensor value;      // Constant nodes: the captured tensor, read by reference at each run
  std::string name;  // Placeholder nodes: the feed name
};

class Graph {
 public:
  // A value fed at run time. Names are unique within a graph.
  ValueRef placeholder(std::string name, DType dtype, Dims shape, Device device = Device::cpu());
  // A captured tensor. The graph holds the tensor itself, so in-place updates of its storage
  // (variables) are seen by later runs.
  ValueRef constant(Tensor value);
  // Appends an op node; its outputs come from the op's infer rule on the inputs' metadata, so a
  // shape or dtype error surfaces here, with the op named.
  std::vector<ValueRef> add_op(const OpDef& op, std::vector<ValueRef> inputs, Attrs attrs = {});
  ValueRef add_op1(const OpDef& op, std::vector<ValueRef> inputs, Attrs attrs = {});
  // Appends an op node whose outputs are already known (tracing saw them computed).
  std::vector<ValueRef> add_op_with_outputs(const OpDef& op, std::vector<ValueRef> inputs,
                                            Attrs attrs, std::vector<TensorMeta> outputs);

  void set_outputs(std::vector<ValueRef> outputs);
  const std::vector<ValueRef>& outputs() const { return outputs_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(int32_t index) const;
  const TensorMeta& meta(ValueRef value) const;
  // Placeholder node indices in creation order: the order Session::run takes feeds in.
  std::vector<int32_t> placeholders() const;
  size_t count_ops(std::string_view op_name = {}) const;  // all op nodes when empty
  std::string str() const;                                // one line per node

 private:
  void check_ref(ValueRef value) const;
  std::vector<Node> nodes_;
  std::vector<ValueRef> outputs_;
};

}  // namespace tenflowers::graph
