#include "tenflowers/core/dtype.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "tenflowers/core/error.hpp"

namespace tenflowers {
namespace {
constexpr std::array<std::string_view, kNumDTypes> kNames = {"bool", "u8",   "i8",  "i32", "i64",
                                                             "f16",  "bf16", "f32", "f64"};
}  // namespace

void detail::throw_bad_dtype(DType dtype) {
  throw std::out_of_range("invalid dtype " + std::to_string(static_cast<int>(dtype)));
}
std::string_view dtype_name(DType dtype) {
  return kNames.at(static_cast<size_t>(dtype));
}

DType dtype_from_name(std::string_view name) {
  for (int i = 0; i < kNumDTypes; ++i) {
    if (kNames[i] == name) return static_cast<DType>(i);
  }
  if (name == "float32" || name == "float") return DType::F32;
  if (name == "float64" || name == "double") return DType::F64;
  if (name == "float16" || name == "half") return DType::F16;
  if (name == "bfloat16") return DType::BF16;
  if (name == "int32") return DType::I32;
  if (name == "int64") return DType::I64;
  if (name == "int8") return DType::I8;
  if (name == "uint8") return DType::U8;
  throw InvalidArgument("unknown dtype name '" + std::string(name) +
                        "'; expected one of bool, u8, i8, i32, i64, f16, bf16, f32, f64");
}

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const bool fa = is_floating(a), fb = is_floating(b);
  if (fa && fb) {
    if ((a == DType::F16 && b == DType::BF16) || (a == DType::BF16 && b == DType::F16)) {
      return DType::F32;
    }
    return static_cast<int>(a) > static_cast<int>(b) ? a : b;
  }
  if (fa) return a;
  if (fb) return b;
  if (a == DType::Bool) return b;
  if (b == DType::Bool) return a;
  if ((a == DType::U8 && b == DType::I8) || (a == DType::I8 && b == DType::U8)) return DType::I32;
  return static_cast<int>(a) > static_cast<int>(b) ? a : b;
}

void throw_unsupported_dtype(std::string_view what, DType dtype) {
  throw DTypeError(std::string(what) + " does not support dtype " + std::string(dtype_name(dtype)));
}

}  // namespace tenflowers
