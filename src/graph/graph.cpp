#include "tenflowers/graph/graph.hpp"

#include <algorithm>
#include <sstream>

#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::graph {

const Node& Graph::node(int32_t index) const {
  TF_CHECK(index >= 0 && static_cast<size_t>(index) < nodes_.size(), InvalidArgument, "node ",
           index, " does not exist; the graph has ", nodes_.size(), " nodes");
  return nodes_[static_cast<size_t>(index)];
}

void Graph::check_ref(ValueRef value) const {
  const Node& n = node(value.node);
  TF_CHECK(value.index >= 0 && static_cast<size_t>(value.index) < n.outputs.size(), InvalidArgument,
           "node ", value.node, " has ", n.outputs.size(), " output(s); output ", value.index,
           " does not exist");
}

const TensorMeta& Graph::meta(ValueRef value) const {
  check_ref(value);
  return nodes_[static_cast<size_t>(value.node)].outputs[static_cast<size_t>(value.index)];
}

ValueRef Graph::placeholder(std::string name, DType dtype, Dims shape, Device device) {
  TF_CHECK(!name.empty(), InvalidArgument, "a placeholder needs a name");
  for (const Node& n : nodes_) {
    TF_CHECK(n.kind != NodeKind::Placeholder || n.name != name, InvalidArgument,
             "the graph already has a placeholder named '", name, "'");
  }
  TF_CHECK(std::all_of(shape.begin(), shape.end(), [](int64_t d) { return d >= 0; }),
           InvalidArgument, "placeholder '", name, "' needs a known shape, got ", shape);
  Node n;
  n.kind = NodeKind::Placeholder;
  n.name = std::move(name);
  n.outputs.push_back({dtype, std::move(shape), device});
  nodes_.push_back(std::move(n));
  return {static_cast<int32_t>(nodes_.size() - 1), 0};
}

ValueRef Graph::constant(Tensor value) {
  TF_CHECK(value.defined() && !value.is_meta(), InvalidArgument,
           "a graph constant needs a tensor with data");
  Node n;
  n.kind = NodeKind::Constant;
  n.outputs.push_back({value.dtype(), value.shape(), value.device()});
  n.value = std::move(value);
  nodes_.push_back(std::move(n));
  return {static_cast<int32_t>(nodes_.size() - 1), 0};
}

std::vector<ValueRef> Graph::add_op(const OpDef& op, std::vector<ValueRef> inputs, Attrs attrs) {
  std::vector<Tensor> metas;
  for (ValueRef in : inputs) {
    const TensorMeta& m = meta(in);
    metas.push_back(Tensor::meta(m.shape, m.dtype, m.device));
  }
  std::vector<TensorMeta> outputs;
  if (metas.empty()) {
    // Ops without inputs (creation) are computed by their rule on the attributes alone.
    const AttrValue* device = attrs.find("device");
    InferContext ctx{op, metas, attrs, device ? std::get<Device>(*device) : default_device(), {}};
    TF_CHECK(static_cast<bool>(op.infer), InvalidArgument, "op '", op.name,
             "' cannot be added without inputs");
    op.infer(ctx);
    outputs.assign(ctx.outputs.begin(), ctx.outputs.end());
  } else {
    for (const Tensor& t : dispatch(op, metas, attrs)) {
      outputs.push_back({t.dtype(), t.shape(), t.device()});
    }
  }
  return add_op_with_outputs(op, std::move(inputs), std::move(attrs), std::move(outputs));
}

ValueRef Graph::add_op1(const OpDef& op, std::vector<ValueRef> inputs, Attrs attrs) {
  std::vector<ValueRef> out = add_op(op, std::move(inputs), std::move(attrs));
  TF_CHECK(out.size() == 1, InvalidArgument, "op '", op.name, "' has ", out.size(),
           " outputs, not one");
  return out[0];
}

std::vector<ValueRef> Graph::add_op_with_outputs(const OpDef& op, std::vector<ValueRef> inputs,
                                                 Attrs attrs, std::vector<TensorMeta> outputs) {
  for (ValueRef in : inputs) check_ref(in);
  Node n;
  n.kind = NodeKind::Op;
  n.op = &op;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  n.outputs = std::move(outputs);
  const auto index = static_cast<int32_t>(nodes_.size());
  std::vector<ValueRef> refs;
  for (size_t k = 0; k < n.outputs.size(); ++k) refs.push_back({index, static_cast<int32_t>(k)});
  nodes_.push_back(std::move(n));
  return refs;
}

void Graph::set_outputs(std::vector<ValueRef> outputs) {
  TF_CHECK(!outputs.empty(), InvalidArgument, "a graph needs at least one output");
  for (ValueRef out : outputs) check_ref(out);
  outputs_ = std::move(outputs);
}

std::vector<int32_t> Graph::placeholders() const {
  std::vector<int32_t> out;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].kind == NodeKind::Placeholder) out.push_back(static_cast<int32_t>(i));
  }
  return out;
}

size_t Graph::count_ops(std::string_view op_name) const {
  return static_cast<size_t>(std::count_if(nodes_.begin(), nodes_.end(), [&](const Node& n) {
    return n.kind == NodeKind::Op && (op_name.empty() || n.op->name == op_name);
  }));
}

std::string Graph::str() const {
  std::ostringstream out;
  auto ref = [](ValueRef v) {
    std::ostringstream text;
    text << '%' << v.node << ':' << v.index;
    return text.str();
  };
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    out << "%" << i << " = ";
    if (n.kind == NodeKind::Placeholder) {
      out << "placeholder '" << n.name << "'";
    } else if (n.kind == NodeKind::Constant) {
      out << "constant";
    } else {
      out << n.op->name << "(";
      for (size_t k = 0; k < n.inputs.size(); ++k) out << (k ? ", " : "") << ref(n.inputs[k]);
      out << ")";
      if (!n.attrs.empty()) out << " {" << n.attrs.str() << "}";
    }
    for (const TensorMeta& m : n.outputs) out << " " << dtype_name(m.dtype) << m.shape;
    out << "\n";
  }
  out << "outputs:";
  for (ValueRef v : outputs_) out << " " << ref(v);
  return out.str();
}

}  // namespace tenflowers::graph
