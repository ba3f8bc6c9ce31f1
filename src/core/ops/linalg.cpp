// matmul (NumPy semantics) and the softmax family.
#include <algorithm>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
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

}  // namespace

void register_linalg_ops(OpRegistry& r) {
  r.def("matmul").inputs(2).infer(infer_matmul).onnx("MatMul");
  r.def("softmax").inputs(1).infer(infer_softmax).onnx("Softmax");
  r.def("log_softmax").inputs(1).infer(infer_softmax).onnx("LogSoftmax");
}

}  // namespace tenflowers
