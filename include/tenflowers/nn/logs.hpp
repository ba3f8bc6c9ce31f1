#pragma once
// Logs: the named figures of a step or an epoch ("loss", "accuracy", "val_loss", ...), in the
// order they were first reported.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tenflowers::nn {

class Logs {
 public:
  void set(const std::string& key, double value);
  std::optional<double> get(const std::string& key) const;
  // The value, or InvalidArgument listing the keys there are.
  double at(const std::string& key) const;
  bool contains(const std::string& key) const { return get(key).has_value(); }
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  // "loss: 0.3412 - accuracy: 0.8812"
  std::string str() const;

 private:
  std::vector<std::pair<std::string, double>> items_;
};

}  // namespace tenflowers::nn
