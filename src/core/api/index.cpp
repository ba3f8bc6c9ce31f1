// Public indexing functions: one dispatch each (see src/core/ops/index.cpp for the rules).
#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

Tensor gather(const Tensor& x, int64_t axis, const Tensor& index) {
  return dispatch1(TF_OP("gather"), {x, index}, Attrs{{"axis", axis}});
}

Tensor scatter(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src) {
  return dispatch1(TF_OP("scatter"), {x, index, src}, Attrs{{"axis", axis}});
}

Tensor scatter_add(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& src) {
  return dispatch1(TF_OP("scatter_add"), {x, index, src}, Attrs{{"axis", axis}});
}

Tensor take(const Tensor& x, const Tensor& flat_index) {
  return dispatch1(TF_OP("take"), {x, flat_index});
}

Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index) {
  return dispatch1(TF_OP("index_select"), {x, index}, Attrs{{"axis", axis}});
}

Tensor one_hot(const Tensor& indices, int64_t depth, DType dtype) {
  return dispatch1(TF_OP("one_hot"), {indices}, Attrs{{"depth", depth}, {"dtype", dtype}});
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return dispatch1(TF_OP("masked_fill"), {x, mask}, Attrs{{"value", value}});
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  return dispatch1(TF_OP("masked_select"), {x, mask});
}

}  // namespace tenflowers
