// Batch normalization as fused ops. x has rank >= 2 and a channel axis (attribute "axis"); each
// channel is normalized over every other axis. gamma, beta, mean and var are [C] of x's dtype.
//   batch_norm(x, gamma, beta) -> (y, mean, var): training mode. mean and the biased variance
//     are the batch's; y = (x - mean) * rsqrt(var + epsilon) * gamma + beta.
//   batch_norm_inference(x, gamma, beta, mean, var) -> y: the same with given statistics
//     (ONNX BatchNormalization, whose channel axis is 1).
//   batch_norm_grad(x, dy, gamma, mean, var) -> (dx, dgamma, dbeta): batch_norm's gradient,
//     with xhat = (x - mean) * rstd, rstd = rsqrt(var + epsilon) and per-channel means over the
//     reduced axes: dx = gamma * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)),
//     dgamma = sum(dy * xhat), dbeta = sum(dy).
// Every rule below is written in tensor ops, so higher orders come free: batch_norm's gradient
// calls batch_norm_grad on the forward's own mean and var outputs, and batch_norm_grad's own
// gradient treats them as inputs, so a second derivative flows back through them into
// batch_norm's statistics outputs.
#include <cmath>

#include "src/core/api/op_call.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

void check_input(const Tensor& x, const std::string& op) {
  TF_CHECK(x.rank() >= 2, ShapeError, op,
           ": expected an input of rank 2 or more (a batch axis and a channel axis), got shape ",
           x.shape());
  TF_CHECK(is_floating(x.dtype()), DTypeError, op,
           ": expected a floating-point input (f16, bf16, f32 or f64), got ",
           dtype_name(x.dtype()));
}

void check_epsilon(const Attrs& attrs, const std::string& op) {
  const double epsilon = attrs.get_float("epsilon");
  TF_CHECK(std::isfinite(epsilon) && epsilon >= 0, InvalidArgument, op,
           ": epsilon must be finite and non-negative, got ", epsilon);
}

// Checks a per-channel operand ([C], x's dtype) named `what`.
void check_channel_vector(const Tensor& v, const Tensor& x, int64_t axis, const std::string& op,
                          const char* what) {
  const int64_t channels = x.size(axis);
  TF_CHECK(v.rank() == 1 && v.size(0) == channels, ShapeError, op, ": expected ", what,
           " of shape [", channels, "] (one value per channel of axis ", axis, " of input ",
           x.shape(), "), got ", v.shape());
  TF_CHECK(v.dtype() == x.dtype(), DTypeError, op, ": ", what, " has dtype ", dtype_name(v.dtype()),
           " but the input has ", dtype_name(x.dtype()));
}

// Checks x, the attributes and the per-channel inputs `names` (inputs 1, 2, ...); returns the
// normalized channel axis.
int64_t check_operands(const InferContext& ctx, std::initializer_list<const char*> names,
                       size_t first_vector = 1) {
  const std::string& op = ctx.op.name;
  const Tensor& x = ctx.inputs[0];
  check_input(x, op);
  check_epsilon(ctx.attrs, op);
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  size_t i = first_vector;
  for (const char* name : names) check_channel_vector(ctx.inputs[i++], x, axis, op, name);
  return axis;
}

void infer_batch_norm(InferContext& ctx) {
  const int64_t axis = check_operands(ctx, {"gamma", "beta"});
  const Tensor& x = ctx.inputs[0];
  const int64_t channels = x.size(axis);
  TF_CHECK(channels == 0 || x.numel() > 0, InvalidArgument,
           "batch_norm: the statistics of a channel over no elements are undefined (input shape ",
           x.shape(), ", channel axis ", axis, ")");
  ctx.add_output(x.dtype(), x.shape());
  ctx.add_output(x.dtype(), {channels});
  ctx.add_output(x.dtype(), {channels});
}

void infer_batch_norm_inference(InferContext& ctx) {
  check_operands(ctx, {"gamma", "beta", "mean", "var"});
  ctx.add_output(ctx.inputs[0].dtype(), ctx.inputs[0].shape());
}

void infer_batch_norm_grad(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& dy = ctx.inputs[1];
  const int64_t axis = check_operands(ctx, {"gamma", "mean", "var"}, 2);
  TF_CHECK(dy.shape() == x.shape(), ShapeError, "batch_norm_grad: the output gradient has shape ",
           dy.shape(), " but the input has ", x.shape());
  TF_CHECK(dy.dtype() == x.dtype(), DTypeError, "batch_norm_grad: the output gradient has dtype ",
           dtype_name(dy.dtype()), " but the input has ", dtype_name(x.dtype()));
  ctx.add_output(x.dtype(), x.shape());
  ctx.add_output(x.dtype(), {x.size(axis)});
  ctx.add_output(x.dtype(), {x.size(axis)});
}

// ---- gradient and forward-mode rules, in tensor ops -------------------------------------------

// How a call's per-channel vectors meet x: the reduced axes, the broadcastable shape of a [C]
// vector and the number of elements per channel.
struct Channels {
  std::vector<int64_t> reduced;
  Dims broadcast;
  double count = 1;
  double epsilon = 0;

  Channels(const Tensor& x, const Attrs& attrs) : epsilon(attrs.get_float("epsilon")) {
    const int64_t axis = normalize_axis(attrs.get_int("axis"), x.rank());
    std::vector<int64_t> shape(static_cast<size_t>(x.rank()), 1);
    for (int64_t a = 0; a < x.rank(); ++a) {
      if (a == axis) {
        shape[static_cast<size_t>(a)] = x.size(a);
      } else {
        reduced.push_back(a);
        count *= static_cast<double>(x.size(a));
      }
    }
    broadcast = Dims(shape);
  }
  Tensor spread(const Tensor& v) const { return v.reshape(broadcast); }      // [C] against x
  Tensor sum(const Tensor& t) const { return tenflowers::sum(t, reduced); }  // x-shaped to [C]
  Tensor rstd(const Tensor& var) const { return rsqrt(var + epsilon); }
};

// a + b where an undefined tensor is zero.
Tensor add_defined(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return a + b;
}

Tensor or_zeros(const Tensor& t, const Tensor& like) {
  return t.defined() ? t : zeros_like(like);
}

Attrs norm_attrs(const Attrs& attrs) {
  return Attrs{{"axis", attrs.get_int("axis")}, {"epsilon", attrs.get_float("epsilon")}};
}

// batch_norm: (dx, dgamma, dbeta) from batch_norm_grad, plus what flows in through the mean and
// var outputs: mean = sum(x) / M and var = sum((x - mean)^2) / M give each element dmean / M and
// dvar * 2 (x - mean) / M (var's dependence on mean cancels, as the deviations sum to zero).
std::vector<Tensor> batch_norm_grad_rule(const GradContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& mean = c.outputs[1];
  const Tensor& dy = c.output_grads[0];
  const Tensor& dmean = c.output_grads[1];
  const Tensor& dvar = c.output_grads[2];
  const std::vector<bool>& needs = c.needs_input_grad;
  std::vector<Tensor> grads(3);
  if (dy.defined() && (needs[0] || needs[1] || needs[2])) {
    const Tensor operands[] = {x, dy, c.inputs[1], mean, c.outputs[2]};
    std::vector<Tensor> g = dispatch(TF_OP("batch_norm_grad"), operands, norm_attrs(c.attrs));
    for (size_t i = 0; i < 3; ++i) {
      if (needs[i]) grads[i] = g[i];
    }
  }
  if (needs[0] && (dmean.defined() || dvar.defined())) {
    const Channels ch(x, c.attrs);
    Tensor share;
    if (dmean.defined()) share = (ch.spread(dmean) / ch.count).broadcast_to(x.shape());
    if (dvar.defined()) {
      share = add_defined(share, (x - ch.spread(mean)) * ch.spread(dvar) * (2.0 / ch.count));
    }
    grads[0] = add_defined(grads[0], share);
  }
  return grads;
}

// Tangents: tmean = mean(tx), tvar = 2 mean((x - mean) * tx), trstd = -rstd^3 tvar / 2,
// txhat = (tx - tmean) * rstd + (x - mean) * trstd, ty = tgamma * xhat + gamma * txhat + tbeta.
std::vector<Tensor> batch_norm_jvp(const JvpContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& gamma = c.inputs[1];
  const Tensor& mean = c.outputs[1];
  const Channels ch(x, c.attrs);
  const Tensor rstd = ch.rstd(c.outputs[2]);
  const Tensor xc = x - ch.spread(mean);
  Tensor ty, tmean, tvar;
  if (const Tensor& tx = c.input_tangents[0]; tx.defined()) {
    tmean = ch.sum(tx) / ch.count;
    tvar = ch.sum(xc * tx) * (2.0 / ch.count);
    const Tensor trstd = rstd * rstd * rstd * tvar * -0.5;
    const Tensor txhat = (tx - ch.spread(tmean)) * ch.spread(rstd) + xc * ch.spread(trstd);
    ty = txhat * ch.spread(gamma);
  }
  if (const Tensor& tgamma = c.input_tangents[1]; tgamma.defined()) {
    ty = add_defined(ty, xc * ch.spread(rstd * tgamma));
  }
  if (const Tensor& tbeta = c.input_tangents[2]; tbeta.defined()) {
    ty = add_defined(ty, ch.spread(tbeta).broadcast_to(x.shape()));
  }
  return {ty, tmean, tvar};
}

// What batch_norm_grad's rules share: with u = dy - A / M - xhat * B / M (A = sum(dy),
// B = sum(dy * xhat)) its outputs are dx = k * u (k = gamma * rstd), dgamma = B, dbeta = A.
struct GradTerms {
  Channels ch;
  Tensor rstd, k, xc, xhat, a, b, u;

  GradTerms(const std::span<const Tensor> in, const Attrs& attrs) : ch(in[0], attrs) {
    const Tensor& dy = in[1];
    rstd = ch.rstd(in[4]);
    k = in[2] * rstd;
    xc = in[0] - ch.spread(in[3]);
    xhat = xc * ch.spread(rstd);
    a = ch.sum(dy);
    b = ch.sum(dy * xhat);
    u = dy - ch.spread(a / ch.count) - xhat * ch.spread(b / ch.count);
  }
};

// The adjoint of batch_norm_grad in all five inputs (mean and var as independent inputs), for
// cotangents g (of dx), g_gamma and g_beta. Through xhat: the cotangent of xhat is
// g_xhat = -k / M * (dy * sum(g * xhat) + g * B) + g_gamma * dy, which reaches x as g_xhat * rstd
// and mean as -sum(g_xhat) * rstd; rstd collects gamma * sum(g * u) (through k) and
// sum(g_xhat * (x - mean)), and var gets that times -rstd^3 / 2.
std::vector<Tensor> batch_norm_grad_grad(const GradContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& dy = c.inputs[1];
  const Tensor& gamma = c.inputs[2];
  const Tensor& g = c.output_grads[0];
  const Tensor& g_gamma = c.output_grads[1];
  const Tensor& g_beta = c.output_grads[2];
  const GradTerms t(c.inputs, c.attrs);
  const Channels& ch = t.ch;
  Tensor g_x, g_dy, g_gamma_in, g_xhat, through_k;
  if (g.defined()) {
    const Tensor sg = ch.sum(g) / ch.count;
    const Tensor sgx = ch.sum(g * t.xhat) / ch.count;
    g_dy = ch.spread(t.k) * (g - ch.spread(sg) - t.xhat * ch.spread(sgx));
    g_xhat = ch.spread(t.k) * -(dy * ch.spread(sgx) + g * ch.spread(t.b / ch.count));
    through_k = ch.sum(g * t.u);
    g_gamma_in = through_k * t.rstd;
  }
  if (g_gamma.defined()) {
    g_dy = add_defined(g_dy, t.xhat * ch.spread(g_gamma));
    g_xhat = add_defined(g_xhat, dy * ch.spread(g_gamma));
  }
  if (g_beta.defined()) g_dy = add_defined(g_dy, ch.spread(g_beta).broadcast_to(x.shape()));
  std::vector<Tensor> grads{Tensor(), g_dy, g_gamma_in, Tensor(), Tensor()};
  if (!g_xhat.defined()) return grads;
  const Tensor rstd = ch.spread(t.rstd);
  grads[0] = g_xhat * rstd;
  grads[3] = -ch.sum(g_xhat) * t.rstd;
  Tensor d_rstd = ch.sum(g_xhat * t.xc);
  if (through_k.defined()) d_rstd = d_rstd + through_k * gamma;
  grads[4] = d_rstd * t.rstd * t.rstd * t.rstd * -0.5;
  return grads;
}

// Tangents of batch_norm_grad's outputs from those of its five inputs (undefined ones are
// zero): trstd = -rstd^3 tvar / 2, txhat = (tx - tmean) * rstd + (x - mean) * trstd,
// tA = sum(tdy), tB = sum(tdy * xhat + dy * txhat), tk = tgamma * rstd + gamma * trstd,
// tdx = tk * u + k * (tdy - tA / M - txhat * B / M - xhat * tB / M).
std::vector<Tensor> batch_norm_grad_jvp(const JvpContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& dy = c.inputs[1];
  const Tensor& gamma = c.inputs[2];
  const GradTerms t(c.inputs, c.attrs);
  const Channels& ch = t.ch;
  const std::span<const Tensor> in = c.input_tangents;
  const Tensor tx = or_zeros(in[0], x), tdy = or_zeros(in[1], dy), tgamma = or_zeros(in[2], gamma);
  const Tensor tmean = or_zeros(in[3], gamma), tvar = or_zeros(in[4], gamma);
  const Tensor trstd = t.rstd * t.rstd * t.rstd * tvar * -0.5;
  const Tensor txhat = (tx - ch.spread(tmean)) * ch.spread(t.rstd) + t.xc * ch.spread(trstd);
  const Tensor ta = ch.sum(tdy);
  const Tensor tb = ch.sum(tdy * t.xhat + dy * txhat);
  const Tensor tk = tgamma * t.rstd + gamma * trstd;
  const Tensor tu = tdy - ch.spread(ta / ch.count) - txhat * ch.spread(t.b / ch.count) -
                    t.xhat * ch.spread(tb / ch.count);
  return {ch.spread(tk) * t.u + ch.spread(t.k) * tu, tb, ta};
}

// batch_norm_inference: y = (x - mean) * s + beta with s = gamma * rstd.
std::vector<Tensor> batch_norm_inference_grad(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  std::vector<Tensor> grads(5);
  if (!dy.defined()) return grads;
  const Tensor& x = c.inputs[0];
  const Tensor& gamma = c.inputs[1];
  const Channels ch(x, c.attrs);
  const Tensor rstd = ch.rstd(c.inputs[4]);
  const Tensor scale = gamma * rstd;
  const std::vector<bool>& needs = c.needs_input_grad;
  if (needs[0]) grads[0] = dy * ch.spread(scale);
  Tensor dy_xc;
  if (needs[1] || needs[4]) dy_xc = ch.sum(dy * (x - ch.spread(c.inputs[3])));
  if (needs[1]) grads[1] = dy_xc * rstd;
  if (needs[2] || needs[3]) {
    const Tensor dy_sum = ch.sum(dy);
    if (needs[2]) grads[2] = dy_sum;
    if (needs[3]) grads[3] = -dy_sum * scale;
  }
  if (needs[4]) grads[4] = dy_xc * gamma * rstd * rstd * rstd * -0.5;
  return grads;
}

std::vector<Tensor> batch_norm_inference_jvp(const JvpContext& c) {
  const Tensor& x = c.inputs[0];
  const Tensor& gamma = c.inputs[1];
  const Tensor& mean = c.inputs[3];
  const Channels ch(x, c.attrs);
  const Tensor rstd = ch.rstd(c.inputs[4]);
  const std::span<const Tensor> t = c.input_tangents;
  Tensor ty;
  // Through x and mean: (tx - tmean) * scale.
  if (t[0].defined() || t[3].defined()) {
    const Tensor centered = t[3].defined() ? or_zeros(t[0], x) - ch.spread(t[3]) : t[0];
    ty = centered * ch.spread(gamma * rstd);
  }
  // Through gamma and var: (x - mean) * (tgamma * rstd + gamma * trstd).
  if (t[1].defined() || t[4].defined()) {
    Tensor tscale;
    if (t[1].defined()) tscale = t[1] * rstd;
    if (t[4].defined()) tscale = add_defined(tscale, gamma * rstd * rstd * rstd * t[4] * -0.5);
    ty = add_defined(ty, (x - ch.spread(mean)) * ch.spread(tscale));
  }
  if (t[2].defined()) ty = add_defined(ty, ch.spread(t[2]).broadcast_to(x.shape()));
  return {ty};
}

}  // namespace

void register_batch_norm_ops(OpRegistry& r) {
  r.def("batch_norm")
      .inputs(3)
      .infer(infer_batch_norm)
      .grad(batch_norm_grad_rule)
      .jvp(batch_norm_jvp);
  r.def("batch_norm_inference")
      .inputs(5)
      .infer(infer_batch_norm_inference)
      .grad(batch_norm_inference_grad)
      .jvp(batch_norm_inference_jvp)
      .onnx("BatchNormalization");
  r.def("batch_norm_grad")
      .inputs(5)
      .infer(infer_batch_norm_grad)
      .grad(batch_norm_grad_grad)
      .jvp(batch_norm_grad_jvp);
}

}  // namespace tenflowers
