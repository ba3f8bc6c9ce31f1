#pragma once
// Argument checks shared by the optimizers and schedules: each throws InvalidArgument naming the
// argument and the accepted range.
#include <cmath>

#include "tenflowers/core/error.hpp"

namespace tenflowers::nn::detail {

inline void check_non_negative(double value, const char* what) {
  TF_CHECK(std::isfinite(value) && value >= 0.0, InvalidArgument, what,
           " must be finite and >= 0, got ", value);
}

inline void check_positive(double value, const char* what) {
  TF_CHECK(std::isfinite(value) && value > 0.0, InvalidArgument, what,
           " must be finite and > 0, got ", value);
}

// lo <= value < hi, or lo <= value <= hi when `include_hi`.
inline void check_range(double value, double lo, double hi, bool include_hi, const char* what) {
  const bool ok = value >= lo && (include_hi ? value <= hi : value < hi);
  TF_CHECK(ok, InvalidArgument, what, " must be in [", lo, ", ", hi, include_hi ? "]" : ")",
           ", got ", value);
}

}  // namespace tenflowers::nn::detail
