#pragma once
// The functional API: Input() gives a symbolic tensor, applying layers to symbolic tensors
// records a graph, and a FunctionalModel runs that graph from its inputs to its outputs. A
// layer applied twice shares its weights.
//
//   auto in = nn::Input({1, 28, 28});
//   auto h = nn::apply(std::make_shared<nn::Flatten>(), in);
//   auto out = nn::apply(std::make_shared<nn::Dense>(10), h);
//   nn::FunctionalModel model({in}, {out});
#include <memory>
#include <string>
#include <vector>

#include "tenflowers/nn/model.hpp"

namespace tenflowers::nn {

class SymbolicTensor {
 public:
  struct Node;
  SymbolicTensor() = default;
  explicit SymbolicTensor(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  const std::shared_ptr<const Node>& node() const { return node_; }
  bool defined() const { return node_ != nullptr; }

 private:
  std::shared_ptr<const Node> node_;
};

struct SymbolicTensor::Node {
  LayerPtr layer;                      // null for an Input
  std::vector<SymbolicTensor> inputs;  // the layer's arguments
  Dims sample_shape;                   // Input only: the shape without the batch axis
  DType dtype = DType::F32;            // Input only
  std::string name;                    // Input only
};

// A model input of the given per-sample shape (no batch axis).
SymbolicTensor Input(Dims sample_shape, DType dtype = DType::F32, std::string name = "");
// The symbolic result of layer(inputs...).
SymbolicTensor apply(LayerPtr layer, std::vector<SymbolicTensor> inputs);
inline SymbolicTensor apply(LayerPtr layer, SymbolicTensor input) {
  return apply(std::move(layer), std::vector<SymbolicTensor>{std::move(input)});
}

class FunctionalModel : public Model {
 public:
  FunctionalModel(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
                  std::string name = "");
  std::vector<Tensor> call_outputs(const std::vector<Tensor>& inputs) override;
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<const SymbolicTensor::Node*> order_;  // layer nodes in topological order
};

}  // namespace tenflowers::nn
