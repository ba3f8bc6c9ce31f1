#include "tenflowers/core/error.hpp"

namespace tenflowers {

std::string format_dims(const std::vector<int64_t>& dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(dims[i]);
  }
  return out + "]";
}

ShapeError::ShapeError(std::string message, std::vector<int64_t> expected,
                       std::vector<int64_t> actual)
    : TensorError(ErrorCode::Shape, message + " (expected " + format_dims(expected) + ", got " +
                                        format_dims(actual) + ")"),
      expected_(std::move(expected)),
      actual_(std::move(actual)) {}

}  // namespace tenflowers
