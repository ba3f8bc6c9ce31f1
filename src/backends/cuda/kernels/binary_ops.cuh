#pragma once
// The two- and three-input elementwise ops as device functors over the compute type C (shared
// by the elementwise kernels and the kernels generated for fused programs, which NVRTC
// compiles: see numerics.cuh). Semantics follow the CPU kernels: NaN propagates through maximum
// and minimum, mod takes the divisor's sign (Python's %), integers wrap around.
#include <cmath>

#include "src/backends/cuda/kernels/numerics.cuh"

namespace tenflowers::cuda::binary_ops {

// Integer +, - and * through the unsigned type, so overflow wraps instead of being undefined.
template <class C, class F>
__device__ __forceinline__ C wrapping(C x, C y, F f) {
  if constexpr (std::is_integral_v<C> && !std::is_same_v<C, bool>) {
    using U = std::make_unsigned_t<C>;
    return static_cast<C>(static_cast<U>(f(static_cast<U>(x), static_cast<U>(y))));
  } else {
    return f(x, y);
  }
}

struct Add {
  template <class C>
  __device__ C operator()(C x, C y) const {
    if constexpr (std::is_same_v<C, bool>)
      return x || y;
    else
      return wrapping(x, y, [](auto a, auto b) { return a + b; });
  }
};
struct Sub {
  template <class C>
  __device__ C operator()(C x, C y) const {
    return wrapping(x, y, [](auto a, auto b) { return a - b; });
  }
};
struct Mul {
  template <class C>
  __device__ C operator()(C x, C y) const {
    if constexpr (std::is_same_v<C, bool>)
      return x && y;
    else
      return wrapping(x, y, [](auto a, auto b) { return a * b; });
  }
};
struct Div {
  template <class C>
  __device__ C operator()(C x, C y) const {
    return x / y;
  }
};
struct Pow {
  template <class C>
  __device__ C operator()(C x, C y) const {
    if constexpr (std::is_integral_v<C>) {  // by squaring; the host rejects negative exponents
      using U = std::make_unsigned_t<C>;
      U result = 1, base = static_cast<U>(x);
      for (U e = static_cast<U>(y); e != 0; e >>= 1) {
        if (e & 1u) result = static_cast<U>(result * base);
        base = static_cast<U>(base * base);
      }
      return static_cast<C>(result);
    } else {
      return std::pow(x, y);
    }
  }
};
struct Maximum {
  template <class C>
  __device__ C operator()(C x, C y) const {
    return (x > y || x != x) ? x : y;
  }
};
struct Minimum {
  template <class C>
  __device__ C operator()(C x, C y) const {
    return (x < y || x != x) ? x : y;
  }
};
struct Mod {
  template <class C>
  __device__ C operator()(C x, C y) const {
    if constexpr (std::is_unsigned_v<C>) {  // the host rejects zero divisors
      return static_cast<C>(x % y);
    } else if constexpr (std::is_integral_v<C>) {
      if (y == C(-1)) return 0;  // INT_MIN % -1 overflows
      const C r = static_cast<C>(x % y);
      return (r != 0 && ((r < 0) != (y < 0))) ? static_cast<C>(r + y) : r;
    } else {
      const C r = std::fmod(x, y);
      const C shifted = (r != C(0) && ((r < C(0)) != (y < C(0)))) ? r + y : r;
      return shifted == C(0) ? (y < C(0) ? C(-0.0) : C(0)) : shifted;
    }
  }
};
struct Atan2 {
  template <class C>
  __device__ C operator()(C x, C y) const {
    return std::atan2(x, y);
  }
};
// ReLU's gradient: y (the output gradient) where x > 0, else 0.
struct ReluGrad {
  template <class C>
  __device__ C operator()(C x, C y) const {
    return x > C(0) ? y : C(0);
  }
};
#define TF_COMPARE_(Name, op)                    \
  struct Name {                                  \
    template <class C>                           \
    __device__ bool operator()(C x, C y) const { \
      return x op y;                             \
    }                                            \
  };
TF_COMPARE_(Eq, ==)
TF_COMPARE_(Ne, !=)
TF_COMPARE_(Lt, <)
TF_COMPARE_(Le, <=)
TF_COMPARE_(Gt, >)
TF_COMPARE_(Ge, >=)
#undef TF_COMPARE_
struct LogicalAnd {
  __device__ bool operator()(bool x, bool y) const { return x && y; }
};
struct LogicalOr {
  __device__ bool operator()(bool x, bool y) const { return x || y; }
};
struct LogicalXor {
  __device__ bool operator()(bool x, bool y) const { return x != y; }
};
struct Where {  // the condition arrives converted to the compute type
  template <class C>
  __device__ C operator()(C condition, C x, C y) const {
    return condition != C(0) ? x : y;
  }
};
struct Clamp {  // bounds convert like any value: for integers they saturate, so a missing one is
                // infinite
  double low, high;
  template <class C>
  __device__ C operator()(C x) const {
    const C lo = narrow<C>(low), hi = narrow<C>(high);
    const C raised = x < lo ? lo : x;
    return raised > hi ? hi : raised;
  }
};

}  // namespace tenflowers::cuda::binary_ops
