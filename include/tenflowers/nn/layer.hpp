#pragma once
// Layer: the building block of models (Keras' Layer, the seed guide's Layer trait). A layer owns
// named Variables and sublayers, builds its weights on first call from the input shapes, and has
// a training flag that Dropout and BatchNormalization read.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tenflowers/autograd/variable.hpp"
#include "tenflowers/core/tensor.hpp"
#include "tenflowers/nn/initializers.hpp"

namespace tenflowers::nn {

// Penalty added to the training loss for one weight: l1 * sum|w| + l2 * sum(w^2).
struct Regularizer {
  double l1 = 0.0;
  double l2 = 0.0;
  bool active() const { return l1 != 0.0 || l2 != 0.0; }
  Tensor operator()(const Tensor& w) const;
};
inline Regularizer l2(double factor) {
  return Regularizer{0.0, factor};
}
inline Regularizer l1(double factor) {
  return Regularizer{factor, 0.0};
}

using NamedVariables = std::vector<std::pair<std::string, Variable>>;

// The dtype of weights that layers create (f32 unless changed; process-wide, like
// torch.set_default_dtype). Layers compute in their inputs' and weights' dtypes.
DType default_weight_dtype();
void set_default_weight_dtype(DType dtype);  // floating dtypes only (DTypeError otherwise)

class Layer {
 public:
  // An empty name gets a unique one from the layer's kind ("dense", "dense_1", ...).
  Layer(std::string kind, std::string name);
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // Builds the layer on its first call (from the inputs' shapes), then runs forward.
  Tensor operator()(const Tensor& x) { return call({x}); }
  Tensor call(const std::vector<Tensor>& inputs);

  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  bool built() const { return built_; }
  bool training() const { return training_; }
  // Sets the flag on this layer and every sublayer.
  void set_training(bool training);
  // Freezes (false) or unfreezes every weight of this layer and its sublayers.
  void set_trainable(bool trainable);

  // Every weight, keyed by its path from this layer ("conv/kernel", "block/norm/gamma"), in
  // creation order: own weights first, then each sublayer's.
  // Moves every variable of this layer and its sublayers to `device`, and makes weights built
  // later start there, so the same model code trains on the CPU or a GPU. Model::fit, evaluate
  // and predict move their batches to the model's device.
  void to(Device device);
  // Where to() placed the layer; empty until then (weights are made on the default device).
  std::optional<Device> device() const { return device_; }

  NamedVariables named_variables() const;
  std::vector<Variable> variables() const;
  std::vector<Variable> trainable_variables() const;
  std::vector<Variable> non_trainable_variables() const;
  int64_t count_params() const;
  // Sum of the regularization penalties of every weight; undefined when none has one.
  Tensor regularization_loss() const;

  // The sublayers, keyed as in the paths above.
  const std::vector<std::pair<std::string, std::shared_ptr<Layer>>>& sublayers() const {
    return sublayers_;
  }

 protected:
  virtual void build(const std::vector<Dims>& input_shapes) {}
  virtual Tensor forward(const std::vector<Tensor>& inputs) = 0;

  // A weight of this layer; its Variable name is "<layer name>/<name>", unique in the process.
  Variable add_weight(const std::string& name, const Dims& shape, const Initializer& init,
                      Fans fans = {}, bool trainable = true, Regularizer regularizer = {});
  // Registers a sublayer under `key` (its path component) and returns it.
  template <class L>
  std::shared_ptr<L> track(const std::string& key, std::shared_ptr<L> layer) {
    track_layer(key, layer);
    return layer;
  }
  void track_layer(const std::string& key, std::shared_ptr<Layer> layer);
  // The single input of a one-input layer (InvalidArgument naming the layer otherwise).
  const Tensor& only_input(const std::vector<Tensor>& inputs) const;
  // Layers that accept any number of inputs of different roles check arity themselves.
  void expect_inputs(const std::vector<Tensor>& inputs, size_t min, size_t max) const;

 private:
  struct Weight {
    std::string key;
    Variable variable;
    Regularizer regularizer;
  };
  void collect(const std::string& prefix, NamedVariables& out) const;
  void collect_penalties(Tensor& total) const;

  std::string kind_;
  std::string name_;
  bool built_ = false;
  bool training_ = false;
  std::optional<Device> device_;
  std::vector<Weight> weights_;
  std::vector<std::pair<std::string, std::shared_ptr<Layer>>> sublayers_;
};

using LayerPtr = std::shared_ptr<Layer>;

}  // namespace tenflowers::nn
