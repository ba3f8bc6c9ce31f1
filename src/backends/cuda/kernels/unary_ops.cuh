#pragma once
// The one-input elementwise ops as device functors over the compute type C (shared by the
// elementwise kernels and the kernels generated for fused programs, which NVRTC compiles: see
// numerics.cuh). Integer ops wrap around like the CPU kernels (arithmetic through the unsigned
// type).
#include <cmath>

#include "src/backends/cuda/kernels/numerics.cuh"

namespace tenflowers::cuda::unary_ops {

template <class T>
__device__ __forceinline__ T wrap_neg(T x) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(U(0) - static_cast<U>(x)));
}

constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kGeluScale = 1.5957691216057307117;  // 2 * sqrt(2 / pi)

struct Neg {
  template <class C>
  __device__ C operator()(C x) const {
    if constexpr (std::is_integral_v<C>)
      return wrap_neg(x);
    else
      return -x;
  }
};
struct Abs {
  template <class C>
  __device__ C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>)
      return x;
    else if constexpr (std::is_integral_v<C>)
      return x < 0 ? wrap_neg(x) : x;
    else
      return std::fabs(x);
  }
};
struct Sign {
  template <class C>
  __device__ C operator()(C x) const {
    if constexpr (std::is_integral_v<C>)
      return static_cast<C>((x > 0) - (x < 0));
    else
      return x > 0 ? C(1) : (x < 0 ? C(-1) : x);  // keeps NaN and the zero's sign
  }
};
struct Square {
  template <class C>
  __device__ C operator()(C x) const {
    if constexpr (std::is_integral_v<C>) {
      using U = std::make_unsigned_t<C>;
      return static_cast<C>(static_cast<U>(static_cast<U>(x) * static_cast<U>(x)));
    } else {
      return x * x;
    }
  }
};
struct Relu {
  template <class C>
  __device__ C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>)
      return x;
    else
      return x < C(0) ? C(0) : x;  // NaN propagates
  }
};
struct Identity {
  template <class C>
  __device__ C operator()(C x) const {
    return x;
  }
};
struct Floor {
  template <class C>
  __device__ C operator()(C x) const {
    return std::floor(x);
  }
};
struct Ceil {
  template <class C>
  __device__ C operator()(C x) const {
    return std::ceil(x);
  }
};
struct Round {  // half to even, as NumPy and PyTorch
  template <class C>
  __device__ C operator()(C x) const {
    return std::rint(x);
  }
};
#define TF_FLOAT_UNARY_(Name, expr)      \
  struct Name {                          \
    template <class C>                   \
    __device__ C operator()(C x) const { \
      return expr;                       \
    }                                    \
  };
TF_FLOAT_UNARY_(Exp, std::exp(x))
TF_FLOAT_UNARY_(Expm1, std::expm1(x))
TF_FLOAT_UNARY_(Log, std::log(x))
TF_FLOAT_UNARY_(Log1p, std::log1p(x))
TF_FLOAT_UNARY_(Sqrt, std::sqrt(x))
TF_FLOAT_UNARY_(Rsqrt, C(1) / std::sqrt(x))
TF_FLOAT_UNARY_(Reciprocal, C(1) / x)
TF_FLOAT_UNARY_(Sin, std::sin(x))
TF_FLOAT_UNARY_(Cos, std::cos(x))
TF_FLOAT_UNARY_(Tan, std::tan(x))
TF_FLOAT_UNARY_(Tanh, std::tanh(x))
TF_FLOAT_UNARY_(Sigmoid, C(1) / (C(1) + std::exp(-x)))
TF_FLOAT_UNARY_(Erf, std::erf(x))
// 0.5 x erfc(-x / sqrt 2): accurate where erf nears -1.
TF_FLOAT_UNARY_(Gelu, C(0.5) * x * std::erfc(x * C(-kSqrtHalf)))
// x sigmoid(2u), 2u = kGeluScale x (1 + 0.044715 x^2): the tanh form without cancellation.
TF_FLOAT_UNARY_(GeluTanh, x / (C(1) + std::exp(x * C(-kGeluScale) * (C(1) + C(0.044715) * x * x))))
TF_FLOAT_UNARY_(Silu, x / (C(1) + std::exp(-x)))
#undef TF_FLOAT_UNARY_

struct LeakyRelu {
  double slope;
  template <class C>
  __device__ C operator()(C x) const {
    return x < C(0) ? x * C(slope) : x;
  }
};
struct Elu {
  double alpha;
  template <class C>
  __device__ C operator()(C x) const {
    return x > C(0) ? x : C(alpha) * std::expm1(x);
  }
};
// Linear above the threshold, as PyTorch.
struct Softplus {
  double beta, threshold;
  template <class C>
  __device__ C operator()(C x) const {
    const C bx = x * C(beta);
    return bx > C(threshold) ? x : std::log1p(std::exp(bx)) / C(beta);
  }
};
struct IsNan {
  template <class C>
  __device__ bool operator()(C x) const {
    if constexpr (std::is_integral_v<C>)
      return false;
    else
      return x != x;
  }
};
struct IsFinite {
  template <class C>
  __device__ bool operator()(C x) const {
    if constexpr (std::is_integral_v<C>)
      return true;
    else
      return std::isfinite(x);
  }
};
struct LogicalNot {
  __device__ bool operator()(bool x) const { return !x; }
};

}  // namespace tenflowers::cuda::unary_ops
