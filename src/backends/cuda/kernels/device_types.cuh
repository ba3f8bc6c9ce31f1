#pragma once
// Device-side element types: the CUDA type that stores each dtype, the type it computes in
// (f32 for the 16-bit floats), conversions between any two, and compile-time type lists.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "src/backends/cuda/kernels/launch.hpp"

namespace tenflowers::cuda {

template <class T>
struct DeviceDType;
#define TF_DEVICE_DTYPE_(type, value)            \
  template <>                                    \
  struct DeviceDType<type> {                     \
    static constexpr DType dtype = DType::value; \
  };
TF_DEVICE_DTYPE_(bool, Bool)
TF_DEVICE_DTYPE_(uint8_t, U8)
TF_DEVICE_DTYPE_(int8_t, I8)
TF_DEVICE_DTYPE_(int32_t, I32)
TF_DEVICE_DTYPE_(int64_t, I64)
TF_DEVICE_DTYPE_(__half, F16)
TF_DEVICE_DTYPE_(__nv_bfloat16, BF16)
TF_DEVICE_DTYPE_(float, F32)
TF_DEVICE_DTYPE_(double, F64)
#undef TF_DEVICE_DTYPE_

template <class T>
inline constexpr bool kIsHalf = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

template <class T>
using compute_of = std::conditional_t<kIsHalf<T>, float, T>;

// The value of a stored element in its compute type.
template <class T>
__host__ __device__ __forceinline__ compute_of<T> widen(T v) {
  if constexpr (std::is_same_v<T, __half>) {
    return __half2float(v);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __bfloat162float(v);
  } else {
    return v;
  }
}

// A computed value stored as T, as the CPU's convert() does: floats to integers saturate and
// map NaN to 0, doubles reach the 16-bit floats through f32, nonzero is true.
template <class T, class V>
__host__ __device__ __forceinline__ T narrow(V v) {
  if constexpr (std::is_same_v<T, V>) {
    return v;
  } else if constexpr (std::is_same_v<T, bool>) {
    return v != V(0);
  } else if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(static_cast<float>(v));
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(static_cast<float>(v));
  } else if constexpr (std::is_integral_v<T> && std::is_floating_point_v<V>) {
    const double d = static_cast<double>(v);
    if (d != d) return T(0);
    if (d <= static_cast<double>(std::numeric_limits<T>::min()))
      return std::numeric_limits<T>::min();
    if (d >= static_cast<double>(std::numeric_limits<T>::max()))
      return std::numeric_limits<T>::max();
    return static_cast<T>(d);
  } else {
    return static_cast<T>(v);
  }
}

template <class To, class From>
__host__ __device__ __forceinline__ To convert(From v) {
  return narrow<To>(widen(v));
}

template <class... Ts>
struct TypeList {};
using FloatTypes = TypeList<__half, __nv_bfloat16, float, double>;
using IntTypes = TypeList<uint8_t, int8_t, int32_t, int64_t>;
using NumericTypes =
    TypeList<uint8_t, int8_t, int32_t, int64_t, __half, __nv_bfloat16, float, double>;
using BoolAndIntTypes = TypeList<bool, uint8_t, int8_t, int32_t, int64_t>;
using AllTypes =
    TypeList<bool, uint8_t, int8_t, int32_t, int64_t, __half, __nv_bfloat16, float, double>;

// Calls fn(T{}) for the T of `list` whose dtype is `dtype`; returns fn's result, or nullptr when
// the list has no such type.
template <class Fn, class... Ts>
const char* with_type(DType dtype, TypeList<Ts...>, Fn&& fn) {
  const char* result = nullptr;
  (void)((DeviceDType<Ts>::dtype == dtype ? (result = fn(Ts{}), true) : false) || ...);
  return result;
}

}  // namespace tenflowers::cuda
