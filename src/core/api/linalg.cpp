// Public matmul, softmax and layer_norm functions and their Tensor methods.
#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // Promotion is a visible cast so tapes and graphs see exactly what the matmul op computes.
  const DType dtype = promote_types(a.dtype(), b.dtype());
  return dispatch1(TF_OP("matmul"), {cast(a, dtype), cast(b, dtype)});
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, const std::string& activation) {
  DType dtype = promote_types(x.dtype(), w.dtype());
  if (b.defined()) dtype = promote_types(dtype, b.dtype());
  const Attrs attrs{{"bias", b.defined()}, {"activation", activation}};
  if (b.defined()) {
    return dispatch1(TF_OP("linear"), {cast(x, dtype), cast(w, dtype), cast(b, dtype)}, attrs);
  }
  return dispatch1(TF_OP("linear"), {cast(x, dtype), cast(w, dtype)}, attrs);
}

Tensor softmax(const Tensor& x, int64_t axis) {
  return dispatch1(TF_OP("softmax"), {x}, Attrs{{"axis", axis}});
}

Tensor log_softmax(const Tensor& x, int64_t axis) {
  return dispatch1(TF_OP("log_softmax"), {x}, Attrs{{"axis", axis}});
}

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t axis,
                  double epsilon) {
  DType dtype = to_floating(x.dtype());
  if (gamma.defined()) dtype = promote_types(dtype, gamma.dtype());
  if (beta.defined()) dtype = promote_types(dtype, beta.dtype());
  std::vector<Tensor> inputs{cast(x, dtype)};
  if (gamma.defined()) inputs.push_back(cast(gamma, dtype));
  if (beta.defined()) inputs.push_back(cast(beta, dtype));
  const Attrs attrs{
      {"axis", axis}, {"epsilon", epsilon}, {"scale", gamma.defined()}, {"center", beta.defined()}};
  return dispatch(TF_OP("layer_norm"), inputs, attrs)[0];
}

Tensor Tensor::matmul(const Tensor& other) const {
  return tenflowers::matmul(*this, other);
}

Tensor Tensor::softmax(int64_t axis) const {
  return tenflowers::softmax(*this, axis);
}

Tensor Tensor::log_softmax(int64_t axis) const {
  return tenflowers::log_softmax(*this, axis);
}

}  // namespace tenflowers
