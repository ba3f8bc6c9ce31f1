#include "tenflowers/nn/functional.hpp"

#include <functional>
#include <set>
#include <unordered_map>

#include "tenflowers/core/error.hpp"

namespace tenflowers::nn {

SymbolicTensor Input(Dims sample_shape, DType dtype, std::string name) {
  auto node = std::make_shared<SymbolicTensor::Node>();
  node->sample_shape = std::move(sample_shape);
  node->dtype = dtype;
  node->name = std::move(name);
  return SymbolicTensor(std::move(node));
}

SymbolicTensor apply(LayerPtr layer, std::vector<SymbolicTensor> inputs) {
  TF_CHECK(layer != nullptr, InvalidArgument, "apply: the layer is null");
  TF_CHECK(!inputs.empty(), InvalidArgument, "apply: layer '", layer->name(),
           "' needs at least one symbolic input");
  for (size_t i = 0; i < inputs.size(); ++i) {
    TF_CHECK(inputs[i].defined(), InvalidArgument, "apply: input ", i, " of layer '", layer->name(),
             "' is undefined");
  }
  auto node = std::make_shared<SymbolicTensor::Node>();
  node->layer = std::move(layer);
  node->inputs = std::move(inputs);
  return SymbolicTensor(std::move(node));
}

FunctionalModel::FunctionalModel(std::vector<SymbolicTensor> inputs,
                                 std::vector<SymbolicTensor> outputs, std::string name)
    : Model(std::move(name), "functional"),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)) {
  TF_CHECK(!inputs_.empty() && !outputs_.empty(), InvalidArgument,
           "FunctionalModel needs at least one input and one output");
  std::set<const SymbolicTensor::Node*> model_inputs;
  for (const SymbolicTensor& in : inputs_) {
    TF_CHECK(in.defined() && in.node()->layer == nullptr, InvalidArgument,
             "FunctionalModel: every input must come from Input()");
    TF_CHECK(model_inputs.insert(in.node().get()).second, InvalidArgument,
             "FunctionalModel: the same Input is given twice");
  }
  // Depth-first post-order from the outputs gives a topological order of the layer nodes.
  std::set<const SymbolicTensor::Node*> done, active;
  std::function<void(const SymbolicTensor::Node*)> visit = [&](const SymbolicTensor::Node* n) {
    if (done.count(n)) return;
    if (n->layer == nullptr) {
      TF_CHECK(model_inputs.count(n), InvalidArgument,
               "FunctionalModel: an output depends on "
               "Input '",
               n->name, "' that is not among the model's inputs");
      done.insert(n);
      return;
    }
    for (const SymbolicTensor& in : n->inputs) visit(in.node().get());
    done.insert(n);
    order_.push_back(n);
  };
  for (const SymbolicTensor& out : outputs_) {
    TF_CHECK(out.defined(), InvalidArgument, "FunctionalModel: an output is undefined");
    visit(out.node().get());
  }
  // Each distinct layer is a sublayer once, keyed by its first position.
  std::set<const Layer*> tracked;
  for (const SymbolicTensor::Node* n : order_) {
    if (tracked.insert(n->layer.get()).second) {
      track_layer(std::to_string(tracked.size() - 1), n->layer);
    }
  }
}

std::vector<Tensor> FunctionalModel::call_outputs(const std::vector<Tensor>& inputs) {
  TF_CHECK(inputs.size() == inputs_.size(), InvalidArgument, "model '", name(), "' takes ",
           inputs_.size(), " input(s), got ", inputs.size());
  std::unordered_map<const SymbolicTensor::Node*, Tensor> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const SymbolicTensor::Node& in = *inputs_[i].node();
    const Tensor& x = inputs[i];
    TF_CHECK(x.defined() && x.rank() == static_cast<int64_t>(in.sample_shape.size()) + 1,
             ShapeError, "model '", name(), "': input ", i, " must have shape [batch] + ",
             in.sample_shape, ", got ", x.defined() ? x.shape() : Dims{});
    for (int64_t a = 0; a < static_cast<int64_t>(in.sample_shape.size()); ++a) {
      TF_CHECK(in.sample_shape[a] < 0 || x.size(a + 1) == in.sample_shape[a], ShapeError, "model '",
               name(), "': input ", i, " must have shape [batch] + ", in.sample_shape, ", got ",
               x.shape());
    }
    values[&in] = x;
  }
  for (const SymbolicTensor::Node* n : order_) {
    std::vector<Tensor> args;
    for (const SymbolicTensor& a : n->inputs) args.push_back(values.at(a.node().get()));
    values[n] = n->layer->call(args);
  }
  std::vector<Tensor> outputs;
  for (const SymbolicTensor& out : outputs_) outputs.push_back(values.at(out.node().get()));
  return outputs;
}

Tensor FunctionalModel::forward(const std::vector<Tensor>& inputs) {
  return call_outputs(inputs).at(0);
}

}  // namespace tenflowers::nn
