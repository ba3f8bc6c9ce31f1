// Layer normalization over the trailing axes [axis, rank), as ONNX LayerNormalization (opset 17;
// statistics in f32, or f64 for f64 inputs): layer_norm(x[, gamma][, beta]) gives
//   y = (x - mean) * rstd * gamma + beta,  rstd = 1 / sqrt(var + epsilon)
// with the population variance of each row of the normalized axes, and, as outputs 1 and 2,
// each row's mean and rstd in the stats dtype with the normalized axes kept as extent 1 (ONNX's
// Mean and InvStdDev). The attributes `scale` and `center` say whether gamma and beta are given
// (ONNX requires Scale: an exporter passes ones where scale is false).
//
// layer_norm_backward(dy, x, mean, rstd[, gamma]) is its gradient in x and, with param_grads,
// in gamma and beta:
//   xhat = (x - mean) * rstd,  g = dy * gamma,
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))   (means over each row),
//   dgamma = sum over rows of dy * xhat,  dbeta = sum over rows of dy.
// It differentiates in mean and rstd as inputs of their own, and layer_norm's gradient accepts
// gradients for its mean and rstd outputs, so derivatives of any order chain through the
// statistics exactly. Every rule is written in ops. The Jacobian of xhat in x is symmetric, so
// layer_norm_backward without gamma (xhat_derivative) gives both the tangent of xhat for a
// tangent of x and the cotangent of x for a cotangent of xhat; the rules reuse it.
#include "src/core/ops/normalization.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "src/core/api/op_call.hpp"
#include "src/core/ops/derivatives.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

LayerNormRows layer_norm_rows(const Dims& shape, int64_t axis, std::string_view op) {
  const auto rank = static_cast<int64_t>(shape.size());
  TF_CHECK(rank >= 1, ShapeError, op, ": expected an input of rank 1 or more, got a 0-d tensor");
  LayerNormRows r;
  r.axis = normalize_axis(axis, rank);
  for (int64_t d = 0; d < rank; ++d) (d < r.axis ? r.rows : r.size) *= shape[d];
  TF_CHECK(r.size > 0, ShapeError, op, ": the normalized axes of shape ", shape, " from axis ",
           axis, " hold no elements");
  return r;
}

namespace {

// ---- infer rules ----------------------------------------------------------------------------

// Checks that a call has exactly the inputs its attributes name (present ones, in order).
void expect_inputs(const InferContext& ctx, const char* op,
                   std::initializer_list<std::pair<const char*, bool>> inputs) {
  std::string names;
  size_t count = 0;
  for (const auto& [name, present] : inputs) {
    if (!present) continue;
    names += (count++ ? ", " : "") + std::string(name);
  }
  TF_CHECK(ctx.inputs.size() == count, InvalidArgument, op, ": expected inputs (", names,
           ") for attributes ", ctx.attrs.str(), ", got ", ctx.inputs.size(), " inputs");
}

Dims normalized_shape(const Dims& shape, int64_t axis) {
  return Dims(shape.begin() + axis, shape.end());
}

// The shape of the per-row statistics: the normalized axes kept as extent 1.
Dims stats_shape(const Dims& shape, int64_t axis) {
  Dims s = shape;
  for (auto d = static_cast<size_t>(axis); d < s.size(); ++d) s[d] = 1;
  return s;
}

LayerNormRows floating_rows(const Tensor& x, const Attrs& attrs, const char* op) {
  TF_CHECK(is_floating(x.dtype()), DTypeError, op,
           ": expected a floating-point input (f16, bf16, f32 or f64), got ",
           dtype_name(x.dtype()));
  return layer_norm_rows(x.shape(), attrs.get_int("axis"), op);
}

void expect_like(const Tensor& t, DType dtype, const Dims& shape, const char* op, const char* name,
                 const char* like) {
  TF_CHECK(t.dtype() == dtype, DTypeError, op, ": ", name, " has dtype ", dtype_name(t.dtype()),
           ", expected ", dtype_name(dtype), " (", like, ")");
  TF_CHECK(t.shape() == shape, ShapeError, op, ": ", name, " has shape ", t.shape(), ", expected ",
           shape, " (", like, ")");
}

void infer_layer_norm(InferContext& ctx) {
  constexpr const char* op = "layer_norm";
  const bool scale = ctx.attrs.get_bool("scale"), center = ctx.attrs.get_bool("center");
  expect_inputs(ctx, op, {{"x", true}, {"gamma", scale}, {"beta", center}});
  const Tensor& x = ctx.inputs[0];
  const LayerNormRows rows = floating_rows(x, ctx.attrs, op);
  const double epsilon = ctx.attrs.get_float("epsilon");
  TF_CHECK(std::isfinite(epsilon) && epsilon >= 0, InvalidArgument, op,
           ": epsilon must be finite and non-negative, got ", epsilon);
  const Dims normalized = normalized_shape(x.shape(), rows.axis);
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    expect_like(ctx.inputs[i], x.dtype(), normalized, op, scale && i == 1 ? "gamma" : "beta",
                "x's dtype and its normalized axes");
  }
  ctx.add_output(x.dtype(), x.shape());
  const Dims stats = stats_shape(x.shape(), rows.axis);
  ctx.add_output(layer_norm_stats_dtype(x.dtype()), stats);
  ctx.add_output(layer_norm_stats_dtype(x.dtype()), stats);
}

void infer_layer_norm_backward(InferContext& ctx) {
  constexpr const char* op = "layer_norm_backward";
  const bool scale = ctx.attrs.get_bool("scale");
  expect_inputs(ctx, op,
                {{"dy", true}, {"x", true}, {"mean", true}, {"rstd", true}, {"gamma", scale}});
  const Tensor& x = ctx.inputs[1];
  const LayerNormRows rows = floating_rows(x, ctx.attrs, op);
  expect_like(ctx.inputs[0], x.dtype(), x.shape(), op, "dy", "x's dtype and shape");
  const Dims stats = stats_shape(x.shape(), rows.axis);
  const DType stats_dtype = layer_norm_stats_dtype(x.dtype());
  expect_like(ctx.inputs[2], stats_dtype, stats, op, "mean", "one per row, as layer_norm gives");
  expect_like(ctx.inputs[3], stats_dtype, stats, op, "rstd", "one per row, as layer_norm gives");
  const Dims normalized = normalized_shape(x.shape(), rows.axis);
  if (scale) {
    expect_like(ctx.inputs[4], x.dtype(), normalized, op, "gamma",
                "x's dtype and its normalized axes");
  }
  ctx.add_output(x.dtype(), x.shape());
  if (ctx.attrs.get_bool("param_grads")) {
    ctx.add_output(x.dtype(), normalized);
    ctx.add_output(x.dtype(), normalized);
  }
}

// ---- gradient and forward-mode rules ----------------------------------------------------------

// The axes of a call: the normalized ones (a mean per row) and their element count.
struct Rows {
  std::vector<int64_t> axes;
  Dims normalized;  // gamma's shape
  int64_t size = 1;
};

Rows rows_of(const Tensor& x, const Attrs& attrs) {
  const LayerNormRows r = layer_norm_rows(x.shape(), attrs.get_int("axis"), "layer_norm");
  Rows rows;
  for (int64_t d = r.axis; d < x.rank(); ++d) rows.axes.push_back(d);
  rows.normalized = normalized_shape(x.shape(), r.axis);
  rows.size = r.size;
  return rows;
}

Tensor row_mean(const Tensor& t, const Rows& rows) {
  return mean(t, rows.axes, true);
}

Tensor row_sum(const Tensor& t, const Rows& rows) {
  return sum(t, rows.axes, true);
}

// rstd * (t - mean(t) - xhat * mean(t * xhat)): see the top of the file.
Tensor xhat_derivative(const Tensor& t, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                       const Attrs& attrs) {
  const Attrs a{{"axis", attrs.get_int("axis")}, {"scale", false}, {"param_grads", false}};
  return dispatch1(TF_OP("layer_norm_backward"), {t, x, mean, rstd}, a);
}

std::vector<Tensor> layer_norm_grad(const GradContext& c) {
  std::vector<Tensor> grads(c.inputs.size());
  const Tensor& x = c.inputs[0];
  const Tensor& mu = c.outputs[1];
  const Tensor& rstd = c.outputs[2];
  const bool scale = c.attrs.get_bool("scale"), center = c.attrs.get_bool("center");
  if (const Tensor& dy = c.output_grads[0]; dy.defined()) {
    bool param_grads = false;
    for (size_t i = 1; i < c.inputs.size(); ++i) param_grads = param_grads || c.needs_input_grad[i];
    std::vector<Tensor> inputs{dy, x, mu, rstd};
    if (scale) inputs.push_back(c.inputs[1]);
    const Attrs a{
        {"axis", c.attrs.get_int("axis")}, {"scale", scale}, {"param_grads", param_grads}};
    const std::vector<Tensor> d = dispatch(TF_OP("layer_norm_backward"), inputs, a);
    grads[0] = d[0];
    if (param_grads && scale) grads[1] = d[1];
    if (param_grads && center) grads.back() = d[2];
  }
  // Gradients reaching the statistics (from derivatives of higher order):
  // d mean / dx = 1 / N and d rstd / dx = -rstd^3 (x - mean) / N.
  const Tensor& dmean = c.output_grads[1];
  const Tensor& drstd = c.output_grads[2];
  if (c.needs_input_grad[0] && (dmean.defined() || drstd.defined())) {
    Tensor through = dmean;
    if (drstd.defined()) through = add_defined(through, -(drstd * rstd * rstd * rstd * (x - mu)));
    const double n = static_cast<double>(rows_of(x, c.attrs).size);
    grads[0] = add_defined(grads[0], (through * (1.0 / n)).expand(x.shape()));
  }
  return grads;
}

std::vector<Tensor> layer_norm_jvp(const JvpContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& mu = c.outputs[1];
  const Tensor& rstd = c.outputs[2];
  const bool scale = c.attrs.get_bool("scale"), center = c.attrs.get_bool("center");
  const Tensor& tx = c.input_tangents[0];
  const Tensor tgamma = scale ? c.input_tangents[1] : Tensor();
  const Tensor tbeta = center ? c.input_tangents.back() : Tensor();
  const Rows rows = rows_of(x, c.attrs);
  Tensor ty, tmean, trstd;
  if (tx.defined() || tgamma.defined()) {
    const Tensor xhat = (x - mu) * rstd;
    if (tx.defined()) {
      const Tensor txhat = xhat_derivative(tx, x, mu, rstd, c.attrs);
      ty = scale ? txhat * c.inputs[1] : txhat;
      tmean = row_mean(tx, rows);
      trstd = -(rstd * rstd * row_mean(tx * xhat, rows));
    }
    if (tgamma.defined()) ty = add_defined(ty, xhat * tgamma);
  }
  if (tbeta.defined()) ty = add_defined(ty, tbeta.expand(x.shape()));
  return {ty, tmean, trstd};
}

// One layer_norm_backward call's operands, with what its rules share.
struct BackwardCall {
  Rows rows;
  Tensor dy, x, mu, rstd, gamma;  // gamma undefined without scale
  Tensor xhat, g, b;              // g = dy * gamma, b = mean(g * xhat)

  explicit BackwardCall(std::span<const Tensor> in, const Attrs& attrs)
      : rows(rows_of(in[1], attrs)), dy(in[0]), x(in[1]), mu(in[2]), rstd(in[3]) {
    if (attrs.get_bool("scale")) gamma = in[4];
    xhat = (x - mu) * rstd;
    g = gamma.defined() ? dy * gamma : dy;
    b = row_mean(g * xhat, rows);
  }
  // dx / rstd.
  Tensor h() const { return g - row_mean(g, rows) - xhat * b; }
};

std::vector<Tensor> layer_norm_backward_grad(const GradContext& c) {
  std::vector<Tensor> grads(c.inputs.size());
  const BackwardCall k(c.inputs, c.attrs);
  const Tensor& gdx = c.output_grads[0];
  const Tensor gdgamma = c.output_grads.size() > 1 ? c.output_grads[1] : Tensor();
  const Tensor gdbeta = c.output_grads.size() > 2 ? c.output_grads[2] : Tensor();
  Tensor ddy, dxhat, drstd;
  if (gdx.defined()) {
    drstd = row_sum(gdx * k.h(), k.rows);
    dxhat = -(k.rstd * (gdx * k.b + k.g * row_mean(gdx * k.xhat, k.rows)));
    const Tensor dg = xhat_derivative(gdx, k.x, k.mu, k.rstd, c.attrs);
    ddy = k.gamma.defined() ? dg * k.gamma : dg;
    if (k.gamma.defined()) grads[4] = sum_to(dg * k.dy, k.rows.normalized);
  }
  if (gdgamma.defined()) {
    ddy = add_defined(ddy, gdgamma * k.xhat);
    dxhat = add_defined(dxhat, gdgamma * k.dy);
  }
  if (gdbeta.defined()) ddy = add_defined(ddy, gdbeta.expand(k.x.shape()));
  grads[0] = ddy;
  if (dxhat.defined()) {
    grads[1] = dxhat * k.rstd;
    grads[2] = -(row_sum(dxhat, k.rows) * k.rstd);
    drstd = add_defined(drstd, row_sum(dxhat * (k.x - k.mu), k.rows));
  }
  grads[3] = drstd;
  return grads;
}

std::vector<Tensor> layer_norm_backward_jvp(const JvpContext& c) {
  const BackwardCall k(c.inputs, c.attrs);
  const std::span<const Tensor> t = c.input_tangents;
  Tensor txhat;  // of xhat = (x - mean) * rstd
  if (t[1].defined()) txhat = t[1] * k.rstd;
  if (t[2].defined()) txhat = add_defined(txhat, -(t[2] * k.rstd));
  if (t[3].defined()) txhat = add_defined(txhat, (k.x - k.mu) * t[3]);
  Tensor tg;  // of g = dy * gamma
  if (t[0].defined()) tg = k.gamma.defined() ? t[0] * k.gamma : t[0];
  if (k.gamma.defined() && t[4].defined()) tg = add_defined(tg, k.dy * t[4]);
  Tensor tdx;
  if (tg.defined()) tdx = xhat_derivative(tg, k.x, k.mu, k.rstd, c.attrs);
  if (t[3].defined()) tdx = add_defined(tdx, t[3] * k.h());
  if (txhat.defined()) {
    tdx = add_defined(tdx, -(k.rstd * (txhat * k.b + k.xhat * row_mean(k.g * txhat, k.rows))));
  }
  if (c.outputs.size() == 1) return {tdx};
  Tensor tdgamma, tdbeta;
  if (t[0].defined()) {
    tdgamma = t[0] * k.xhat;
    tdbeta = sum_to(t[0], k.rows.normalized);
  }
  if (txhat.defined()) tdgamma = add_defined(tdgamma, k.dy * txhat);
  if (tdgamma.defined()) tdgamma = sum_to(tdgamma, k.rows.normalized);
  return {tdx, tdgamma, tdbeta};
}

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  r.def("layer_norm")
      .variadic()
      .infer(infer_layer_norm)
      .grad(layer_norm_grad)
      .jvp(layer_norm_jvp)
      .onnx("LayerNormalization");
  r.def("layer_norm_backward")
      .variadic()
      .infer(infer_layer_norm_backward)
      .grad(layer_norm_backward_grad)
      .jvp(layer_norm_backward_jvp);
}

}  // namespace tenflowers
