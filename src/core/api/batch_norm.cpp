// Public batch normalization functions: one dispatch of batch_norm or batch_norm_inference, with
// ones and zeros standing for an undefined gamma and beta (the ops take both, as ONNX does).
#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

// gamma or beta as the op takes it: `fill` per channel when undefined. An invalid x or axis gets
// an empty one, leaving the op's checks to report the actual problem.
Tensor channel_param(const Tensor& t, const Tensor& x, int64_t axis, double fill) {
  if (t.defined() || !x.defined()) return t;
  const int64_t rank = x.rank();
  const bool valid = rank >= 2 && axis >= -rank && axis < rank;
  const int64_t channels = valid ? x.size(axis < 0 ? axis + rank : axis) : 0;
  return full({channels}, fill, x.dtype(), x.device());
}

Attrs norm_attrs(int64_t axis, double epsilon) {
  return Attrs{{"axis", axis}, {"epsilon", epsilon}};
}

}  // namespace

BatchNormResult batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t axis,
                           double epsilon) {
  const Tensor inputs[] = {x, channel_param(gamma, x, axis, 1.0),
                           channel_param(beta, x, axis, 0.0)};
  std::vector<Tensor> out = dispatch(TF_OP("batch_norm"), inputs, norm_attrs(axis, epsilon));
  return {std::move(out[0]), std::move(out[1]), std::move(out[2])};
}

Tensor batch_norm_inference(const Tensor& x, const Tensor& mean, const Tensor& var,
                            const Tensor& gamma, const Tensor& beta, int64_t axis, double epsilon) {
  return dispatch1(
      TF_OP("batch_norm_inference"),
      {x, channel_param(gamma, x, axis, 1.0), channel_param(beta, x, axis, 0.0), mean, var},
      norm_attrs(axis, epsilon));
}

}  // namespace tenflowers
