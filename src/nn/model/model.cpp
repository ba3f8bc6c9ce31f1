#include "tenflowers/nn/model.hpp"

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "src/nn/model/batch_source.hpp"
#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/io/safetensors.hpp"

namespace tenflowers::nn {
namespace {

constexpr const char* kOptimizerPrefix = "optimizer/";

int64_t leading_extent(const std::vector<Tensor>& tensors, const char* what) {
  TF_CHECK(!tensors.empty(), InvalidArgument, what, ": no tensors given");
  int64_t n = -1;
  for (size_t i = 0; i < tensors.size(); ++i) {
    TF_CHECK(tensors[i].defined() && tensors[i].rank() >= 1, ShapeError, what, ": tensor ", i,
             " needs a leading batch axis");
    if (n < 0) n = tensors[i].size(0);
    TF_CHECK(tensors[i].size(0) == n, ShapeError, what, ": tensor ", i, " has ", tensors[i].size(0),
             " rows, tensor 0 has ", n);
  }
  return n;
}

std::vector<Tensor> rows(const std::vector<Tensor>& tensors, int64_t start, int64_t count) {
  std::vector<Tensor> out;
  for (const Tensor& t : tensors) out.push_back(t.narrow(0, start, count));
  return out;
}

}  // namespace

Model::Model(std::string name, std::string kind) : Layer(std::move(kind), std::move(name)) {}

void Model::compile(std::shared_ptr<Optimizer> optimizer, std::vector<std::shared_ptr<Loss>> losses,
                    std::vector<std::shared_ptr<Metric>> metrics) {
  TF_CHECK(optimizer != nullptr, InvalidArgument, "compile: the optimizer is null");
  TF_CHECK(!losses.empty(), InvalidArgument, "compile: give at least one loss");
  for (const auto& l : losses) TF_CHECK(l != nullptr, InvalidArgument, "compile: a loss is null");
  for (const auto& m : metrics) {
    TF_CHECK(m != nullptr, InvalidArgument, "compile: a metric is null");
  }
  optimizer_ = std::move(optimizer);
  losses_ = std::move(losses);
  metrics_ = std::move(metrics);
}

Optimizer& Model::optimizer() const {
  check_compiled("optimizer()");
  return *optimizer_;
}

void Model::check_compiled(const char* what) const {
  TF_CHECK(compiled(), InvalidArgument, "model '", name(), "': call compile() before ", what);
}

Tensor Model::total_loss(const std::vector<Tensor>& y, const std::vector<Tensor>& y_pred,
                         bool with_regularization) const {
  TF_CHECK(y.size() == y_pred.size(), InvalidArgument, "model '", name(), "' has ", y_pred.size(),
           " output(s) but ", y.size(), " target(s) were given");
  TF_CHECK(losses_.size() == 1 || losses_.size() == y.size(), InvalidArgument, "model '", name(),
           "' was compiled with ", losses_.size(), " losses for ", y.size(), " outputs");
  Tensor loss;
  for (size_t i = 0; i < y.size(); ++i) {
    const Loss& fn = *losses_[losses_.size() == 1 ? 0 : i];
    Tensor l = fn(y[i], y_pred[i]);
    loss = loss.defined() ? loss + l : l;
  }
  if (with_regularization) {
    if (Tensor penalty = regularization_loss(); penalty.defined()) loss = loss + penalty;
  }
  return loss;
}

void Model::update_metrics(const std::vector<Tensor>& y, const std::vector<Tensor>& y_pred) {
  // Metrics follow the first output, as a single-output model's metrics do in Keras.
  HooksPaused paused;
  for (const auto& m : metrics_) m->update_state(y[0], y_pred[0]);
}

Logs Model::metric_logs(double loss) const {
  Logs logs;
  logs.set("loss", loss);
  for (const auto& m : metrics_) {
    // Scalar metrics only; a confusion matrix is read from the metric itself.
    if (const Tensor r = m->result_tensor(); r.numel() == 1) logs.set(m->name(), r.item<double>());
  }
  return logs;
}

// Batches come from host pipelines: they go to the model's device (see Layer::to).
std::vector<Tensor> Model::placed(const std::vector<Tensor>& tensors) const {
  const std::optional<Device> target = device();
  if (!target) return tensors;
  std::vector<Tensor> out;
  out.reserve(tensors.size());
  for (const Tensor& t : tensors) out.push_back(t.device() == *target ? t : t.to(*target));
  return out;
}

Logs Model::train_step(const std::vector<Tensor>& x_batch, const std::vector<Tensor>& y_batch) {
  check_compiled("train_step");
  const std::vector<Tensor> x = placed(x_batch), y = placed(y_batch);
  set_training(true);
  std::vector<Tensor> y_pred;
  Tensor loss;
  std::vector<Variable> vars;
  std::vector<Tensor> grads;
  {
    GradientTape tape;
    y_pred = call_outputs(x);
    loss = total_loss(y, y_pred, true);
    vars = trainable_variables();
    grads = tape.gradient(loss, vars);
  }
  optimizer_->apply_gradients(grads, vars);
  update_metrics(y, y_pred);
  return metric_logs(loss.item<double>());
}

Logs Model::test_step(const std::vector<Tensor>& x_batch, const std::vector<Tensor>& y_batch) {
  check_compiled("test_step");
  const std::vector<Tensor> x = placed(x_batch), y = placed(y_batch);
  set_training(false);
  const std::vector<Tensor> y_pred = call_outputs(x);
  const Tensor loss = total_loss(y, y_pred, true);
  update_metrics(y, y_pred);
  return metric_logs(loss.item<double>());
}

History Model::run_fit(BatchSource& train, BatchSource* validation, FitOptions& options) {
  check_compiled("fit");
  TF_CHECK(options.epochs >= 0, InvalidArgument, "fit: epochs must be non-negative, got ",
           options.epochs);
  auto history = std::make_shared<History>();
  std::vector<std::shared_ptr<Callback>> callbacks = options.callbacks;
  if (options.verbose > 0) callbacks.insert(callbacks.begin(), std::make_shared<ProgressBar>());
  callbacks.push_back(history);
  stop_training = false;
  for (auto& cb : callbacks) cb->on_train_begin(*this, options.epochs, train.size());
  for (int64_t epoch = 0; epoch < options.epochs && !stop_training; ++epoch) {
    for (auto& cb : callbacks) cb->on_epoch_begin(*this, epoch);
    for (const auto& m : metrics_) m->reset_state();
    train.start_epoch(epoch);
    double loss_sum = 0.0;
    int64_t batches = 0;
    Logs logs;
    while (std::optional<Batch> batch = train.next()) {
      Logs step = train_step(batch->x, batch->y);
      loss_sum += step.at("loss");
      ++batches;
      // The epoch's running mean loss, as Keras reports it.
      step.set("loss", loss_sum / static_cast<double>(batches));
      logs = step;
      for (auto& cb : callbacks) cb->on_batch_end(*this, batches - 1, logs);
    }
    if (validation != nullptr) {
      const Logs val = run_evaluate(*validation, 0);
      for (const auto& [k, v] : val.items()) logs.set("val_" + k, v);
    }
    for (auto& cb : callbacks) cb->on_epoch_end(*this, epoch, logs);
  }
  for (auto& cb : callbacks) cb->on_train_end(*this);
  set_training(false);
  return *history;
}

History Model::fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, FitOptions options) {
  const int64_t n = leading_extent(x, "fit inputs");
  TF_CHECK(leading_extent(y, "fit targets") == n, ShapeError, "fit: inputs have ", n,
           " rows but targets have ", y[0].size(0));
  TF_CHECK(options.batch_size > 0, InvalidArgument, "fit: batch_size must be positive, got ",
           options.batch_size);
  TF_CHECK(options.validation_split >= 0.0 && options.validation_split < 1.0, InvalidArgument,
           "fit: validation_split must be in [0, 1), got ", options.validation_split);
  TF_CHECK(options.validation_split == 0.0 || options.validation_x.empty(), InvalidArgument,
           "fit: give validation_split or validation data, not both");
  std::vector<Tensor> train_x = x, train_y = y, val_x = options.validation_x,
                      val_y = options.validation_y;
  if (options.validation_split > 0.0) {
    const int64_t held = static_cast<int64_t>(static_cast<double>(n) * options.validation_split);
    TF_CHECK(held > 0 && held < n, InvalidArgument, "fit: validation_split ",
             options.validation_split, " of ", n, " rows leaves an empty part");
    train_x = rows(x, 0, n - held);
    train_y = rows(y, 0, n - held);
    val_x = rows(x, n - held, held);
    val_y = rows(y, n - held, held);
  }
  auto train = tensor_batches(train_x, train_y, options.batch_size, options.shuffle, options.seed,
                              options.num_workers);
  std::unique_ptr<BatchSource> validation;
  if (!val_x.empty()) {
    TF_CHECK(
        leading_extent(val_x, "validation inputs") == leading_extent(val_y, "validation targets"),
        ShapeError, "fit: validation inputs and targets have different row counts");
    validation = tensor_batches(val_x, val_y, options.batch_size, false, 0, options.num_workers);
  }
  return run_fit(*train, validation.get(), options);
}

History Model::fit(const data::Dataset& batches, FitOptions options, size_t inputs) {
  auto train = dataset_batches(batches, inputs);
  std::unique_ptr<BatchSource> validation;
  if (!options.validation_x.empty()) {
    validation = tensor_batches(options.validation_x, options.validation_y, options.batch_size,
                                false, 0, options.num_workers);
  }
  return run_fit(*train, validation.get(), options);
}

Logs Model::run_evaluate(BatchSource& batches, int verbose) {
  check_compiled("evaluate");
  for (const auto& m : metrics_) m->reset_state();
  batches.start_epoch(0);
  double weighted_loss = 0.0;
  int64_t count = 0;
  while (std::optional<Batch> batch = batches.next()) {
    const int64_t n = batch->x[0].size(0);
    weighted_loss += test_step(batch->x, batch->y).at("loss") * static_cast<double>(n);
    count += n;
  }
  TF_CHECK(count > 0, InvalidArgument, "evaluate: no data");
  Logs logs = metric_logs(weighted_loss / static_cast<double>(count));
  if (verbose > 0) std::printf("%s\n", logs.str().c_str());
  return logs;
}

Logs Model::evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, int64_t batch_size,
                     int verbose) {
  TF_CHECK(batch_size > 0, InvalidArgument, "evaluate: batch_size must be positive, got ",
           batch_size);
  TF_CHECK(leading_extent(x, "evaluate inputs") == leading_extent(y, "evaluate targets"),
           ShapeError, "evaluate: inputs and targets have different row counts");
  auto batches = tensor_batches(x, y, batch_size, false, 0, 0);
  return run_evaluate(*batches, verbose);
}

Logs Model::evaluate(const data::Dataset& batches, size_t inputs, int verbose) {
  auto source = dataset_batches(batches, inputs);
  return run_evaluate(*source, verbose);
}

std::vector<Tensor> Model::predict_all(const std::vector<Tensor>& x, int64_t batch_size) {
  TF_CHECK(batch_size > 0, InvalidArgument, "predict: batch_size must be positive, got ",
           batch_size);
  const int64_t n = leading_extent(x, "predict inputs");
  set_training(false);
  std::vector<std::vector<Tensor>> parts;
  for (int64_t start = 0; start < n; start += batch_size) {
    const std::vector<Tensor> out =
        call_outputs(placed(rows(x, start, std::min(batch_size, n - start))));
    if (parts.empty()) parts.resize(out.size());
    for (size_t i = 0; i < out.size(); ++i) parts[i].push_back(out[i]);
  }
  TF_CHECK(!parts.empty(), InvalidArgument, "predict: no rows given");
  std::vector<Tensor> result;
  for (auto& p : parts) result.push_back(p.size() == 1 ? p[0] : concat(p, 0));
  return result;
}

void Model::build_for(const std::vector<Dims>& sample_shapes, DType dtype) {
  std::vector<Tensor> inputs;
  for (const Dims& s : sample_shapes) {
    std::vector<int64_t> shape = s.vec();
    shape.insert(shape.begin(), 1);
    inputs.push_back(zeros(Dims(shape), dtype));
  }
  const bool was_training = training();
  set_training(false);
  call_outputs(placed(inputs));
  set_training(was_training);
}

namespace {

// Optimizer slots are named "<variable name>/<slot>" after process-unique variable names; a
// checkpoint names them by the variable's path in the model instead, so it loads into another
// instance of the same model. `from` maps one naming to the other; other names stay.
std::string rename_slot(const std::string& name, const std::map<std::string, std::string>& from) {
  for (size_t slash = name.rfind('/'); slash != std::string::npos && slash > 0;
       slash = name.rfind('/', slash - 1)) {
    auto it = from.find(name.substr(0, slash));
    if (it != from.end()) return it->second + name.substr(slash);
  }
  return name;
}

}  // namespace

void Model::save_weights(const std::filesystem::path& path, bool include_optimizer) const {
  const NamedVariables vars = named_variables();
  TF_CHECK(!vars.empty(), InvalidArgument, "save_weights: model '", name(),
           "' has no weights yet; call it on data (or build_for) first");
  io::NamedTensors named;
  std::map<std::string, std::string> path_of;
  for (const auto& [key, v] : vars) {
    named.emplace_back(key, v.handle());
    path_of[v.name()] = key;
  }
  if (include_optimizer && compiled()) {
    for (const auto& [slot, t] : optimizer_->state()) {
      named.emplace_back(kOptimizerPrefix + rename_slot(slot, path_of), t);
    }
  }
  io::save_safetensors(path, named, {{"format", "tenflowers"}, {"model", name()}});
}

void Model::load_weights(const std::filesystem::path& path) {
  const NamedVariables vars = named_variables();
  TF_CHECK(!vars.empty(), InvalidArgument, "load_weights: model '", name(),
           "' has no weights yet; call it on data (or build_for) first");
  io::SafetensorsContents contents = io::load_safetensors(path);
  io::SafetensorsContents weights;
  io::NamedTensors slots;
  const std::string prefix = kOptimizerPrefix;
  for (auto& [key, t] : contents.tensors) {
    if (key.rfind(prefix, 0) == 0) {
      slots.emplace_back(key.substr(prefix.size()), std::move(t));
    } else {
      weights.tensors.emplace_back(key, std::move(t));
    }
  }
  io::NamedTensors targets;
  std::map<std::string, std::string> name_of;  // path -> variable name
  for (const auto& [key, v] : vars) {
    targets.emplace_back(key, v.handle());
    name_of[key] = v.name();
  }
  io::load_into(weights, targets, /*strict=*/true, path.string());
  if (slots.empty() || !compiled()) return;
  // The variables the checkpoint has slots for; load_state checks that each has all of them.
  std::vector<Variable> with_slots;
  std::set<std::string> slot_owners;
  for (auto& [slot, t] : slots) {
    slot = rename_slot(slot, name_of);
    if (const size_t slash = slot.rfind('/'); slash != std::string::npos) {
      slot_owners.insert(slot.substr(0, slash));
    }
  }
  for (const auto& [key, v] : vars) {
    if (slot_owners.count(v.name())) with_slots.push_back(v);
  }
  optimizer_->load_state(slots, with_slots);
}

std::string Model::summary() const {
  std::ostringstream out;
  char line[160];
  std::snprintf(line, sizeof line, "Model: \"%s\"\n%-32s %-24s %12s\n", name().c_str(), "Layer",
                "Kind", "Params");
  out << line << std::string(70, '-') << '\n';
  for (const auto& [key, layer] : sublayers()) {
    std::snprintf(line, sizeof line, "%-32s %-24s %12lld\n",
                  (key + " (" + layer->name() + ")").c_str(), layer->kind().c_str(),
                  static_cast<long long>(layer->count_params()));
    out << line;
  }
  int64_t trainable = 0;
  for (const Variable& v : trainable_variables()) trainable += v.shape().numel();
  out << std::string(70, '-') << '\n'
      << "Total params: " << count_params() << "\nTrainable params: " << trainable
      << "\nNon-trainable params: " << count_params() - trainable << '\n';
  return out.str();
}

// ---- Sequential -------------------------------------------------------------------------------

Sequential::Sequential(std::vector<LayerPtr> layers, std::string name)
    : Model(std::move(name), "sequential") {
  for (LayerPtr& l : layers) add(std::move(l));
}

void Sequential::add(LayerPtr layer) {
  TF_CHECK(layer != nullptr, InvalidArgument, "Sequential::add: the layer is null");
  TF_CHECK(!built(), InvalidArgument, "Sequential::add: model '", name(),
           "' is already built; add layers before its first call");
  layers_.push_back(layer);
  track_layer(std::to_string(layers_.size() - 1), std::move(layer));
}

Tensor Sequential::forward(const std::vector<Tensor>& inputs) {
  TF_CHECK(!layers_.empty(), InvalidArgument, "Sequential model '", name(), "' has no layers");
  Tensor h = only_input(inputs);
  for (const LayerPtr& layer : layers_) h = (*layer)(h);
  return h;
}

}  // namespace tenflowers::nn
