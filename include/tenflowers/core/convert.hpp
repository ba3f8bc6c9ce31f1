#pragma once
// Element conversion between dtypes, defined for every input: float to integer saturates to the
// target's range and maps NaN to 0 (a plain C++ cast is undefined behaviour there).
#include <cmath>
#include <limits>
#include <type_traits>

#include "tenflowers/core/half.hpp"

namespace tenflowers {

template <class To, class From>
inline To convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (std::is_same_v<To, bool>) {
    if constexpr (std::is_same_v<From, Half> || std::is_same_v<From, BFloat16>) {
      return static_cast<float>(value) != 0.0f;
    } else {
      return value != From(0);
    }
  } else if constexpr (std::is_integral_v<To> &&
                       (std::is_floating_point_v<From> || std::is_same_v<From, Half> ||
                        std::is_same_v<From, BFloat16>)) {
    double v;
    if constexpr (std::is_floating_point_v<From>) {
      v = static_cast<double>(value);
    } else {
      v = static_cast<double>(static_cast<float>(value));
    }
    if (std::isnan(v)) return To(0);
    constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<To>::max());
    if (v <= lo) return std::numeric_limits<To>::min();
    if (v >= hi) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) {
    return To(static_cast<float>(value));
  } else if constexpr (std::is_same_v<From, Half> || std::is_same_v<From, BFloat16>) {
    return static_cast<To>(static_cast<float>(value));
  } else {
    return static_cast<To>(value);
  }
}

}  // namespace tenflowers
