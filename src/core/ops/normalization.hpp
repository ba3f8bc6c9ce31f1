#pragma once
// How layer_norm and layer_norm_backward (normalization.cpp) see their input: rows of the
// normalized axes [axis, rank), shared with the kernels.
#include <cstdint>
#include <string_view>

#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/dtype.hpp"

namespace tenflowers {

struct LayerNormRows {
  int64_t axis = 0;  // the first normalized axis, normalized
  int64_t rows = 1;  // product of the extents before it
  int64_t size = 1;  // elements per row: product of the normalized extents
};

// Throws ShapeError, naming `op`, for a 0-d input or empty rows, IndexError for an axis out of
// range.
LayerNormRows layer_norm_rows(const Dims& shape, int64_t axis, std::string_view op);

// The dtype of the per-row mean and rstd: f64 for f64 inputs, else f32 (the 16-bit floats
// accumulate in f32).
inline DType layer_norm_stats_dtype(DType x) {
  return x == DType::F64 ? DType::F64 : DType::F32;
}

}  // namespace tenflowers
