#include "tenflowers/nn/logs.hpp"

#include <cstdio>

#include "tenflowers/core/error.hpp"

namespace tenflowers::nn {

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  items_.emplace_back(key, value);
}

std::optional<double> Logs::get(const std::string& key) const {
  for (const auto& [k, v] : items_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

double Logs::at(const std::string& key) const {
  if (auto v = get(key)) return *v;
  std::string keys;
  for (const auto& [k, v] : items_) keys += (keys.empty() ? "" : ", ") + k;
  throw InvalidArgument("no figure named '" + key +
                        "' in the logs; they have: " + (keys.empty() ? "none" : keys));
}

std::string Logs::str() const {
  std::string out;
  char buf[64];
  for (const auto& [k, v] : items_) {
    std::snprintf(buf, sizeof buf, "%.4f", v);
    out += (out.empty() ? "" : " - ") + k + ": " + buf;
  }
  return out;
}

}  // namespace tenflowers::nn
