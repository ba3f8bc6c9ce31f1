#pragma once
// IEEE binary16 and bfloat16 storage types. They compute in float: every arithmetic
// operator converts to float, which is what the CPU kernels do for these dtypes anyway.
#include <bit>
#include <cstdint>
#include <cstring>

namespace tenflowers {

namespace detail {
inline uint16_t float_to_half_bits(float value) {
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow to inf
  if (abs < 0x38800000u) {  // subnormal half or zero: round to nearest even in float arithmetic
    const float magic = std::bit_cast<float>(0x3f000000u);  // 0.5 shifts the mantissa into place
    const float shifted = std::bit_cast<float>(abs) + magic;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(shifted) - 0x3f000000u));
  }
  const uint32_t mantissa_odd = (abs >> 13) & 1u;
  abs += 0xc8000fffu + mantissa_odd;  // rebias exponent (-112 << 23) and round to nearest even
  return static_cast<uint16_t>(sign | (abs >> 13));
}

inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    // zero or subnormal: value = mantissa * 2^-24
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

inline uint16_t float_to_bf16_bits(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

inline float bf16_bits_to_float(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}
}  // namespace detail

template <class Derived>
struct Float16Base {
  uint16_t bits = 0;
  friend float operator+(Derived a, Derived b) { return float(a) + float(b); }
  friend float operator-(Derived a, Derived b) { return float(a) - float(b); }
  friend float operator*(Derived a, Derived b) { return float(a) * float(b); }
  friend float operator/(Derived a, Derived b) { return float(a) / float(b); }
  friend bool operator==(Derived a, Derived b) { return float(a) == float(b); }
  friend bool operator<(Derived a, Derived b) { return float(a) < float(b); }
  friend bool operator>(Derived a, Derived b) { return float(a) > float(b); }
  friend bool operator<=(Derived a, Derived b) { return float(a) <= float(b); }
  friend bool operator>=(Derived a, Derived b) { return float(a) >= float(b); }
};

struct Half : Float16Base<Half> {
  Half() = default;
  Half(float f) : Float16Base<Half>{detail::float_to_half_bits(f)} {}  // NOLINT: implicit by design
  operator float() const { return detail::half_bits_to_float(bits); }
  static Half from_bits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }
};

struct BFloat16 : Float16Base<BFloat16> {
  BFloat16() = default;
  BFloat16(float f) : Float16Base<BFloat16>{detail::float_to_bf16_bits(f)} {}  // NOLINT
  operator float() const { return detail::bf16_bits_to_float(bits); }
  static BFloat16 from_bits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
};

static_assert(sizeof(Half) == 2 && sizeof(BFloat16) == 2);

}  // namespace tenflowers
