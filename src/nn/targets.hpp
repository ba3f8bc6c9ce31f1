#pragma once
// Validation and alignment of (y_true, y_pred) pairs shared by losses and metrics.
#include <string_view>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn::detail {

// y_true aligned to y_pred's shape as Keras' squeeze_or_expand_to_same_rank does (ranks that
// differ by one through a trailing axis of extent 1); ShapeError naming `who` when the shapes
// then differ. No broadcasting: a [B] target against [B, 3] predictions is an error.
Tensor aligned_targets(const Tensor& y_true, const Tensor& y_pred, std::string_view who);

// Class indices for predictions of shape batch_shape + [num_classes]: `labels` has shape
// batch_shape (or batch_shape + [1]) and an integer dtype (DTypeError otherwise). Returns them
// with shape batch_shape as i32 or i64; IndexError naming the first label outside
// [0, num_classes) and its position.
Tensor class_labels(const Tensor& labels, const Dims& batch_shape, int64_t num_classes,
                    std::string_view who);

// ShapeError unless t has at least `rank` axes.
void check_min_rank(const Tensor& t, int64_t rank, std::string_view who, std::string_view what);

}  // namespace tenflowers::nn::detail
