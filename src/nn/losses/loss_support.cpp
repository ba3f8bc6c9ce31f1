#include "src/nn/losses/loss_support.hpp"

#include "src/nn/targets.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn::losses::detail {

Tensor predictions(const Tensor& y_pred, std::string_view loss) {
  TF_CHECK(is_floating(y_pred.dtype()), DTypeError, loss,
           ": y_pred must be floating (f16, bf16, f32 or f64), got ", dtype_name(y_pred.dtype()));
  nn::detail::check_min_rank(y_pred, 1, loss, "y_pred");
  const bool half = y_pred.dtype() == DType::F16 || y_pred.dtype() == DType::BF16;
  return half ? y_pred.cast(DType::F32) : y_pred;
}

Operands dense_operands(const Tensor& y_true, const Tensor& y_pred, std::string_view loss) {
  const Tensor pred = predictions(y_pred, loss);
  const Tensor target = nn::detail::aligned_targets(y_true, pred, loss);
  return {target.cast(pred.dtype()), pred};
}

Tensor reduce(const Tensor& per_sample, Reduction reduction) {
  switch (reduction) {
    case Reduction::None:
      return per_sample;
    case Reduction::Sum:
      return sum(per_sample);
    case Reduction::Mean:
      // The sum of an empty batch is 0, which Keras returns for its mean too.
      return per_sample.numel() > 0 ? mean(per_sample) : sum(per_sample);
  }
  throw InvalidArgument(
      ::tenflowers::detail::concat("unknown loss reduction ", static_cast<int>(reduction)));
}

}  // namespace tenflowers::nn::losses::detail
