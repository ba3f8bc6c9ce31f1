#pragma once
// Device-side element types: the CUDA type that stores each dtype and compile-time type lists
// (numerics.cuh: the type each computes in, and conversions).
#include <cstdint>

#include "src/backends/cuda/kernels/launch.hpp"
#include "src/backends/cuda/kernels/numerics.cuh"

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
