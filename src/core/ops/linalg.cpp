// matmul (NumPy semantics) and the softmax family, with its one-pass gradient ops.
#include <algorithm>

#include "src/core/api/op_call.hpp"
#include "src/core/ops/derivatives.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

// Output shape of NumPy matmul: a 1-d left operand is a row vector and a 1-d right operand a
// column vector, batch dimensions broadcast, and the axes added for 1-d operands are removed.
Dims matmul_shape(const Dims& a, const Dims& b) {
  const size_t ra = a.size(), rb = b.size();
  TF_CHECK(ra >= 1 && rb >= 1, ShapeError, "matmul: operands must have rank >= 1, got shapes ", a,
           " and ", b);
  const int64_t k_left = a[ra - 1];
  const int64_t k_right = rb == 1 ? b[0] : b[rb - 2];
  if (k_left != k_right) {
    throw ShapeError("matmul: inner dimensions differ: " + format_dims(a.vec()) + " @ " +
                         format_dims(b.vec()) + " (the last axis of the left operand must match " +
                         (rb == 1 ? "the right vector" : "the second-to-last axis of the right") +
                         ")",
                     {k_left}, {k_right});
  }
  const Dims a_batch(a.begin(), a.end() - std::min<size_t>(ra, 2));
  const Dims b_batch(b.begin(), b.end() - std::min<size_t>(rb, 2));
  Dims shape;
  try {
    shape = broadcast_shapes(a_batch, b_batch);
  } catch (const ShapeError&) {
    throw ShapeError("matmul: batch dimensions of " + format_dims(a.vec()) + " and " +
                     format_dims(b.vec()) + " do not broadcast");
  }
  if (ra >= 2) shape.push_back(a[ra - 2]);
  if (rb >= 2) shape.push_back(b[rb - 1]);
  return shape;
}

// The op takes operands of one dtype (as ONNX MatMul); the public matmul() promotes first.
void infer_matmul(InferContext& ctx) {
  const Tensor& a = ctx.inputs[0];
  const Tensor& b = ctx.inputs[1];
  Dims shape = matmul_shape(a.shape(), b.shape());
  TF_CHECK(a.dtype() == b.dtype(), DTypeError, "matmul: operand dtypes differ (",
           dtype_name(a.dtype()), " and ", dtype_name(b.dtype()),
           "); cast them to one dtype (tenflowers::matmul promotes them)");
  TF_CHECK(a.dtype() != DType::Bool, DTypeError,
           "matmul: bool operands are not supported; cast them to an integer or floating dtype");
  ctx.add_output(a.dtype(), std::move(shape));
}

// Softmax over one axis; a 0-d input is a single element along axis 0 (or -1).
void infer_softmax(InferContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  normalize_axis(ctx.attrs.get_int("axis"), std::max<int64_t>(x.rank(), 1));
  ctx.add_output(to_floating(x.dtype()), x.shape());
}

// Gradients of y = a @ b: dA = dY @ B^T and dB = A^T @ dY, summed over broadcast batch axes.
// 1-d operands are promoted to matrices as the forward does ([K] -> [1,K] on the left, [K,1] on
// the right) and dY gets the axes the forward removed, so one batched formula covers every case.
std::vector<Tensor> matmul_grad(const GradContext& c) {
  const Tensor& a = c.inputs[0];
  const Tensor& b = c.inputs[1];
  const Tensor& dy = c.output_grads[0];
  const bool want_a = c.needs_input_grad[0] && is_floating(a.dtype());
  const bool want_b = c.needs_input_grad[1] && is_floating(b.dtype());
  if (!dy.defined() || (!want_a && !want_b)) return {Tensor(), Tensor()};
  const Tensor a2 = a.rank() == 1 ? a.unsqueeze(0) : a;
  const Tensor b2 = b.rank() == 1 ? b.unsqueeze(1) : b;
  Tensor dy2 = b.rank() == 1 ? dy.unsqueeze(-1) : dy;
  if (a.rank() == 1) dy2 = dy2.unsqueeze(-2);
  Tensor da, db;
  if (want_a) da = sum_to(matmul(dy2, b2.transpose(-2, -1)), a2.shape()).reshape(a.shape());
  if (want_b && b2.rank() == 2 && a2.rank() > 2) {
    // b is shared by every batch entry: one product over all of a's rows rather than a batch of
    // products summed afterwards.
    const int64_t k = a2.shape()[a2.rank() - 1], n = dy2.shape()[dy2.rank() - 1];
    db = matmul(a2.reshape({-1, k}).transpose(0, 1), dy2.reshape({-1, n})).reshape(b.shape());
  } else if (want_b) {
    db = sum_to(matmul(a2.transpose(-2, -1), dy2), b2.shape()).reshape(b.shape());
  }
  return {da, db};
}

// d(a @ b) = da @ b + a @ db; matmul itself handles 1-d operands and broadcasting.
std::vector<Tensor> matmul_jvp(const JvpContext& c) {
  const Tensor& da = c.input_tangents[0];
  const Tensor& db = c.input_tangents[1];
  Tensor dy;
  if (da.defined()) dy = matmul(da, c.inputs[1]);
  if (db.defined()) dy = add_defined(dy, matmul(c.inputs[0], db));
  return {dy};
}

// Sum along the softmax axis, keeping it; a 0-d input is its own single-element axis.
Tensor sum_along(const Tensor& t, const Attrs& attrs) {
  if (t.rank() == 0) return t;
  return sum(t, {attrs.get_int("axis")}, /*keepdims=*/true);
}

// softmax_grad(y, dy) = y * (dy - sum(dy * y)) and log_softmax_grad(y, dy) = dy - exp(y) * sum(dy),
// summed along `axis`: the gradients of softmax and log_softmax from their output y, one pass
// over each lane instead of four elementwise and reduction kernels. The op treats y as a free
// input (it does not assume a lane of softmax sums to 1), so its own rules hold for any y.
void infer_softmax_grad(InferContext& ctx) {
  const Tensor& y = ctx.inputs[0];
  const Tensor& dy = ctx.inputs[1];
  const std::string& op = ctx.op.name;
  normalize_axis(ctx.attrs.get_int("axis"), std::max<int64_t>(y.rank(), 1));
  TF_CHECK(is_floating(y.dtype()), DTypeError, op, ": y must be floating, got ",
           dtype_name(y.dtype()));
  TF_CHECK(dy.dtype() == y.dtype(), DTypeError, op, ": the output gradient has dtype ",
           dtype_name(dy.dtype()), " but y has ", dtype_name(y.dtype()));
  TF_CHECK(dy.shape() == y.shape(), ShapeError, op, ": the output gradient has shape ", dy.shape(),
           " but y has ", y.shape());
  ctx.add_output(y.dtype(), y.shape());
}

Tensor softmax_grad_of(const Tensor& y, const Tensor& dy, const Attrs& attrs) {
  return dispatch1(TF_OP("softmax_grad"), {y, dy}, attrs);
}

Tensor log_softmax_grad_of(const Tensor& y, const Tensor& dy, const Attrs& attrs) {
  return dispatch1(TF_OP("log_softmax_grad"), {y, dy}, attrs);
}

// y = softmax(x): dx = y * (dy - sum(dy * y)), reusing the forward output.
std::vector<Tensor> softmax_vjp(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0] || !is_floating(c.inputs[0].dtype())) {
    return {Tensor()};
  }
  return {softmax_grad_of(c.outputs[0], dy, c.attrs)};
}

// The Jacobian of softmax is symmetric, so its JVP is its VJP: y * (t - sum(t * y)).
std::vector<Tensor> softmax_jvp(const JvpContext& c) {
  const Tensor& t = c.input_tangents[0];
  if (!t.defined()) return {Tensor()};
  return {softmax_grad_of(c.outputs[0], t, c.attrs)};
}

// y = log_softmax(x), softmax(x) = exp(y): dx = dy - exp(y) * sum(dy).
std::vector<Tensor> log_softmax_vjp(const GradContext& c) {
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined() || !c.needs_input_grad[0] || !is_floating(c.inputs[0].dtype())) {
    return {Tensor()};
  }
  return {log_softmax_grad_of(c.outputs[0], dy, c.attrs)};
}

std::vector<Tensor> log_softmax_jvp(const JvpContext& c) {
  const Tensor& t = c.input_tangents[0];
  if (!t.defined()) return {Tensor()};
  return {t - sum_along(t * exp(c.outputs[0]), c.attrs)};
}

// dx = y * dy - y * s with s = sum(dy * y) is linear in dy with a symmetric map, so the
// gradient for dy is softmax_grad(y, u); for y it is u * (dy - s) - dy * sum(u * y).
std::vector<Tensor> softmax_grad_vjp(const GradContext& c) {
  std::vector<Tensor> grads(2);
  const Tensor& u = c.output_grads[0];
  if (!u.defined()) return grads;
  const Tensor &y = c.inputs[0], &dy = c.inputs[1];
  if (c.needs_input_grad[0]) {
    grads[0] = u * (dy - sum_along(dy * y, c.attrs)) - dy * sum_along(u * y, c.attrs);
  }
  if (c.needs_input_grad[1]) grads[1] = softmax_grad_of(y, u, c.attrs);
  return grads;
}

std::vector<Tensor> softmax_grad_jvp(const JvpContext& c) {
  const Tensor &y = c.inputs[0], &dy = c.inputs[1];
  const Tensor &ty = c.input_tangents[0], &tdy = c.input_tangents[1];
  Tensor out;
  if (tdy.defined()) out = softmax_grad_of(y, tdy, c.attrs);
  if (ty.defined()) {
    out =
        add_defined(out, ty * (dy - sum_along(dy * y, c.attrs)) - y * sum_along(dy * ty, c.attrs));
  }
  return {out};
}

// dx = dy - e * S with e = exp(y) and S = sum(dy): for dy the adjoint u - sum(u * e), for y
// -u * e * S.
std::vector<Tensor> log_softmax_grad_vjp(const GradContext& c) {
  std::vector<Tensor> grads(2);
  const Tensor& u = c.output_grads[0];
  if (!u.defined()) return grads;
  const Tensor e = exp(c.inputs[0]);
  if (c.needs_input_grad[0]) grads[0] = neg(u * e * sum_along(c.inputs[1], c.attrs));
  if (c.needs_input_grad[1]) grads[1] = u - sum_along(u * e, c.attrs);
  return grads;
}

std::vector<Tensor> log_softmax_grad_jvp(const JvpContext& c) {
  const Tensor &y = c.inputs[0], &dy = c.inputs[1];
  const Tensor &ty = c.input_tangents[0], &tdy = c.input_tangents[1];
  Tensor out;
  if (tdy.defined()) out = log_softmax_grad_of(y, tdy, c.attrs);
  if (ty.defined()) out = add_defined(out, neg(exp(y) * ty * sum_along(dy, c.attrs)));
  return {out};
}

}  // namespace

void register_linalg_ops(OpRegistry& r) {
  r.def("matmul").inputs(2).infer(infer_matmul).grad(matmul_grad).jvp(matmul_jvp).onnx("MatMul");
  r.def("softmax")
      .inputs(1)
      .infer(infer_softmax)
      .grad(softmax_vjp)
      .jvp(softmax_jvp)
      .onnx("Softmax");
  r.def("log_softmax")
      .inputs(1)
      .infer(infer_softmax)
      .grad(log_softmax_vjp)
      .jvp(log_softmax_jvp)
      .onnx("LogSoftmax");
  // Backward ops, like relu_grad and max_pool2d_grad, have no ONNX mapping: an exported graph
  // holds the forward ops and ONNX runtimes differentiate those themselves.
  r.def("softmax_grad")
      .inputs(2)
      .infer(infer_softmax_grad)
      .grad(softmax_grad_vjp)
      .jvp(softmax_grad_jvp);
  r.def("log_softmax_grad")
      .inputs(2)
      .infer(infer_softmax_grad)
      .grad(log_softmax_grad_vjp)
      .jvp(log_softmax_grad_jvp);
}

}  // namespace tenflowers
