#include "tenflowers/nn/layer.hpp"

#include <atomic>
#include <map>
#include <mutex>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

// Keras' naming: the first layer of a kind takes the kind's name, later ones a suffix.
std::string unique_layer_name(const std::string& kind) {
  static std::mutex mutex;
  static std::map<std::string, int64_t> counts;
  std::lock_guard lock(mutex);
  const int64_t n = counts[kind]++;
  return n == 0 ? kind : kind + "_" + std::to_string(n);
}

std::atomic<DType> g_weight_dtype{DType::F32};

}  // namespace

DType default_weight_dtype() {
  return g_weight_dtype.load();
}

void set_default_weight_dtype(DType dtype) {
  TF_CHECK(is_floating(dtype), DTypeError, "weights must have a floating dtype, got ",
           dtype_name(dtype));
  g_weight_dtype.store(dtype);
}

Tensor Regularizer::operator()(const Tensor& w) const {
  Tensor penalty;
  if (l1 != 0.0) penalty = sum(abs(w)) * l1;
  if (l2 != 0.0) {
    Tensor p = sum(square(w)) * l2;
    penalty = penalty.defined() ? penalty + p : p;
  }
  return penalty;
}

Layer::Layer(std::string kind, std::string name)
    : kind_(std::move(kind)), name_(name.empty() ? unique_layer_name(kind_) : std::move(name)) {}

Tensor Layer::call(const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    TF_CHECK(inputs[i].defined(), InvalidArgument, "layer '", name_, "': input ", i,
             " is undefined");
  }
  if (!built_) {
    std::vector<Dims> shapes;
    shapes.reserve(inputs.size());
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    build(shapes);
    built_ = true;
  }
  return forward(inputs);
}

void Layer::set_training(bool training) {
  training_ = training;
  for (auto& [key, layer] : sublayers_) layer->set_training(training);
}

void Layer::set_trainable(bool trainable) {
  for (Weight& w : weights_) w.variable.set_trainable(trainable);
  for (auto& [key, layer] : sublayers_) layer->set_trainable(trainable);
}

void Layer::collect(const std::string& prefix, NamedVariables& out) const {
  for (const Weight& w : weights_) out.emplace_back(prefix + w.key, w.variable);
  for (const auto& [key, layer] : sublayers_) layer->collect(prefix + key + "/", out);
}

NamedVariables Layer::named_variables() const {
  NamedVariables out;
  collect("", out);
  return out;
}

std::vector<Variable> Layer::variables() const {
  std::vector<Variable> out;
  for (auto& [key, v] : named_variables()) out.push_back(v);
  return out;
}

std::vector<Variable> Layer::trainable_variables() const {
  std::vector<Variable> out;
  for (auto& [key, v] : named_variables()) {
    if (v.trainable()) out.push_back(v);
  }
  return out;
}

std::vector<Variable> Layer::non_trainable_variables() const {
  std::vector<Variable> out;
  for (auto& [key, v] : named_variables()) {
    if (!v.trainable()) out.push_back(v);
  }
  return out;
}

int64_t Layer::count_params() const {
  int64_t n = 0;
  for (auto& [key, v] : named_variables()) n += v.shape().numel();
  return n;
}

void Layer::collect_penalties(Tensor& total) const {
  for (const Weight& w : weights_) {
    if (!w.regularizer.active() || !w.variable.trainable()) continue;
    Tensor p = w.regularizer(w.variable.value());
    total = total.defined() ? total + p : p;
  }
  for (const auto& [key, layer] : sublayers_) layer->collect_penalties(total);
}

Tensor Layer::regularization_loss() const {
  Tensor total;
  collect_penalties(total);
  return total;
}

Variable Layer::add_weight(const std::string& name, const Dims& shape, const Initializer& init,
                           Fans fans, bool trainable, Regularizer regularizer) {
  for (const Weight& w : weights_) {
    TF_CHECK(w.key != name, InvalidArgument, "layer '", name_, "' already has a weight named '",
             name, "'");
  }
  // Made where the initializer makes it (the default device), then moved to the layer's.
  Tensor initial = init(shape, default_weight_dtype(), fans);
  if (device_) initial = initial.to(*device_);
  Variable v(initial, name_ + "/" + name, trainable);
  weights_.push_back({name, v, regularizer});
  return v;
}

void Layer::to(Device device) {
  backend_for(device);  // a DeviceError now, before anything moves
  device_ = device;
  for (Weight& w : weights_) w.variable.to(device);
  for (auto& [key, layer] : sublayers_) layer->to(device);
}

void Layer::track_layer(const std::string& key, std::shared_ptr<Layer> layer) {
  TF_CHECK(layer != nullptr, InvalidArgument, "layer '", name_, "': sublayer '", key, "' is null");
  for (const auto& [k, l] : sublayers_) {
    TF_CHECK(k != key, InvalidArgument, "layer '", name_, "' already has a sublayer named '", key,
             "'");
  }
  layer->set_training(training_);
  if (device_) layer->to(*device_);
  sublayers_.emplace_back(key, std::move(layer));
}

const Tensor& Layer::only_input(const std::vector<Tensor>& inputs) const {
  expect_inputs(inputs, 1, 1);
  return inputs[0];
}

void Layer::expect_inputs(const std::vector<Tensor>& inputs, size_t min, size_t max) const {
  TF_CHECK(inputs.size() >= min && inputs.size() <= max, InvalidArgument, "layer '", name_, "' (",
           kind_, ") takes ",
           min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max),
           " input(s), got ", inputs.size());
}

}  // namespace tenflowers::nn
