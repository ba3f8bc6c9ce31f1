#pragma once
// Runtime element types, their C++ counterparts, promotion rules and the dispatch macro that
// turns a runtime dtype into a compile-time scalar type inside kernels.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tenflowers/core/half.hpp"

namespace tenflowers {

enum class DType : uint8_t { Bool, U8, I8, I32, I64, F16, BF16, F32, F64 };
inline constexpr int kNumDTypes = 9;

namespace detail {
[[noreturn]] void throw_bad_dtype(DType dtype);
}
// Bytes per element; inline, since every kernel and allocation asks.
inline size_t dtype_size(DType dtype) {
  constexpr size_t kSizes[kNumDTypes] = {1, 1, 1, 4, 8, 2, 2, 4, 8};
  const auto index = static_cast<size_t>(dtype);
  if (index >= kNumDTypes) [[unlikely]]
    detail::throw_bad_dtype(dtype);
  return kSizes[index];
}
std::string_view dtype_name(DType dtype);      // "f32", "i64", ...
DType dtype_from_name(std::string_view name);  // throws InvalidArgument for unknown names

inline bool is_floating(DType d) {
  return d == DType::F16 || d == DType::BF16 || d == DType::F32 || d == DType::F64;
}
inline bool is_integral(DType d) {  // bool excluded
  return d == DType::U8 || d == DType::I8 || d == DType::I32 || d == DType::I64;
}
inline bool is_signed(DType d) {
  return d != DType::U8 && d != DType::Bool;
}

// NumPy/PyTorch-style promotion: bool < integers < floats; u8 with i8 gives i32 (we have no i16);
// f16 with bf16 gives f32.
DType promote_types(DType a, DType b);

// The dtype a floating-point op computes in for an integer or bool input (true division, exp, ...).
inline DType to_floating(DType d) {
  return is_floating(d) ? d : DType::F32;
}

template <class T>
struct dtype_of;
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::U8;
};
template <>
struct dtype_of<int8_t> {
  static constexpr DType value = DType::I8;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::I32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::I64;
};
template <>
struct dtype_of<Half> {
  static constexpr DType value = DType::F16;
};
template <>
struct dtype_of<BFloat16> {
  static constexpr DType value = DType::BF16;
};
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::F32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::F64;
};
template <class T>
inline constexpr DType dtype_v = dtype_of<T>::value;

// The type kernels accumulate and compute in: float for the 16-bit floats, the type itself else.
template <class T>
struct compute_type {
  using type = T;
};
template <>
struct compute_type<Half> {
  using type = float;
};
template <>
struct compute_type<BFloat16> {
  using type = float;
};
template <class T>
using compute_t = typename compute_type<T>::type;

[[noreturn]] void throw_unsupported_dtype(std::string_view what, DType dtype);

}  // namespace tenflowers

#define TF_DTYPE_CASE_(enum_value, type, ...) \
  case ::tenflowers::DType::enum_value: {     \
    using scalar_t = type;                    \
    __VA_ARGS__();                            \
    break;                                    \
  }

// TF_DISPATCH_ALL(dtype, "op", [&] { use scalar_t; }) runs the lambda with scalar_t bound.
#define TF_DISPATCH_ALL(DTYPE, WHAT, ...)                       \
  do {                                                          \
    switch (DTYPE) {                                            \
      TF_DTYPE_CASE_(Bool, bool, __VA_ARGS__)                   \
      TF_DTYPE_CASE_(U8, uint8_t, __VA_ARGS__)                  \
      TF_DTYPE_CASE_(I8, int8_t, __VA_ARGS__)                   \
      TF_DTYPE_CASE_(I32, int32_t, __VA_ARGS__)                 \
      TF_DTYPE_CASE_(I64, int64_t, __VA_ARGS__)                 \
      TF_DTYPE_CASE_(F16, ::tenflowers::Half, __VA_ARGS__)      \
      TF_DTYPE_CASE_(BF16, ::tenflowers::BFloat16, __VA_ARGS__) \
      TF_DTYPE_CASE_(F32, float, __VA_ARGS__)                   \
      TF_DTYPE_CASE_(F64, double, __VA_ARGS__)                  \
      default:                                                  \
        ::tenflowers::throw_unsupported_dtype(WHAT, DTYPE);     \
    }                                                           \
  } while (0)

// Numeric types (everything but bool).
#define TF_DISPATCH_NUMERIC(DTYPE, WHAT, ...)                   \
  do {                                                          \
    switch (DTYPE) {                                            \
      TF_DTYPE_CASE_(U8, uint8_t, __VA_ARGS__)                  \
      TF_DTYPE_CASE_(I8, int8_t, __VA_ARGS__)                   \
      TF_DTYPE_CASE_(I32, int32_t, __VA_ARGS__)                 \
      TF_DTYPE_CASE_(I64, int64_t, __VA_ARGS__)                 \
      TF_DTYPE_CASE_(F16, ::tenflowers::Half, __VA_ARGS__)      \
      TF_DTYPE_CASE_(BF16, ::tenflowers::BFloat16, __VA_ARGS__) \
      TF_DTYPE_CASE_(F32, float, __VA_ARGS__)                   \
      TF_DTYPE_CASE_(F64, double, __VA_ARGS__)                  \
      default:                                                  \
        ::tenflowers::throw_unsupported_dtype(WHAT, DTYPE);     \
    }                                                           \
  } while (0)

#define TF_DISPATCH_FLOATING(DTYPE, WHAT, ...)                  \
  do {                                                          \
    switch (DTYPE) {                                            \
      TF_DTYPE_CASE_(F16, ::tenflowers::Half, __VA_ARGS__)      \
      TF_DTYPE_CASE_(BF16, ::tenflowers::BFloat16, __VA_ARGS__) \
      TF_DTYPE_CASE_(F32, float, __VA_ARGS__)                   \
      TF_DTYPE_CASE_(F64, double, __VA_ARGS__)                  \
      default:                                                  \
        ::tenflowers::throw_unsupported_dtype(WHAT, DTYPE);     \
    }                                                           \
  } while (0)
