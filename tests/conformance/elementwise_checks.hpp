#pragma once
// Helpers shared by the unary and binary elementwise checks: random values (optionally on a
// grid, so comparisons see ties), tensors of those values in a given layout, broadcastable
// shapes and integer wraparound for references.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing::elementwise {

inline const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};

inline std::string describe(DType dtype, Layout layout) {
  static const char* const kNames[] = {"contiguous", "transposed", "strided"};
  return std::string(dtype_name(dtype)) + ", " + kNames[static_cast<int>(layout)];
}

inline std::vector<int64_t> random_shape(Rng& rng, int64_t rank, int64_t max_extent = 5) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(1, max_extent);
  return shape;
}

// Values in [lo, hi): integers for integer dtypes (non-negative for u8), 0/1 for bool, reals
// otherwise, rounded to multiples of `step` when step > 0.
inline Ref random_values(Rng& rng, const std::vector<int64_t>& shape, DType dtype, double lo,
                         double hi, double step = 0.0) {
  Ref values(shape);
  if (dtype == DType::U8) lo = std::max(lo, 0.0);
  for (double& v : values.data) {
    if (dtype == DType::Bool) {
      v = static_cast<double>(rng.integer(0, 1));
    } else if (is_integral(dtype)) {
      v = static_cast<double>(rng.integer(static_cast<int64_t>(std::ceil(lo)),
                                          static_cast<int64_t>(std::ceil(hi)) - 1));
    } else {
      v = rng.uniform(lo, hi);
      if (step > 0) v = std::round(v / step) * step;
    }
  }
  return values;
}

// A tensor holding `values` (converted to dtype) laid out as asked: Transposed stores the
// reversed-axes array contiguously and returns the permuted view; Strided stores the values
// interleaved with garbage along the last axis and returns the step-2 slice.
inline Tensor make_tensor(const Ref& values, DType dtype, Layout layout) {
  const auto rank = static_cast<int64_t>(values.shape.size());
  if (layout == Layout::Transposed && rank >= 2) {
    std::vector<int64_t> reversed(values.shape.rbegin(), values.shape.rend());
    Ref stored(reversed);
    for_each_index(values.shape, [&](const std::vector<int64_t>& index) {
      stored.at(std::vector<int64_t>(index.rbegin(), index.rend())) = values.at(index);
    });
    Dims axes;
    for (int64_t i = rank - 1; i >= 0; --i) axes.push_back(i);
    return from_ref(stored, dtype).permute(axes);
  }
  if (layout == Layout::Strided && rank >= 1) {
    std::vector<int64_t> wide = values.shape;
    wide.back() *= 2;
    Ref stored(wide, std::vector<double>(static_cast<size_t>(Ref(wide).numel()), 77.0));
    for (size_t i = 0; i < values.data.size(); ++i) stored.data[2 * i] = values.data[i];
    return from_ref(stored, dtype).slice(rank - 1, 0, {}, 2);
  }
  return from_ref(values, dtype);
}

// v wrapped into the range of an integer dtype (two's complement), as integer arithmetic does.
inline double wrap_to(DType dtype, double v) {
  if (!is_integral(dtype)) return v;
  const double modulus = std::ldexp(1.0, static_cast<int>(8 * dtype_size(dtype)));
  const double low = is_signed(dtype) ? -modulus / 2 : 0.0;
  if (v >= low && v < low + modulus) return v;  // in range (and exact for i64)
  v = std::fmod(v, modulus);
  if (v < 0) v += modulus;
  if (is_signed(dtype) && v >= modulus / 2) v -= modulus;
  return v;
}

// Shapes for a and b that broadcast together (extent-1 axes and missing leading axes on
// either side, 0-d operands included).
inline std::pair<std::vector<int64_t>, std::vector<int64_t>> broadcast_pair(Rng& rng) {
  const std::vector<int64_t> out = random_shape(rng, rng.integer(0, 4));
  std::vector<int64_t> a = out, b = out;
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t pick = rng.integer(0, 3);
    if (pick == 0) a[i] = 1;
    if (pick == 1) b[i] = 1;
  }
  a.erase(a.begin(), a.begin() + rng.integer(0, static_cast<int64_t>(a.size()) / 2));
  b.erase(b.begin(), b.begin() + rng.integer(0, static_cast<int64_t>(b.size()) / 2));
  if (rng.integer(0, 5) == 0) (rng.integer(0, 1) ? a : b).clear();
  return {a, b};
}

// The NumPy broadcast of any number of reference shapes.
inline std::vector<int64_t> broadcast_all(const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<int64_t> out;
  for (const auto& s : shapes) out = broadcast(out, s);
  return out;
}

}  // namespace tenflowers::testing::elementwise
