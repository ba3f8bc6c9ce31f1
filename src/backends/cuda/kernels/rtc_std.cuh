// The part of the C++ standard library that the kernel headers use (numerics.cuh, unary_ops.cuh,
// binary_ops.cuh), for NVRTC, which has none: kernels generated at run time compile with this
// text in place of <cmath>, <limits> and <type_traits>. The math functions are CUDA's own
// overloads, the ones nvcc's std:: names call; the traits cover the arithmetic types. Included
// under three names, so it is guarded by a macro rather than #pragma once.
#ifndef TF_CUDA_RTC_STD_CUH_
#define TF_CUDA_RTC_STD_CUH_

namespace std {

using ::atan2;
using ::ceil;
using ::cos;
using ::erf;
using ::erfc;
using ::exp;
using ::expm1;
using ::fabs;
using ::floor;
using ::fmod;
using ::isfinite;
using ::log;
using ::log1p;
using ::pow;
using ::rint;
using ::sin;
using ::sqrt;
using ::tan;
using ::tanh;

template <class T>
struct remove_cv {
  using type = T;
};
template <class T>
struct remove_cv<const T> {
  using type = T;
};
template <class T>
struct remove_cv<volatile T> {
  using type = T;
};
template <class T>
struct remove_cv<const volatile T> {
  using type = T;
};
template <class T>
using remove_cv_t = typename remove_cv<T>::type;

template <class T, class U>
inline constexpr bool is_same_v = false;
template <class T>
inline constexpr bool is_same_v<T, T> = true;

template <bool B, class T, class F>
struct conditional {
  using type = T;
};
template <class T, class F>
struct conditional<false, T, F> {
  using type = F;
};
template <bool B, class T, class F>
using conditional_t = typename conditional<B, T, F>::type;

namespace rtc_detail {

template <class T>
struct integer {
  static constexpr bool value = false, is_unsigned = false;
};
template <>
struct integer<bool> {  // no unsigned_type: make_unsigned of bool is ill-formed
  static constexpr bool value = true, is_unsigned = true;
};
template <class T, class U>
struct integer_of {
  static constexpr bool value = true, is_unsigned = T(0) < T(-1);
  using unsigned_type = U;
};
template <>
struct integer<char> : integer_of<char, unsigned char> {};
template <>
struct integer<signed char> : integer_of<signed char, unsigned char> {};
template <>
struct integer<unsigned char> : integer_of<unsigned char, unsigned char> {};
template <>
struct integer<short> : integer_of<short, unsigned short> {};
template <>
struct integer<unsigned short> : integer_of<unsigned short, unsigned short> {};
template <>
struct integer<int> : integer_of<int, unsigned> {};
template <>
struct integer<unsigned> : integer_of<unsigned, unsigned> {};
template <>
struct integer<long> : integer_of<long, unsigned long> {};
template <>
struct integer<unsigned long> : integer_of<unsigned long, unsigned long> {};
template <>
struct integer<long long> : integer_of<long long, unsigned long long> {};
template <>
struct integer<unsigned long long> : integer_of<unsigned long long, unsigned long long> {};

template <class T>
inline constexpr bool floating = false;
template <>
inline constexpr bool floating<float> = true;
template <>
inline constexpr bool floating<double> = true;
template <>
inline constexpr bool floating<long double> = true;

}  // namespace rtc_detail

template <class T>
inline constexpr bool is_integral_v = rtc_detail::integer<remove_cv_t<T>>::value;
template <class T>
inline constexpr bool is_floating_point_v = rtc_detail::floating<remove_cv_t<T>>;
template <class T>
inline constexpr bool is_unsigned_v = rtc_detail::integer<remove_cv_t<T>>::is_unsigned;
// Of the integer types other than bool; drops const and volatile.
template <class T>
using make_unsigned_t = typename rtc_detail::integer<remove_cv_t<T>>::unsigned_type;

// The bounds of the integer types.
template <class T>
struct numeric_limits {
  static_assert(is_integral_v<T>, "NVRTC's standard subset knows the limits of integers only");
  static constexpr T max() {
    using U = make_unsigned_t<T>;
    return is_unsigned_v<T> ? T(~U(0)) : T(U(~U(0)) >> 1);
  }
  static constexpr T min() { return is_unsigned_v<T> ? T(0) : T(-max() - 1); }
};

}  // namespace std

#endif  // TF_CUDA_RTC_STD_CUH_
