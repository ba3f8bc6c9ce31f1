// The one-input elementwise ops on the GPU (functors in unary_ops.cuh). Floating ops compute in
// f32 for the 16-bit floats.
#include "src/backends/cuda/kernels/elementwise.cuh"
#include "src/backends/cuda/kernels/unary_ops.cuh"

namespace tenflowers::cuda {
namespace {

using namespace unary_ops;

template <class Op, class List>
const char* run(DType type, const ElementwiseArgs& args, const char* name, Op op = {}) {
  return with_type(type, List{}, [&](auto t) {
    return launch_elementwise<decltype(t), decltype(t), 1>(op, args, name);
  });
}

}  // namespace

const char* launch_unary(UnaryOp op, DType type, const ElementwiseArgs& a) {
  using U = UnaryOp;
  switch (op) {
    case U::Neg:
      return run<Neg, NumericTypes>(type, a, "neg");
    case U::Abs:
      return run<Abs, NumericTypes>(type, a, "abs");
    case U::Sign:
      return run<Sign, NumericTypes>(type, a, "sign");
    case U::Square:
      return run<Square, NumericTypes>(type, a, "square");
    case U::Relu:
      return run<Relu, NumericTypes>(type, a, "relu");
    case U::Floor:
      return is_floating(type) ? run<Floor, FloatTypes>(type, a, "floor")
                               : run<Identity, BoolAndIntTypes>(type, a, "floor");
    case U::Ceil:
      return is_floating(type) ? run<Ceil, FloatTypes>(type, a, "ceil")
                               : run<Identity, BoolAndIntTypes>(type, a, "ceil");
    case U::Round:
      return is_floating(type) ? run<Round, FloatTypes>(type, a, "round")
                               : run<Identity, BoolAndIntTypes>(type, a, "round");
    case U::Exp:
      return run<Exp, FloatTypes>(type, a, "exp");
    case U::Expm1:
      return run<Expm1, FloatTypes>(type, a, "expm1");
    case U::Log:
      return run<Log, FloatTypes>(type, a, "log");
    case U::Log1p:
      return run<Log1p, FloatTypes>(type, a, "log1p");
    case U::Sqrt:
      return run<Sqrt, FloatTypes>(type, a, "sqrt");
    case U::Rsqrt:
      return run<Rsqrt, FloatTypes>(type, a, "rsqrt");
    case U::Reciprocal:
      return run<Reciprocal, FloatTypes>(type, a, "reciprocal");
    case U::Sin:
      return run<Sin, FloatTypes>(type, a, "sin");
    case U::Cos:
      return run<Cos, FloatTypes>(type, a, "cos");
    case U::Tan:
      return run<Tan, FloatTypes>(type, a, "tan");
    case U::Tanh:
      return run<Tanh, FloatTypes>(type, a, "tanh");
    case U::Sigmoid:
      return run<Sigmoid, FloatTypes>(type, a, "sigmoid");
    case U::Erf:
      return run<Erf, FloatTypes>(type, a, "erf");
    case U::LeakyRelu:
      return run<LeakyRelu, FloatTypes>(type, a, "leaky_relu", LeakyRelu{a.params[0]});
    case U::Elu:
      return run<Elu, FloatTypes>(type, a, "elu", Elu{a.params[0]});
    case U::Gelu:
      return run<Gelu, FloatTypes>(type, a, "gelu");
    case U::GeluTanh:
      return run<GeluTanh, FloatTypes>(type, a, "gelu_tanh");
    case U::Silu:
      return run<Silu, FloatTypes>(type, a, "silu");
    case U::Softplus:
      return run<Softplus, FloatTypes>(type, a, "softplus", Softplus{a.params[0], a.params[1]});
    case U::IsNan:
      return is_floating(type) ? run<IsNan, FloatTypes>(type, a, "isnan")
                               : run<IsNan, BoolAndIntTypes>(type, a, "isnan");
    case U::IsFinite:
      return is_floating(type) ? run<IsFinite, FloatTypes>(type, a, "isfinite")
                               : run<IsFinite, BoolAndIntTypes>(type, a, "isfinite");
    case U::LogicalNot:
      return run<LogicalNot, TypeList<bool>>(type, a, "logical_not");
  }
  return nullptr;
}

}  // namespace tenflowers::cuda
