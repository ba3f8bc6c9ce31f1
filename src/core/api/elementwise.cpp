// Public elementwise functions, operators and Tensor methods: each is one dispatch of a
// registered op, or a short composition of them (clamp with tensor bounds, scalar operands).
#include <cmath>

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

// ---- unary ------------------------------------------------------------------------------------
#define TF_UNARY_API(name)               \
  Tensor name(const Tensor& x) {         \
    return dispatch1(TF_OP(#name), {x}); \
  }                                      \
  Tensor Tensor::name() const {          \
    return tenflowers::name(*this);      \
  }
TF_UNARY_API(neg)
TF_UNARY_API(abs)
TF_UNARY_API(sign)
TF_UNARY_API(exp)
TF_UNARY_API(expm1)
TF_UNARY_API(log)
TF_UNARY_API(log1p)
TF_UNARY_API(sqrt)
TF_UNARY_API(rsqrt)
TF_UNARY_API(square)
TF_UNARY_API(reciprocal)
TF_UNARY_API(sin)
TF_UNARY_API(cos)
TF_UNARY_API(tan)
TF_UNARY_API(tanh)
TF_UNARY_API(sigmoid)
TF_UNARY_API(relu)
TF_UNARY_API(erf)
TF_UNARY_API(floor)
TF_UNARY_API(ceil)
TF_UNARY_API(round)
#undef TF_UNARY_API

Tensor silu(const Tensor& x) {
  return dispatch1(TF_OP("silu"), {x});
}
Tensor logical_not(const Tensor& x) {
  return dispatch1(TF_OP("logical_not"), {x});
}
Tensor isnan(const Tensor& x) {
  return dispatch1(TF_OP("isnan"), {x});
}
Tensor isfinite(const Tensor& x) {
  return dispatch1(TF_OP("isfinite"), {x});
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return dispatch1(TF_OP("leaky_relu"), {x}, Attrs{{"negative_slope", negative_slope}});
}
Tensor elu(const Tensor& x, double alpha) {
  return dispatch1(TF_OP("elu"), {x}, Attrs{{"alpha", alpha}});
}
Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return dispatch1(TF_OP("gelu"), {x}, Attrs{{"tanh_approximation", tanh_approximation}});
}
Tensor softplus(const Tensor& x, double beta, double threshold) {
  return dispatch1(TF_OP("softplus"), {x}, Attrs{{"beta", beta}, {"threshold", threshold}});
}

// ---- binary -----------------------------------------------------------------------------------
#define TF_BINARY_API(name)                       \
  Tensor name(const Tensor& a, const Tensor& b) { \
    return dispatch1(TF_OP(#name), {a, b});       \
  }
TF_BINARY_API(add)
TF_BINARY_API(sub)
TF_BINARY_API(mul)
TF_BINARY_API(div)
TF_BINARY_API(pow)
TF_BINARY_API(maximum)
TF_BINARY_API(minimum)
TF_BINARY_API(mod)
TF_BINARY_API(atan2)
TF_BINARY_API(eq)
TF_BINARY_API(ne)
TF_BINARY_API(lt)
TF_BINARY_API(le)
TF_BINARY_API(gt)
TF_BINARY_API(ge)
TF_BINARY_API(logical_and)
TF_BINARY_API(logical_or)
TF_BINARY_API(logical_xor)
#undef TF_BINARY_API

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  return dispatch1(TF_OP("where"), {condition, a, b});
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  Attrs attrs;
  if (min) attrs.set("min", *min);
  if (max) attrs.set("max", *max);
  return dispatch1(TF_OP("clamp"), {x}, attrs);
}

// An undefined bound means "no bound"; at least one must be given.
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max) {
  TF_CHECK(min.defined() || max.defined(), InvalidArgument,
           "clamp: expected a min or a max bound, got neither");
  Tensor result = x;
  if (min.defined()) result = maximum(result, min);
  if (max.defined()) result = minimum(result, max);
  return result;
}

Tensor scalar_like(const Tensor& like, double value) {
  DType dtype = DType::F32;
  if (is_floating(like.dtype())) {
    dtype = like.dtype();
  } else if (is_integral(like.dtype()) && std::isfinite(value) && value == std::trunc(value)) {
    dtype = like.dtype();
  }
  Tensor result;
  TF_DISPATCH_ALL(dtype, "scalar_like", [&] {
    const scalar_t converted = convert<scalar_t>(value);
    result = Tensor::from_data(&converted, 1, dtype, Dims{}, like.device());
  });
  return result;
}

// ---- Tensor methods ---------------------------------------------------------------------------
Tensor Tensor::pow(const Tensor& exponent) const {
  return tenflowers::pow(*this, exponent);
}
Tensor Tensor::pow(double exponent) const {
  return tenflowers::pow(*this, scalar_like(*this, exponent));
}
Tensor Tensor::clamp(std::optional<double> min, std::optional<double> max) const {
  return tenflowers::clamp(*this, min, max);
}

// ---- operators --------------------------------------------------------------------------------
Tensor operator-(const Tensor& x) {
  return neg(x);
}
Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
Tensor operator+(const Tensor& a, double b) {
  return add(a, scalar_like(a, b));
}
Tensor operator-(const Tensor& a, double b) {
  return sub(a, scalar_like(a, b));
}
Tensor operator*(const Tensor& a, double b) {
  return mul(a, scalar_like(a, b));
}
Tensor operator/(const Tensor& a, double b) {
  return div(a, scalar_like(a, b));
}
Tensor operator+(double a, const Tensor& b) {
  return add(scalar_like(b, a), b);
}
Tensor operator-(double a, const Tensor& b) {
  return sub(scalar_like(b, a), b);
}
Tensor operator*(double a, const Tensor& b) {
  return mul(scalar_like(b, a), b);
}
Tensor operator/(double a, const Tensor& b) {
  return div(scalar_like(b, a), b);
}
Tensor operator==(const Tensor& a, const Tensor& b) {
  return eq(a, b);
}
Tensor operator!=(const Tensor& a, const Tensor& b) {
  return ne(a, b);
}
Tensor operator<(const Tensor& a, const Tensor& b) {
  return lt(a, b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
  return le(a, b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
  return gt(a, b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
  return ge(a, b);
}
Tensor operator&&(const Tensor& a, const Tensor& b) {
  return logical_and(a, b);
}
Tensor operator||(const Tensor& a, const Tensor& b) {
  return logical_or(a, b);
}
Tensor operator!(const Tensor& x) {
  return logical_not(x);
}

}  // namespace tenflowers
