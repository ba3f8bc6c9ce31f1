#include "tenflowers/core/attrs.hpp"

#include <sstream>

#include "tenflowers/core/error.hpp"

namespace tenflowers {

Attrs& Attrs::set(std::string_view name, AttrValue value) {
  for (auto& [key, existing] : items_) {
    if (key == name) {
      existing = std::move(value);
      return *this;
    }
  }
  items_.emplace_back(std::string(name), std::move(value));
  return *this;
}

const AttrValue* Attrs::find(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return &value;
  }
  return nullptr;
}

template <class T>
const T& Attrs::get_as(std::string_view name, const char* type_name) const {
  const AttrValue* value = find(name);
  if (!value) throw InvalidArgument("missing attribute '" + std::string(name) + "'");
  const T* typed = std::get_if<T>(value);
  if (!typed) {
    throw InvalidArgument("attribute '" + std::string(name) + "' is not of type " + type_name);
  }
  return *typed;
}

int64_t Attrs::get_int(std::string_view name) const {
  return get_as<int64_t>(name, "int");
}
double Attrs::get_float(std::string_view name) const {
  if (const AttrValue* v = find(name); v && std::holds_alternative<int64_t>(*v)) {
    return static_cast<double>(std::get<int64_t>(*v));
  }
  return get_as<double>(name, "float");
}
bool Attrs::get_bool(std::string_view name) const {
  return get_as<bool>(name, "bool");
}
const std::string& Attrs::get_string(std::string_view name) const {
  return get_as<std::string>(name, "string");
}
const std::vector<int64_t>& Attrs::get_ints(std::string_view name) const {
  return get_as<std::vector<int64_t>>(name, "int list");
}
const std::vector<double>& Attrs::get_floats(std::string_view name) const {
  return get_as<std::vector<double>>(name, "float list");
}
DType Attrs::get_dtype(std::string_view name) const {
  return get_as<DType>(name, "dtype");
}
Device Attrs::get_device(std::string_view name) const {
  return get_as<Device>(name, "device");
}

int64_t Attrs::get_int_or(std::string_view name, int64_t fallback) const {
  return has(name) ? get_int(name) : fallback;
}
double Attrs::get_float_or(std::string_view name, double fallback) const {
  return has(name) ? get_float(name) : fallback;
}
bool Attrs::get_bool_or(std::string_view name, bool fallback) const {
  return has(name) ? get_bool(name) : fallback;
}

std::string Attrs::str() const {
  std::ostringstream out;
  bool first = true;
  for (const auto& [key, value] : items_) {
    if (!first) out << ", ";
    first = false;
    out << key << "=";
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::vector<int64_t>> ||
                        std::is_same_v<V, std::vector<double>>) {
            out << "[";
            for (size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << v[i];
            out << "]";
          } else if constexpr (std::is_same_v<V, DType>) {
            out << dtype_name(v);
          } else if constexpr (std::is_same_v<V, Device>) {
            out << v.str();
          } else if constexpr (std::is_same_v<V, bool>) {
            out << (v ? "true" : "false");
          } else {
            out << v;
          }
        },
        value);
  }
  return out.str();
}

}  // namespace tenflowers
