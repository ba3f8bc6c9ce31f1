#pragma once
// Op attributes: the non-tensor arguments of an op call (axes, strides, a dtype...). Graph nodes
// store the same object, so a Session runs an op exactly as eager mode would.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tenflowers/core/device.hpp"
#include "tenflowers/core/dtype.hpp"

namespace tenflowers {

using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>,
                               std::vector<double>, DType, Device>;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items) : items_(items) {}

  Attrs& set(std::string_view name, AttrValue value);
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const AttrValue* find(std::string_view name) const;

  // Typed reads; a missing attribute or a value of another type throws InvalidArgument.
  int64_t get_int(std::string_view name) const;
  double get_float(std::string_view name) const;  // accepts an int attribute too
  bool get_bool(std::string_view name) const;
  const std::string& get_string(std::string_view name) const;
  const std::vector<int64_t>& get_ints(std::string_view name) const;
  const std::vector<double>& get_floats(std::string_view name) const;
  DType get_dtype(std::string_view name) const;
  Device get_device(std::string_view name) const;

  int64_t get_int_or(std::string_view name, int64_t fallback) const;
  double get_float_or(std::string_view name, double fallback) const;
  bool get_bool_or(std::string_view name, bool fallback) const;

  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  std::string str() const;  // "axis=1, keepdims=true"

 private:
  template <class T>
  const T& get_as(std::string_view name, const char* type_name) const;
  std::vector<std::pair<std::string, AttrValue>> items_;
};

}  // namespace tenflowers
