// linear(x, w[, b]) = activation(x @ w + b), a dense layer's forward in one op: x [..., in],
// w [in, out], b [out], y [..., out]; activation "linear" (none) or "relu". Devices fuse the
// bias and the activation into the product's epilogue (cuBLASLt) or into one pass after it.
// Its gradient, in ops, works from the output: relu's slope at z = x @ w + b is nonzero exactly
// where y = relu(z) is, so dz = relu_grad(y, dy); then dx = dz @ w^T, dw = x^T dz over all
// rows, db = the sum of dz over them.
#include <string>

#include "src/core/api/op_call.hpp"
#include "src/core/ops/derivatives.hpp"
#include "src/core/ops/linear.hpp"
#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

LinearActivation linear_activation(const Attrs& attrs) {
  const std::string& name = attrs.get_string("activation");
  if (name == "linear") return LinearActivation::None;
  if (name == "relu") return LinearActivation::Relu;
  throw InvalidArgument("linear: activation must be \"linear\" or \"relu\", got \"" + name + "\"");
}

namespace {

void infer_linear(InferContext& ctx) {
  const bool bias = ctx.attrs.get_bool("bias");
  TF_CHECK(ctx.inputs.size() == (bias ? 3u : 2u), InvalidArgument, "linear: expected inputs (x, w",
           bias ? ", b" : "", ") for attributes ", ctx.attrs.str(), ", got ", ctx.inputs.size(),
           " inputs");
  linear_activation(ctx.attrs);
  const Tensor& x = ctx.inputs[0];
  const Tensor& w = ctx.inputs[1];
  TF_CHECK(is_floating(x.dtype()), DTypeError,
           "linear: expected a floating-point input (f16, bf16, f32 or f64), got ",
           dtype_name(x.dtype()));
  TF_CHECK(x.rank() >= 1, ShapeError, "linear: expected an input [..., in], got a 0-d tensor");
  TF_CHECK(w.rank() == 2 && w.shape()[0] == x.shape()[x.rank() - 1], ShapeError,
           "linear: expected a weight [in, out] with in = ", x.shape()[x.rank() - 1],
           " (the input's last axis), got shape ", w.shape());
  for (size_t i = 1; i < ctx.inputs.size(); ++i) {
    TF_CHECK(ctx.inputs[i].dtype() == x.dtype(), DTypeError, "linear: ", i == 1 ? "w" : "b",
             " has dtype ", dtype_name(ctx.inputs[i].dtype()), ", expected the input's ",
             dtype_name(x.dtype()));
  }
  const int64_t out = w.shape()[1];
  if (bias) {
    const Tensor& b = ctx.inputs[2];
    TF_CHECK(b.rank() == 1 && b.shape()[0] == out, ShapeError,
             "linear: expected a bias [out] with out = ", out, ", got shape ", b.shape());
  }
  Dims shape = x.shape();
  shape[shape.size() - 1] = out;
  ctx.add_output(x.dtype(), std::move(shape));
}

// The gradient at z = x @ w + b, from the output's.
Tensor pre_activation_grad(const Tensor& y, const Tensor& dy, const Attrs& attrs) {
  if (linear_activation(attrs) == LinearActivation::None) return dy;
  return dispatch1(TF_OP("relu_grad"), {y, dy});
}

std::vector<Tensor> linear_grad(const GradContext& c) {
  std::vector<Tensor> grads(c.inputs.size());
  const Tensor& dy = c.output_grads[0];
  if (!dy.defined()) return grads;
  const Tensor& x = c.inputs[0];
  const Tensor& w = c.inputs[1];
  const Tensor dz = pre_activation_grad(c.outputs[0], dy, c.attrs);
  const int64_t in = w.shape()[0], out = w.shape()[1];
  const Tensor dz_rows = dz.reshape({-1, out});
  if (c.needs_input_grad[0]) grads[0] = matmul(dz, w.transpose(0, 1));
  if (c.needs_input_grad[1]) grads[1] = matmul(x.reshape({-1, in}).transpose(0, 1), dz_rows);
  if (c.inputs.size() == 3 && c.needs_input_grad[2]) grads[2] = sum(dz_rows, {0});
  return grads;
}

// The tangent of z is dx @ w + x @ dw + db; relu passes it where the output is positive.
std::vector<Tensor> linear_jvp(const JvpContext& c) {
  const Tensor& dx = c.input_tangents[0];
  const Tensor& dw = c.input_tangents[1];
  Tensor dz;
  if (dx.defined()) dz = matmul(dx, c.inputs[1]);
  if (dw.defined()) dz = add_defined(dz, matmul(c.inputs[0], dw));
  if (c.inputs.size() == 3 && c.input_tangents[2].defined()) {
    dz = add_defined(dz, c.input_tangents[2]);
    if (dz.shape() != c.outputs[0].shape()) dz = dz.expand(c.outputs[0].shape());
  }
  if (!dz.defined()) return {Tensor()};
  return {pre_activation_grad(c.outputs[0], dz, c.attrs)};
}

}  // namespace

void register_linear_ops(OpRegistry& r) {
  r.def("linear").variadic().infer(infer_linear).grad(linear_grad).jvp(linear_jvp);
}

}  // namespace tenflowers
