// Public reduction functions and the Tensor methods that forward to them.
#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

Attrs axes_attrs(std::vector<int64_t> axes, bool keepdims) {
  return Attrs{{"axes", std::move(axes)}, {"keepdims", keepdims}};
}

Tensor arg_reduce(const OpDef& op, const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  Attrs attrs{{"keepdims", keepdims}};
  if (axis) attrs.set("axis", *axis);
  return dispatch1(op, {x}, attrs);
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("sum"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor mean(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("mean"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor prod(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("prod"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor max(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("max"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor min(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("min"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  return arg_reduce(TF_OP("argmax"), x, axis, keepdims);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  return arg_reduce(TF_OP("argmin"), x, axis, keepdims);
}

Tensor var(const Tensor& x, std::vector<int64_t> axes, int64_t correction, bool keepdims) {
  Attrs attrs = axes_attrs(std::move(axes), keepdims);
  attrs.set("correction", correction);
  return dispatch1(TF_OP("var"), {x}, attrs);
}

Tensor std(const Tensor& x, std::vector<int64_t> axes, int64_t correction, bool keepdims) {
  Attrs attrs = axes_attrs(std::move(axes), keepdims);
  attrs.set("correction", correction);
  return dispatch1(TF_OP("std"), {x}, attrs);
}

Tensor logsumexp(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("logsumexp"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor all(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("all"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor any(const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  return dispatch1(TF_OP("any"), {x}, axes_attrs(std::move(axes), keepdims));
}

Tensor norm(const Tensor& x, double p, std::vector<int64_t> axes, bool keepdims) {
  Attrs attrs = axes_attrs(std::move(axes), keepdims);
  attrs.set("p", p);
  return dispatch1(TF_OP("norm"), {x}, attrs);
}

Tensor Tensor::sum(std::vector<int64_t> axes, bool keepdims) const {
  return tenflowers::sum(*this, std::move(axes), keepdims);
}

Tensor Tensor::mean(std::vector<int64_t> axes, bool keepdims) const {
  return tenflowers::mean(*this, std::move(axes), keepdims);
}

Tensor Tensor::max(std::vector<int64_t> axes, bool keepdims) const {
  return tenflowers::max(*this, std::move(axes), keepdims);
}

Tensor Tensor::min(std::vector<int64_t> axes, bool keepdims) const {
  return tenflowers::min(*this, std::move(axes), keepdims);
}

Tensor Tensor::argmax(std::optional<int64_t> axis, bool keepdims) const {
  return tenflowers::argmax(*this, axis, keepdims);
}

Tensor Tensor::argmin(std::optional<int64_t> axis, bool keepdims) const {
  return tenflowers::argmin(*this, axis, keepdims);
}

}  // namespace tenflowers
