#pragma once
// Callbacks of Model::fit (Keras' set): History, EarlyStopping, ModelCheckpoint,
// LearningRateScheduler, ReduceLROnPlateau, CSVLogger and the progress bar.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tenflowers/core/tensor.hpp"
#include "tenflowers/nn/logs.hpp"
#include "tenflowers/nn/lr_schedule.hpp"

namespace tenflowers::nn {

class Model;

class Callback {
 public:
  virtual ~Callback() = default;
  // steps_per_epoch is unknown (nullopt) for datasets of unknown size.
  virtual void on_train_begin(Model& model, int64_t epochs,
                              std::optional<int64_t> steps_per_epoch) {}
  virtual void on_epoch_begin(Model& model, int64_t epoch) {}
  virtual void on_batch_end(Model& model, int64_t batch, const Logs& logs) {}
  // logs holds the epoch's training figures and the "val_" ones; callbacks may add to it.
  virtual void on_epoch_end(Model& model, int64_t epoch, Logs& logs) {}
  virtual void on_train_end(Model& model) {}
};

// Every epoch's figures.
class History : public Callback {
 public:
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;
  // The values of one figure across epochs (InvalidArgument for an unknown name).
  const std::vector<double>& operator[](const std::string& key) const;
  const std::vector<Logs>& epochs() const { return epochs_; }

 private:
  std::vector<Logs> epochs_;
  std::map<std::string, std::vector<double>> series_;
};

// Whether larger or smaller values of a monitored figure are better; Auto: larger for names
// containing "acc", "auc", "precision", "recall" or "f1", smaller otherwise.
enum class Mode { Auto, Min, Max };

// Tracks the best value of a monitored figure.
class Monitor {
 public:
  Monitor(std::string key, Mode mode, double min_delta);
  const std::string& key() const { return key_; }
  // Reads the figure from logs (InvalidArgument naming the available figures if absent);
  // returns whether it improves on the best so far by more than min_delta, recording it if so.
  bool improved(const Logs& logs);
  std::optional<double> best() const { return best_; }

 private:
  std::string key_;
  bool maximize_;
  double min_delta_;
  std::optional<double> best_;
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int64_t patience = 0;
  Mode mode = Mode::Auto;
  bool restore_best_weights = false;
};

// Stops training when the monitored figure has not improved for `patience` epochs.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(Model& model, int64_t epochs, std::optional<int64_t> steps) override;
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;
  void on_train_end(Model& model) override;
  // The epoch at which training was stopped, if it was.
  std::optional<int64_t> stopped_epoch() const { return stopped_epoch_; }

 private:
  EarlyStoppingOptions options_;
  Monitor monitor_;
  int64_t wait_ = 0;
  std::optional<int64_t> stopped_epoch_;
  std::vector<Tensor> best_weights_;  // copies of the variables at the best epoch
};

struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  Mode mode = Mode::Auto;
  bool save_best_only = false;
  bool include_optimizer = true;
};

// Saves the model's weights after each epoch (or each improvement); "{epoch}" in the path is
// replaced by the 1-based epoch number.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string path, ModelCheckpointOptions options = {});
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;

 private:
  std::string path_;
  ModelCheckpointOptions options_;
  Monitor monitor_;
};

// Sets the learning rate at each epoch's start to schedule(epoch, current rate).
class LearningRateScheduler : public Callback {
 public:
  explicit LearningRateScheduler(std::function<double(int64_t epoch, double lr)> schedule);
  void on_epoch_begin(Model& model, int64_t epoch) override;
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;

 private:
  std::function<double(int64_t, double)> schedule_;
};

// Keras' ReduceLROnPlateau callback: feeds the monitored figure (the mode in the options says
// whether lower or higher is better) to a ReduceLROnPlateau over the model's optimizer at each
// epoch's end, and logs the rate as "learning_rate".
class ReduceLROnPlateauCallback : public Callback {
 public:
  explicit ReduceLROnPlateauCallback(std::string monitor = "val_loss",
                                     ReduceLROnPlateauOptions options = {});
  void on_train_begin(Model& model, int64_t epochs, std::optional<int64_t> steps) override;
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;

 private:
  std::string monitor_;
  ReduceLROnPlateauOptions options_;
  std::optional<ReduceLROnPlateau> plateau_;
};

// One row per epoch: epoch, then each figure (the header is written with the first row).
class CSVLogger : public Callback {
 public:
  explicit CSVLogger(std::filesystem::path path, bool append = false);
  void on_train_begin(Model& model, int64_t epochs, std::optional<int64_t> steps) override;
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;

 private:
  std::filesystem::path path_;
  bool append_;
  std::vector<std::string> columns_;
};

// Keras' progress bar on a terminal ("12/469 [>....] - ETA: 14s - loss: 0.51"), a plain line
// per epoch otherwise.
class ProgressBar : public Callback {
 public:
  explicit ProgressBar(std::ostream& out, bool terminal);
  // Writes to stdout, as a bar when stdout is a terminal.
  ProgressBar();
  void on_train_begin(Model& model, int64_t epochs, std::optional<int64_t> steps) override;
  void on_epoch_begin(Model& model, int64_t epoch) override;
  void on_batch_end(Model& model, int64_t batch, const Logs& logs) override;
  void on_epoch_end(Model& model, int64_t epoch, Logs& logs) override;

 private:
  using Clock = std::chrono::steady_clock;
  std::ostream& out_;
  bool terminal_;
  int64_t epochs_ = 0;
  std::optional<int64_t> steps_;
  Clock::time_point epoch_start_, last_draw_;
};

}  // namespace tenflowers::nn
