// Host side of the CUDA elementwise kernels: picks the dtype each op computes in (casting
// inputs on the GPU where they differ), lays out the operands (contiguous, single values, or
// merged strided axes) and launches the kernel on the device's stream.
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "src/backends/common/strided_iter.hpp"
#include "src/backends/cuda/elementwise_codes.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/launch.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

// Operand layout for out = f(inputs): linear when every input is contiguous with the output's
// shape or a single value, else the merged strided iteration space.
template <size_t N>
ElementwiseArgs layout_args(const Tensor& out, const std::array<const Tensor*, N>& inputs) {
  ElementwiseArgs args;
  args.numel = out.numel();
  args.out = out.data_ptr();
  args.stream = use_device(out.device().index);
  args.linear = out.is_contiguous();
  for (size_t k = 0; k < N; ++k) {
    const Tensor& t = *inputs[k];
    args.in[k] = t.data_ptr();
    if (t.numel() == 1) {
      args.single_mask |= 1u << k;
    } else if (!(t.shape() == out.shape() && t.is_contiguous())) {
      args.linear = false;
    }
  }
  if (args.linear) return args;
  std::array<const Tensor*, N + 1> operands{&out};
  for (size_t k = 0; k < N; ++k) operands[k + 1] = inputs[k];
  const StridedIter<N + 1> it = make_iter<N + 1>(out.shape(), operands);
  if (it.shape.size() > static_cast<size_t>(kMaxDims)) {
    throw UnsupportedError("the CUDA elementwise kernels handle at most " +
                           std::to_string(kMaxDims) + " axes after merging contiguous ones, got " +
                           std::to_string(it.shape.size()));
  }
  args.ndim = static_cast<int>(it.shape.size());
  for (int d = 0; d < args.ndim; ++d) {
    args.sizes[d] = it.shape[static_cast<size_t>(d)];
    args.out_byte_strides[d] = it.strides[0][static_cast<size_t>(d)];
    for (size_t k = 0; k < N; ++k)
      args.byte_strides[k][d] = it.strides[k + 1][static_cast<size_t>(d)];
  }
  return args;
}

// Layout for kernels that write a contiguous output (every op but copy and cast).
template <size_t N>
ElementwiseArgs contiguous_out_args(const Tensor& out, const std::array<const Tensor*, N>& inputs) {
  if (!out.is_contiguous())
    throw InternalError("CUDA elementwise kernels write contiguous outputs");
  return layout_args<N>(out, inputs);
}

enum class Compute { Input, Floating, Bool };

void run_unary(KernelContext& ctx, UnaryOp op, Compute compute, double p0 = 0, double p1 = 0) {
  const DType in = ctx.inputs[0].dtype();
  const DType type = compute == Compute::Floating ? to_floating(in)
                     : compute == Compute::Bool   ? DType::Bool
                                                  : in;
  const Tensor x = as_type(ctx.inputs[0], type);
  ElementwiseArgs args = contiguous_out_args<1>(ctx.outputs[0], {&x});
  args.params[0] = p0;
  args.params[1] = p1;
  finish_launch(ctx, launch_unary(op, type, args), type);
}

struct UnarySpec {
  const char* op;
  UnaryOp code;
  Compute compute;
  bool numeric_only;  // undefined for bool inputs
};

enum class BinaryCompute { Promoted, Floating, Logical };

struct BinarySpec {
  const char* op;
  BinaryOp code;
  BinaryCompute compute;
};

void run_binary(KernelContext& ctx, const BinarySpec& spec) {
  const DType promoted = promote_types(ctx.inputs[0].dtype(), ctx.inputs[1].dtype());
  const DType type = spec.compute == BinaryCompute::Floating  ? to_floating(promoted)
                     : spec.compute == BinaryCompute::Logical ? DType::Bool
                                                              : promoted;
  const Tensor a = as_type(ctx.inputs[0], type);
  const Tensor b = as_type(ctx.inputs[1], type);
  if (is_integral(type) && (spec.code == BinaryOp::Mod || spec.code == BinaryOp::Pow)) {
    // What the kernel cannot report: read the divisors or exponents back (integer mod and pow
    // only).
    std::vector<double> values;
    {
      HooksPaused paused;
      values = b.to_vector<double>();
    }
    const bool mod = spec.code == BinaryOp::Mod;
    for (double v : values) {
      TF_CHECK(mod ? v != 0.0 : v >= 0.0, InvalidArgument,
               mod ? "mod: integer division by zero (the divisor has a zero element)"
                   : "pow: integers cannot be raised to negative integer powers; cast to a "
                     "floating dtype first");
    }
  }
  finish_launch(
      ctx, launch_binary(spec.code, type, contiguous_out_args<2>(ctx.outputs[0], {&a, &b})), type);
}

void where_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const Tensor condition = as_type(ctx.inputs[0], DType::Bool);
  const Tensor x = as_type(ctx.inputs[1], out.dtype());
  const Tensor y = as_type(ctx.inputs[2], out.dtype());
  finish_launch(ctx, launch_where(out.dtype(), contiguous_out_args<3>(out, {&condition, &x, &y})),
                out.dtype());
}

void clamp_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const Tensor x = as_type(ctx.inputs[0], out.dtype());
  ElementwiseArgs args = contiguous_out_args<1>(out, {&x});
  args.params[0] = ctx.attrs.get_float_or("min", -kInf);
  args.params[1] = ctx.attrs.get_float_or("max", kInf);
  finish_launch(ctx, launch_clamp(out.dtype(), args), out.dtype());
}

void convert_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const Tensor& in = ctx.inputs[0];
  finish_launch(ctx, launch_convert(out.dtype(), in.dtype(), layout_args<1>(out, {&in})),
                out.dtype());
}

void fill_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  finish_launch(ctx,
                launch_fill(out.dtype(), ctx.attrs.get_float("value"), out.data_ptr(), out.numel(),
                            use_device(out.device().index)),
                out.dtype());
}

constexpr UnarySpec kUnary[] = {
    {"neg", UnaryOp::Neg, Compute::Input, true},
    {"abs", UnaryOp::Abs, Compute::Input, true},
    {"sign", UnaryOp::Sign, Compute::Input, true},
    {"square", UnaryOp::Square, Compute::Input, true},
    {"relu", UnaryOp::Relu, Compute::Input, true},
    {"floor", UnaryOp::Floor, Compute::Input, false},
    {"ceil", UnaryOp::Ceil, Compute::Input, false},
    {"round", UnaryOp::Round, Compute::Input, false},
    {"exp", UnaryOp::Exp, Compute::Floating, false},
    {"expm1", UnaryOp::Expm1, Compute::Floating, false},
    {"log", UnaryOp::Log, Compute::Floating, false},
    {"log1p", UnaryOp::Log1p, Compute::Floating, false},
    {"sqrt", UnaryOp::Sqrt, Compute::Floating, false},
    {"rsqrt", UnaryOp::Rsqrt, Compute::Floating, false},
    {"reciprocal", UnaryOp::Reciprocal, Compute::Floating, false},
    {"sin", UnaryOp::Sin, Compute::Floating, false},
    {"cos", UnaryOp::Cos, Compute::Floating, false},
    {"tan", UnaryOp::Tan, Compute::Floating, false},
    {"tanh", UnaryOp::Tanh, Compute::Floating, false},
    {"sigmoid", UnaryOp::Sigmoid, Compute::Floating, false},
    {"erf", UnaryOp::Erf, Compute::Floating, false},
    {"silu", UnaryOp::Silu, Compute::Floating, false},
    {"isnan", UnaryOp::IsNan, Compute::Input, false},
    {"isfinite", UnaryOp::IsFinite, Compute::Input, false},
    {"logical_not", UnaryOp::LogicalNot, Compute::Bool, false},
};

constexpr BinarySpec kBinary[] = {
    {"add", BinaryOp::Add, BinaryCompute::Promoted},
    {"sub", BinaryOp::Sub, BinaryCompute::Promoted},
    {"mul", BinaryOp::Mul, BinaryCompute::Promoted},
    {"div", BinaryOp::Div, BinaryCompute::Floating},
    {"pow", BinaryOp::Pow, BinaryCompute::Promoted},
    {"maximum", BinaryOp::Maximum, BinaryCompute::Promoted},
    {"minimum", BinaryOp::Minimum, BinaryCompute::Promoted},
    {"mod", BinaryOp::Mod, BinaryCompute::Promoted},
    {"atan2", BinaryOp::Atan2, BinaryCompute::Floating},
    {"relu_grad", BinaryOp::ReluGrad, BinaryCompute::Floating},
    {"eq", BinaryOp::Eq, BinaryCompute::Promoted},
    {"ne", BinaryOp::Ne, BinaryCompute::Promoted},
    {"lt", BinaryOp::Lt, BinaryCompute::Promoted},
    {"le", BinaryOp::Le, BinaryCompute::Promoted},
    {"gt", BinaryOp::Gt, BinaryCompute::Promoted},
    {"ge", BinaryOp::Ge, BinaryCompute::Promoted},
    {"logical_and", BinaryOp::LogicalAnd, BinaryCompute::Logical},
    {"logical_or", BinaryOp::LogicalOr, BinaryCompute::Logical},
    {"logical_xor", BinaryOp::LogicalXor, BinaryCompute::Logical},
};

}  // namespace

std::optional<UnaryOp> unary_op_code(std::string_view op) {
  for (const UnarySpec& spec : kUnary) {
    if (spec.op == op) return spec.code;
  }
  return std::nullopt;
}

std::optional<BinaryOp> binary_op_code(std::string_view op) {
  for (const BinarySpec& spec : kBinary) {
    if (spec.op == op) return spec.code;
  }
  return std::nullopt;
}

void register_cuda_elementwise_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  for (const UnarySpec& spec : kUnary) {
    r.add_kernel(
        spec.op, cuda, [spec](KernelContext& ctx) { run_unary(ctx, spec.code, spec.compute); },
        spec.numeric_only ? kNumericDTypes : kAllDTypes);
  }
  r.add_kernel(
      "leaky_relu", cuda,
      [](KernelContext& ctx) {
        run_unary(ctx, UnaryOp::LeakyRelu, Compute::Floating,
                  ctx.attrs.get_float("negative_slope"));
      },
      kAllDTypes);
  r.add_kernel(
      "elu", cuda,
      [](KernelContext& ctx) {
        run_unary(ctx, UnaryOp::Elu, Compute::Floating, ctx.attrs.get_float("alpha"));
      },
      kAllDTypes);
  r.add_kernel(
      "gelu", cuda,
      [](KernelContext& ctx) {
        run_unary(ctx, ctx.attrs.get_bool("tanh_approximation") ? UnaryOp::GeluTanh : UnaryOp::Gelu,
                  Compute::Floating);
      },
      kAllDTypes);
  r.add_kernel(
      "softplus", cuda,
      [](KernelContext& ctx) {
        run_unary(ctx, UnaryOp::Softplus, Compute::Floating, ctx.attrs.get_float("beta"),
                  ctx.attrs.get_float("threshold"));
      },
      kAllDTypes);
  for (const BinarySpec& spec : kBinary) {
    r.add_kernel(
        spec.op, cuda, [spec](KernelContext& ctx) { run_binary(ctx, spec); }, kAllDTypes);
  }
  r.add_kernel("where", cuda, where_kernel, kAllDTypes);
  r.add_kernel("clamp", cuda, clamp_kernel, kAllDTypes);
  r.add_kernel("copy", cuda, convert_kernel, kAllDTypes);
  r.add_kernel("cast", cuda, convert_kernel, kAllDTypes);
  r.add_kernel("fill", cuda, fill_kernel, kAllDTypes);
}

}  // namespace tenflowers::cuda
