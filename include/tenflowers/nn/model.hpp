#pragma once
// Model: a Layer that trains (Keras' Model). compile() picks the optimizer, the loss and the
// metrics; fit/evaluate/predict run the loops; train_step is one step a custom loop can also
// write by hand with a GradientTape. Sequential stacks layers; a functional Model is a graph of
// layers from Input()s to outputs (functional.hpp).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenflowers/nn/callbacks.hpp"
#include "tenflowers/nn/layer.hpp"
#include "tenflowers/nn/logs.hpp"
#include "tenflowers/nn/losses.hpp"
#include "tenflowers/nn/metrics.hpp"
#include "tenflowers/nn/optimizer.hpp"

namespace tenflowers::data {
class Dataset;
}

namespace tenflowers::nn {

class BatchSource;

struct FitOptions {
  int64_t epochs = 1;
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;  // shuffling order of epoch e derives from (seed, e)
  // Held-out data evaluated after each epoch (figures prefixed "val_").
  std::vector<Tensor> validation_x, validation_y;
  double validation_split = 0.0;  // fraction of the training rows held out (the last ones)
  std::vector<std::shared_ptr<Callback>> callbacks;
  int verbose = 1;          // 0 silent, 1 progress bar (plain lines when not a terminal)
  int64_t num_workers = 0;  // batch-assembling threads
};

class Model : public Layer {
 public:
  explicit Model(std::string name = "", std::string kind = "model");

  // Outputs of the model on the inputs (several for a functional model with several outputs).
  // A subclassed model overrides forward (one output) or this.
  virtual std::vector<Tensor> call_outputs(const std::vector<Tensor>& inputs) {
    return {call(inputs)};
  }

  // One loss for every output, or one per output; the training loss is their sum plus the
  // layers' regularization penalties.
  void compile(std::shared_ptr<Optimizer> optimizer, std::vector<std::shared_ptr<Loss>> losses,
               std::vector<std::shared_ptr<Metric>> metrics = {});
  void compile(std::shared_ptr<Optimizer> optimizer, std::shared_ptr<Loss> loss,
               std::vector<std::shared_ptr<Metric>> metrics = {}) {
    compile(std::move(optimizer), std::vector<std::shared_ptr<Loss>>{std::move(loss)},
            std::move(metrics));
  }
  bool compiled() const { return optimizer_ != nullptr; }
  Optimizer& optimizer() const;
  const std::vector<std::shared_ptr<Metric>>& metrics() const { return metrics_; }

  // One training step on a batch: forward under a tape, loss, gradients, optimizer update,
  // metric updates. Returns the batch loss and the running metric values.
  virtual Logs train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y);
  // Forward in inference mode, loss and metric updates.
  virtual Logs test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y);

  History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, FitOptions options = {});
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {}) {
    return fit(std::vector<Tensor>{x}, std::vector<Tensor>{y}, std::move(options));
  }
  // Elements of the dataset are batches {x..., y...} with `inputs` x components.
  History fit(const data::Dataset& batches, FitOptions options = {}, size_t inputs = 1);

  Logs evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y, int64_t batch_size = 32,
                int verbose = 0);
  Logs evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 32, int verbose = 0) {
    return evaluate(std::vector<Tensor>{x}, std::vector<Tensor>{y}, batch_size, verbose);
  }
  Logs evaluate(const data::Dataset& batches, size_t inputs = 1, int verbose = 0);

  // Outputs on x in inference mode, batch by batch, concatenated.
  std::vector<Tensor> predict_all(const std::vector<Tensor>& x, int64_t batch_size = 32);
  Tensor predict(const Tensor& x, int64_t batch_size = 32) {
    return predict_all({x}, batch_size).at(0);
  }

  // Builds every layer by running a batch of one zero sample of the given shape (without the
  // batch axis) through the model in inference mode.
  void build_for(const std::vector<Dims>& sample_shapes, DType dtype = DType::F32);

  // Weights (and, when asked, the optimizer's state under "optimizer/...") as safetensors,
  // written atomically. load_weights checks names, shapes and dtypes first and reports every
  // mismatch; the model must be built. The optimizer's state is restored when the file has it
  // and the model is compiled.
  void save_weights(const std::filesystem::path& path, bool include_optimizer = true) const;
  void load_weights(const std::filesystem::path& path);

  // A table of layers, output shapes where known, and parameter counts.
  std::string summary() const;

  // Set by callbacks (EarlyStopping) to end fit after the current epoch.
  bool stop_training = false;

 private:
  Tensor total_loss(const std::vector<Tensor>& y, const std::vector<Tensor>& y_pred,
                    bool with_regularization) const;
  void update_metrics(const std::vector<Tensor>& y, const std::vector<Tensor>& y_pred);
  Logs metric_logs(double loss) const;
  void check_compiled(const char* what) const;
  std::vector<Tensor> placed(const std::vector<Tensor>& tensors) const;
  History run_fit(BatchSource& train, BatchSource* validation, FitOptions& options);
  Logs run_evaluate(BatchSource& batches, int verbose);

  std::shared_ptr<Optimizer> optimizer_;
  std::vector<std::shared_ptr<Loss>> losses_;
  std::vector<std::shared_ptr<Metric>> metrics_;
};

// Layers applied in order.
class Sequential : public Model {
 public:
  explicit Sequential(std::vector<LayerPtr> layers = {}, std::string name = "");
  void add(LayerPtr layer);
  size_t size() const { return layers_.size(); }
  const LayerPtr& layer(size_t i) const { return layers_.at(i); }

 protected:
  Tensor forward(const std::vector<Tensor>& inputs) override;

 private:
  std::vector<LayerPtr> layers_;
};

}  // namespace tenflowers::nn
