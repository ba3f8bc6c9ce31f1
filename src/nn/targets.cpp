#include "src/nn/targets.hpp"

#include <vector>

#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn::detail {

namespace {

bool ends_with_unit_axis(const Tensor& t) {
  return t.rank() > 0 && t.shape()[t.rank() - 1] == 1;
}

std::vector<int64_t> unravel(int64_t flat, const Dims& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

}  // namespace

Tensor aligned_targets(const Tensor& y_true, const Tensor& y_pred, std::string_view who) {
  Tensor aligned = y_true;
  if (y_true.rank() + 1 == y_pred.rank() && ends_with_unit_axis(y_pred)) {
    aligned = y_true.unsqueeze(-1);
  } else if (y_true.rank() == y_pred.rank() + 1 && ends_with_unit_axis(y_true)) {
    aligned = y_true.squeeze(std::vector<int64_t>{-1});
  }
  if (aligned.shape() != y_pred.shape()) {
    throw ShapeError(::tenflowers::detail::concat(who, ": y_true of shape ", y_true.shape(),
                                                  " does not match y_pred of shape ",
                                                  y_pred.shape(), " (expected equal shapes)"),
                     std::vector<int64_t>(y_pred.shape().begin(), y_pred.shape().end()),
                     std::vector<int64_t>(y_true.shape().begin(), y_true.shape().end()));
  }
  return aligned;
}

Tensor class_labels(const Tensor& labels, const Dims& batch_shape, int64_t num_classes,
                    std::string_view who) {
  TF_CHECK(is_integral(labels.dtype()), DTypeError, who,
           ": class labels must have an integer dtype (u8, i8, i32 or i64), got ",
           dtype_name(labels.dtype()));
  Tensor index = labels;
  if (labels.rank() == static_cast<int64_t>(batch_shape.size()) + 1 &&
      ends_with_unit_axis(labels)) {
    index = labels.squeeze(std::vector<int64_t>{-1});
  }
  TF_CHECK(index.shape() == batch_shape, ShapeError, who, ": labels of shape ", labels.shape(),
           " do not fit predictions with batch shape ", batch_shape, " and ", num_classes,
           " classes (expected labels of shape ", batch_shape, ")");
  if (index.dtype() == DType::U8 || index.dtype() == DType::I8) index = index.cast(DType::I32);

  // A graph capture cannot read the check's result on the host: there, the index ops that use
  // the labels stop the device on an out-of-range value instead (docs/cuda.md).
  if (capturing(index.device())) return index;
  const Tensor outside = logical_or(
      lt(index, Tensor::scalar(0, DType::I64, index.device())),
      ge(index, Tensor::scalar(static_cast<double>(num_classes), DType::I64, index.device())));
  if (any(outside).item<bool>()) {
    const int64_t flat = argmax(outside.cast(DType::I32).reshape({-1})).item<int64_t>();
    const int64_t value = index.reshape({-1}).select(0, flat).item<int64_t>();
    throw IndexError(::tenflowers::detail::concat(
        who, ": label ", value, " at position ", format_dims(unravel(flat, index.shape())),
        " is out of range for ", num_classes, " classes (expected [0, ", num_classes, "))"));
  }
  return index;
}

void check_min_rank(const Tensor& t, int64_t rank, std::string_view who, std::string_view what) {
  TF_CHECK(t.rank() >= rank, ShapeError, who, ": ", what, " must have at least ", rank,
           " axes, got shape ", t.shape());
}

}  // namespace tenflowers::nn::detail
