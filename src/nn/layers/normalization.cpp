#include "tenflowers/nn/layers/normalization.hpp"

#include <algorithm>

#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

int64_t resolve_axis(int64_t axis, int64_t rank, const Layer& layer) {
  const int64_t a = axis < 0 ? axis + rank : axis;
  TF_CHECK(a >= 0 && a < rank, ShapeError, "layer '", layer.name(), "' (", layer.kind(), "): axis ",
           axis, " is out of range for an input of rank ", rank);
  return a;
}

}  // namespace

BatchNormalization::BatchNormalization(BatchNormOptions options)
    : Layer("batch_normalization", options.name), options_(std::move(options)) {
  TF_CHECK(options_.momentum >= 0.0 && options_.momentum <= 1.0, InvalidArgument,
           "BatchNormalization: momentum must be in [0, 1], got ", options_.momentum);
  TF_CHECK(options_.epsilon > 0.0, InvalidArgument,
           "BatchNormalization: epsilon must be positive, got ", options_.epsilon);
}

void BatchNormalization::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  TF_CHECK(static_cast<int64_t>(s.size()) >= 2, ShapeError, "layer '", name(),
           "' (batch_normalization): expected an input of rank 2 or more, got ", s);
  axis_ = resolve_axis(options_.axis, static_cast<int64_t>(s.size()), *this);
  const int64_t c = s[axis_];
  const Fans fans{c, c};
  if (options_.scale) gamma_ = add_weight("gamma", {c}, Initializer::ones(), fans);
  if (options_.center) beta_ = add_weight("beta", {c}, Initializer::zeros(), fans);
  moving_mean_ = add_weight("moving_mean", {c}, Initializer::zeros(), fans, false);
  moving_variance_ = add_weight("moving_variance", {c}, Initializer::ones(), fans, false);
}

Tensor BatchNormalization::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  const int64_t c = moving_mean_.shape()[0];
  TF_CHECK(x.rank() > axis_ && x.size(axis_) == c, ShapeError, "layer '", name(),
           "' (batch_normalization): built for ", c, " features on axis ", axis_, ", got shape ",
           x.shape());
  // The fused ops take operands of one floating dtype: x's and the weights' promotion, as
  // arithmetic on them would give.
  const DType dtype = promote_types(to_floating(x.dtype()), moving_mean_.dtype());
  auto as_dtype = [dtype](const Tensor& t) { return t.dtype() == dtype ? t : t.cast(dtype); };
  const Tensor gamma = gamma_.defined() ? as_dtype(gamma_.value()) : Tensor();
  const Tensor beta = beta_.defined() ? as_dtype(beta_.value()) : Tensor();
  if (!training()) {
    return batch_norm_inference(as_dtype(x), as_dtype(moving_mean_.value()),
                                as_dtype(moving_variance_.value()), gamma, beta, axis_,
                                options_.epsilon);
  }
  const BatchNormResult batch = batch_norm(as_dtype(x), gamma, beta, axis_, options_.epsilon);
  {
    // The moving statistics are bookkeeping, not part of the differentiated computation.
    HooksPaused paused;
    const double m = options_.momentum;
    moving_mean_.assign(moving_mean_.handle() * m + batch.mean * (1.0 - m));
    moving_variance_.assign(moving_variance_.handle() * m + batch.var * (1.0 - m));
  }
  return batch.y;
}

LayerNormalization::LayerNormalization(LayerNormOptions options)
    : Layer("layer_normalization", options.name), options_(std::move(options)) {
  TF_CHECK(!options_.axes.empty(), InvalidArgument, "LayerNormalization: axes must not be empty");
  TF_CHECK(options_.epsilon > 0.0, InvalidArgument,
           "LayerNormalization: epsilon must be positive, got ", options_.epsilon);
}

void LayerNormalization::build(const std::vector<Dims>& input_shapes) {
  const Dims& s = input_shapes.at(0);
  for (int64_t a : options_.axes)
    axes_.push_back(resolve_axis(a, static_cast<int64_t>(s.size()), *this));
  std::sort(axes_.begin(), axes_.end());
  TF_CHECK(std::adjacent_find(axes_.begin(), axes_.end()) == axes_.end(), InvalidArgument,
           "layer '", name(), "' (layer_normalization): repeated axis");
  TF_CHECK(axes_.back() == static_cast<int64_t>(s.size()) - 1 &&
               axes_.back() - axes_.front() == static_cast<int64_t>(axes_.size()) - 1,
           InvalidArgument, "layer '", name(),
           "' (layer_normalization): axes must be the trailing axes of the input");
  std::vector<int64_t> pshape;
  for (int64_t a : axes_) pshape.push_back(s[a]);
  const Dims param_shape(pshape);
  const Fans fans{param_shape.numel(), param_shape.numel()};
  if (options_.scale) gamma_ = add_weight("gamma", param_shape, Initializer::ones(), fans);
  if (options_.center) beta_ = add_weight("beta", param_shape, Initializer::zeros(), fans);
}

Tensor LayerNormalization::forward(const std::vector<Tensor>& inputs) {
  const Tensor& x = only_input(inputs);
  const int64_t first = x.rank() - static_cast<int64_t>(axes_.size());
  TF_CHECK(first >= 0, ShapeError, "layer '", name(), "' (layer_normalization): input rank ",
           x.rank(), " is below the ", axes_.size(), " normalized axes");
  for (size_t i = 0; i < axes_.size(); ++i) {
    const Dims& p = gamma_.defined() ? gamma_.shape() : beta_.defined() ? beta_.shape() : x.shape();
    if (!gamma_.defined() && !beta_.defined()) break;
    TF_CHECK(x.size(first + static_cast<int64_t>(i)) == p[static_cast<int64_t>(i)], ShapeError,
             "layer '", name(), "' (layer_normalization): built for normalized shape ", p,
             ", got input shape ", x.shape());
  }
  // The axes are the trailing ones (build checks it): one fused op.
  const Tensor gamma = gamma_.defined() ? gamma_.value() : Tensor();
  const Tensor beta = beta_.defined() ? beta_.value() : Tensor();
  return layer_norm(x, gamma, beta, first, options_.epsilon);
}

}  // namespace tenflowers::nn
