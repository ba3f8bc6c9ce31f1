// Public matmul and softmax functions and their Tensor methods.
#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

Tensor matmul(const Tensor& a, const Tensor& b) {
  // Promotion is a visible cast so tapes and graphs see exactly what the matmul op computes.
  const DType dtype = promote_types(a.dtype(), b.dtype());
  return dispatch1(TF_OP("matmul"), {cast(a, dtype), cast(b, dtype)});
}

Tensor softmax(const Tensor& x, int64_t axis) {
  return dispatch1(TF_OP("softmax"), {x}, Attrs{{"axis", axis}});
}

Tensor log_softmax(const Tensor& x, int64_t axis) {
  return dispatch1(TF_OP("log_softmax"), {x}, Attrs{{"axis", axis}});
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
