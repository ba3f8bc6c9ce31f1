#include "tenflowers/nn/callbacks.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "tenflowers/core/error.hpp"
#include "tenflowers/nn/model.hpp"

namespace tenflowers::nn {

// ---- History ----------------------------------------------------------------------------------

void History::on_epoch_end(Model&, int64_t, Logs& logs) {
  epochs_.push_back(logs);
  for (const auto& [k, v] : logs.items()) series_[k].push_back(v);
}

const std::vector<double>& History::operator[](const std::string& key) const {
  auto it = series_.find(key);
  if (it != series_.end()) return it->second;
  std::string keys;
  for (const auto& [k, v] : series_) keys += (keys.empty() ? "" : ", ") + k;
  throw InvalidArgument("History has no figure '" + key +
                        "'; it has: " + (keys.empty() ? "none" : keys));
}

// ---- Monitor ----------------------------------------------------------------------------------

namespace {

bool larger_is_better(const std::string& key) {
  for (const char* word : {"acc", "auc", "precision", "recall", "f1"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Monitor::Monitor(std::string key, Mode mode, double min_delta)
    : key_(std::move(key)),
      maximize_(mode == Mode::Max || (mode == Mode::Auto && larger_is_better(key_))),
      min_delta_(std::abs(min_delta)) {}

bool Monitor::improved(const Logs& logs) {
  const double v = logs.at(key_);
  const bool better = !best_ || (maximize_ ? v > *best_ + min_delta_ : v < *best_ - min_delta_);
  if (better) best_ = v;
  return better;
}

// ---- EarlyStopping ----------------------------------------------------------------------------

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), monitor_(options_.monitor, options_.mode, options_.min_delta) {
  TF_CHECK(options_.patience >= 0, InvalidArgument,
           "EarlyStopping: patience must be non-negative, got ", options_.patience);
}

void EarlyStopping::on_train_begin(Model&, int64_t, std::optional<int64_t>) {
  monitor_ = Monitor(options_.monitor, options_.mode, options_.min_delta);
  wait_ = 0;
  stopped_epoch_.reset();
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Model& model, int64_t epoch, Logs& logs) {
  if (monitor_.improved(logs)) {
    wait_ = 0;
    if (options_.restore_best_weights) {
      best_weights_.clear();
      for (const Variable& v : model.variables()) best_weights_.push_back(v.handle().copy());
    }
    return;
  }
  if (++wait_ > options_.patience) {
    stopped_epoch_ = epoch;
    model.stop_training = true;
  }
}

void EarlyStopping::on_train_end(Model& model) {
  if (!options_.restore_best_weights || !stopped_epoch_ || best_weights_.empty()) return;
  const std::vector<Variable> vars = model.variables();
  for (size_t i = 0; i < vars.size() && i < best_weights_.size(); ++i) {
    Variable v = vars[i];
    v.assign(best_weights_[i]);
  }
}

// ---- ModelCheckpoint --------------------------------------------------------------------------

ModelCheckpoint::ModelCheckpoint(std::string path, ModelCheckpointOptions options)
    : path_(std::move(path)),
      options_(std::move(options)),
      monitor_(options_.monitor, options_.mode, 0.0) {
  TF_CHECK(!path_.empty(), InvalidArgument, "ModelCheckpoint: the path is empty");
}

void ModelCheckpoint::on_epoch_end(Model& model, int64_t epoch, Logs& logs) {
  if (options_.save_best_only && !monitor_.improved(logs)) return;
  std::string path = path_;
  const std::string token = "{epoch}";
  for (size_t at = path.find(token); at != std::string::npos; at = path.find(token)) {
    path.replace(at, token.size(), std::to_string(epoch + 1));
  }
  model.save_weights(path, options_.include_optimizer);
}

// ---- LearningRateScheduler --------------------------------------------------------------------

LearningRateScheduler::LearningRateScheduler(std::function<double(int64_t, double)> schedule)
    : schedule_(std::move(schedule)) {
  TF_CHECK(static_cast<bool>(schedule_), InvalidArgument,
           "LearningRateScheduler: the schedule is empty");
}

void LearningRateScheduler::on_epoch_begin(Model& model, int64_t epoch) {
  Optimizer& opt = model.optimizer();
  const double lr = schedule_(epoch, opt.learning_rate());
  TF_CHECK(std::isfinite(lr) && lr >= 0, InvalidArgument,
           "LearningRateScheduler: the schedule gave an invalid rate ", lr, " for epoch ", epoch);
  opt.set_learning_rate(lr);
}

void LearningRateScheduler::on_epoch_end(Model& model, int64_t, Logs& logs) {
  logs.set("learning_rate", model.optimizer().learning_rate());
}

// ---- ReduceLROnPlateauCallback ----------------------------------------------------------------

ReduceLROnPlateauCallback::ReduceLROnPlateauCallback(std::string monitor,
                                                     ReduceLROnPlateauOptions options)
    : monitor_(std::move(monitor)), options_(options) {}

void ReduceLROnPlateauCallback::on_train_begin(Model& model, int64_t, std::optional<int64_t>) {
  plateau_.emplace(model.optimizer(), options_);
}

void ReduceLROnPlateauCallback::on_epoch_end(Model& model, int64_t, Logs& logs) {
  TF_CHECK(plateau_.has_value(), InvalidArgument,
           "ReduceLROnPlateauCallback: on_epoch_end before on_train_begin");
  plateau_->update(logs.at(monitor_));
  logs.set("learning_rate", model.optimizer().learning_rate());
}

// ---- CSVLogger --------------------------------------------------------------------------------

CSVLogger::CSVLogger(std::filesystem::path path, bool append)
    : path_(std::move(path)), append_(append) {}

void CSVLogger::on_train_begin(Model&, int64_t, std::optional<int64_t>) {
  columns_.clear();
  if (!append_) {
    std::ofstream out(path_, std::ios::trunc);
    TF_CHECK(out.good(), IoError, "CSVLogger: cannot write '", path_.string(), "'");
  }
}

void CSVLogger::on_epoch_end(Model&, int64_t epoch, Logs& logs) {
  std::ofstream out(path_, std::ios::app);
  TF_CHECK(out.good(), IoError, "CSVLogger: cannot write '", path_.string(), "'");
  if (columns_.empty()) {
    const bool has_header =
        append_ && std::filesystem::exists(path_) && std::filesystem::file_size(path_) > 0;
    for (const auto& [k, v] : logs.items()) columns_.push_back(k);
    if (!has_header) {
      out << "epoch";
      for (const std::string& c : columns_) out << ',' << c;
      out << '\n';
    }
  }
  out << epoch;
  char buf[32];
  for (const std::string& c : columns_) {
    const std::optional<double> v = logs.get(c);
    std::snprintf(buf, sizeof buf, "%.17g", v ? *v : std::nan(""));
    out << ',' << buf;
  }
  out << '\n';
  TF_CHECK(out.good(), IoError, "CSVLogger: writing '", path_.string(), "' failed");
}

// ---- ProgressBar ------------------------------------------------------------------------------

namespace {

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds >= 3600) {
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(seconds / 3600),
                  static_cast<int>(std::fmod(seconds, 3600) / 60),
                  static_cast<int>(std::fmod(seconds, 60)));
  } else if (seconds >= 60) {
    std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(seconds / 60),
                  static_cast<int>(std::fmod(seconds, 60)));
  } else {
    std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  }
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

ProgressBar::ProgressBar() : ProgressBar(std::cout, ::isatty(STDOUT_FILENO) == 1) {}

void ProgressBar::on_train_begin(Model&, int64_t epochs, std::optional<int64_t> steps) {
  epochs_ = epochs;
  steps_ = steps;
}

void ProgressBar::on_epoch_begin(Model&, int64_t epoch) {
  out_ << "Epoch " << epoch + 1 << '/' << epochs_ << '\n' << std::flush;
  epoch_start_ = last_draw_ = Clock::now();
}

void ProgressBar::on_batch_end(Model&, int64_t batch, const Logs& logs) {
  if (!terminal_) return;
  const auto now = Clock::now();
  const bool last = steps_ && batch + 1 == *steps_;
  if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const int64_t done = batch + 1;
  std::string line;
  if (steps_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / std::max<int64_t>(*steps_, 1));
    line = std::to_string(done) + "/" + std::to_string(*steps_) + " [" +
           std::string(static_cast<size_t>(std::max(filled - 1, 0)), '=') +
           (filled > 0 ? (done == *steps_ ? "=" : ">") : "") +
           std::string(static_cast<size_t>(kWidth - std::max(filled, 0)), '.') + "]";
    const double eta = elapsed / static_cast<double>(done) * static_cast<double>(*steps_ - done);
    line += " - ETA: " + format_duration(eta);
  } else {
    line = std::to_string(done) + " steps - " + format_duration(elapsed);
  }
  if (!logs.empty()) line += " - " + logs.str();
  out_ << '\r' << line << "\033[K" << std::flush;
}

void ProgressBar::on_epoch_end(Model&, int64_t, Logs& logs) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start_).count();
  if (terminal_) out_ << '\r';
  char per_step[32] = "";
  if (steps_ && *steps_ > 0) {
    std::snprintf(per_step, sizeof per_step, " %.0fms/step",
                  1000.0 * elapsed / static_cast<double>(*steps_));
  }
  std::string line =
      (steps_ ? std::to_string(*steps_) + "/" + std::to_string(*steps_) + " - " : "") +
      format_duration(elapsed) + per_step;
  if (!logs.empty()) line += " - " + logs.str();
  out_ << line << (terminal_ ? "\033[K" : "") << '\n' << std::flush;
}

}  // namespace tenflowers::nn
