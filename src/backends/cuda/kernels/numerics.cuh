#pragma once
// How stored elements compute: the type each computes in (f32 for the 16-bit floats) and
// conversions between any two. Kernels generated at run time for fused programs include it
// too: NVRTC has no C++ standard library, so it gets rtc_std.cuh for <limits> and <type_traits>,
// and nothing here may need more of the standard library than that provides.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <limits>
#include <type_traits>

namespace tenflowers::cuda {

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

}  // namespace tenflowers::cuda
