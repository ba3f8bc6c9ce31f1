// The two- and three-input elementwise ops on the GPU (functors in binary_ops.cuh):
// arithmetic, comparisons, logic, where and clamp.
#include "src/backends/cuda/kernels/binary_ops.cuh"
#include "src/backends/cuda/kernels/elementwise.cuh"

namespace tenflowers::cuda {
namespace {

using namespace binary_ops;

template <class Op, class List>
const char* run(DType type, const ElementwiseArgs& args, const char* name, Op op = {}) {
  return with_type(type, List{}, [&](auto t) {
    return launch_elementwise<decltype(t), decltype(t), 2>(op, args, name);
  });
}

}  // namespace

const char* launch_binary(BinaryOp op, DType type, const ElementwiseArgs& a) {
  using B = BinaryOp;
  switch (op) {
    case B::Add:
      return run<Add, AllTypes>(type, a, "add");
    case B::Sub:
      return run<Sub, NumericTypes>(type, a, "sub");
    case B::Mul:
      return run<Mul, AllTypes>(type, a, "mul");
    case B::Div:
      return run<Div, FloatTypes>(type, a, "div");
    case B::Pow:
      return run<Pow, NumericTypes>(type, a, "pow");
    case B::Maximum:
      return run<Maximum, AllTypes>(type, a, "maximum");
    case B::Minimum:
      return run<Minimum, AllTypes>(type, a, "minimum");
    case B::Mod:
      return run<Mod, NumericTypes>(type, a, "mod");
    case B::Atan2:
      return run<Atan2, FloatTypes>(type, a, "atan2");
    case B::ReluGrad:
      return run<ReluGrad, FloatTypes>(type, a, "relu_grad");
    case B::Eq:
      return run<Eq, AllTypes>(type, a, "eq");
    case B::Ne:
      return run<Ne, AllTypes>(type, a, "ne");
    case B::Lt:
      return run<Lt, AllTypes>(type, a, "lt");
    case B::Le:
      return run<Le, AllTypes>(type, a, "le");
    case B::Gt:
      return run<Gt, AllTypes>(type, a, "gt");
    case B::Ge:
      return run<Ge, AllTypes>(type, a, "ge");
    case B::LogicalAnd:
      return run<LogicalAnd, TypeList<bool>>(type, a, "logical_and");
    case B::LogicalOr:
      return run<LogicalOr, TypeList<bool>>(type, a, "logical_or");
    case B::LogicalXor:
      return run<LogicalXor, TypeList<bool>>(type, a, "logical_xor");
  }
  return nullptr;
}

const char* launch_where(DType type, const ElementwiseArgs& args) {
  return with_type(type, AllTypes{}, [&](auto t) {
    return launch_elementwise<decltype(t), bool, 3>(Where{}, args, "where");
  });
}

const char* launch_clamp(DType type, const ElementwiseArgs& args) {
  return with_type(type, NumericTypes{}, [&](auto t) {
    return launch_elementwise<decltype(t), decltype(t), 1>(Clamp{args.params[0], args.params[1]},
                                                           args, "clamp");
  });
}

}  // namespace tenflowers::cuda
