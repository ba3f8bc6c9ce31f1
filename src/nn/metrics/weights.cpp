#include "src/nn/metrics/weights.hpp"

#include <vector>

#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn::metrics::detail {

Tensor broadcastable_weights(const Tensor& sample_weight, const Dims& values_shape,
                             std::string_view who) {
  if (!sample_weight.defined()) return sample_weight;
  TF_CHECK(sample_weight.dtype() == DType::Bool || is_integral(sample_weight.dtype()) ||
               is_floating(sample_weight.dtype()),
           DTypeError, who, ": sample_weight must be numeric, got ",
           dtype_name(sample_weight.dtype()));
  Tensor w = sample_weight;
  const size_t rank = values_shape.size();
  if (w.rank() == static_cast<int64_t>(rank) + 1 && w.size(-1) == 1) {
    w = w.squeeze(std::vector<int64_t>{-1});
  }
  bool prefix = w.rank() <= static_cast<int64_t>(rank);
  for (int64_t d = 0; prefix && d < w.rank(); ++d) prefix = w.shape()[d] == values_shape[d];
  TF_CHECK(prefix, ShapeError, who, ": sample_weight of shape ", sample_weight.shape(),
           " does not fit values of shape ", values_shape,
           " (expected a leading part of that shape)");
  Dims expanded = w.shape();
  while (expanded.size() < rank) expanded.push_back(1);
  return w.cast(DType::F64).reshape(expanded);
}

Tensor weighted(const Tensor& values, const Tensor& weights) {
  const Tensor v = values.cast(DType::F64);
  return weights.defined() ? v * weights : v;
}

double total_weight(const Tensor& values, const Tensor& weights) {
  if (!weights.defined()) return static_cast<double>(values.numel());
  return sum(weights.broadcast_to(values.shape())).item<double>();
}

}  // namespace tenflowers::nn::metrics::detail
