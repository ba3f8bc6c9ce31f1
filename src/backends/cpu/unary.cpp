// CPU kernels of the one-input elementwise ops: each picks the compute type and the array
// kernel of the active instruction set, then runs the shared elementwise driver.
#include <string>

#include "src/backends/cpu/elementwise_codes.hpp"
#include "src/backends/cpu/elementwise_loops.hpp"
#include "src/backends/cpu/register.hpp"

namespace tenflowers::cpu {
namespace {

using vec::Unary;

enum class Compute {
  Input,     // the input's compute type, output likewise (neg, floor, ...)
  Floating,  // f32 for integer and bool inputs (exp, ...)
  Bool,      // bool input (logical_not)
};

struct UnarySpec {
  const char* op;
  Unary code;
  Compute compute;
  bool costly;
  bool numeric_only;  // undefined for bool inputs
};

void run_unary(KernelContext& ctx, Unary code, Compute compute, bool costly,
               const vec::Params& params) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  DType in_type = compute_dtype(x.dtype());
  if (compute == Compute::Floating) in_type = compute_dtype(to_floating(x.dtype()));
  if (compute == Compute::Bool) in_type = DType::Bool;
  const DType result_type = out.dtype() == DType::Bool ? DType::Bool : in_type;
  const vec::ArrayFn fn = vec::table().unary[static_cast<int>(code)][static_cast<int>(in_type)];
  if (!fn) {
    throw DTypeError("no CPU kernel computes " + ctx.op.name + " in " +
                     std::string(dtype_name(in_type)));
  }
  run_elementwise<1>(out, {&x}, {in_type}, result_type, fn, params,
                     costly ? kCostlyGrain : kCheapGrain);
}

constexpr UnarySpec kSpecs[] = {
    {"neg", Unary::Neg, Compute::Input, false, true},
    {"abs", Unary::Abs, Compute::Input, false, true},
    {"sign", Unary::Sign, Compute::Input, false, true},
    {"square", Unary::Square, Compute::Input, false, true},
    {"relu", Unary::Relu, Compute::Input, false, true},
    {"floor", Unary::Floor, Compute::Input, false, false},
    {"ceil", Unary::Ceil, Compute::Input, false, false},
    {"round", Unary::Round, Compute::Input, false, false},
    {"exp", Unary::Exp, Compute::Floating, true, false},
    {"expm1", Unary::Expm1, Compute::Floating, true, false},
    {"log", Unary::Log, Compute::Floating, true, false},
    {"log1p", Unary::Log1p, Compute::Floating, true, false},
    {"sqrt", Unary::Sqrt, Compute::Floating, false, false},
    {"rsqrt", Unary::Rsqrt, Compute::Floating, false, false},
    {"reciprocal", Unary::Reciprocal, Compute::Floating, false, false},
    {"sin", Unary::Sin, Compute::Floating, true, false},
    {"cos", Unary::Cos, Compute::Floating, true, false},
    {"tan", Unary::Tan, Compute::Floating, true, false},
    {"tanh", Unary::Tanh, Compute::Floating, true, false},
    {"sigmoid", Unary::Sigmoid, Compute::Floating, true, false},
    {"erf", Unary::Erf, Compute::Floating, true, false},
    {"silu", Unary::Silu, Compute::Floating, true, false},
    {"isnan", Unary::IsNan, Compute::Input, false, false},
    {"isfinite", Unary::IsFinite, Compute::Input, false, false},
    {"logical_not", Unary::LogicalNot, Compute::Bool, false, false},
};

}  // namespace

std::optional<ElementwiseCode<vec::Unary>> unary_code(std::string_view op) {
  for (const auto& spec : kSpecs) {
    if (spec.op == op) return ElementwiseCode<vec::Unary>{spec.code, spec.costly};
  }
  return std::nullopt;
}

void register_cpu_unary_kernels(OpRegistry& r) {
  for (const UnarySpec& spec : kSpecs) {
    r.add_kernel(
        spec.op, DeviceType::CPU,
        [spec](KernelContext& ctx) { run_unary(ctx, spec.code, spec.compute, spec.costly, {}); },
        spec.numeric_only ? kNumericDTypes : kAllDTypes);
  }
  r.add_kernel(
      "leaky_relu", DeviceType::CPU,
      [](KernelContext& ctx) {
        run_unary(ctx, Unary::LeakyRelu, Compute::Floating, false,
                  {ctx.attrs.get_float("negative_slope"), 0.0});
      },
      kAllDTypes);
  r.add_kernel(
      "elu", DeviceType::CPU,
      [](KernelContext& ctx) {
        run_unary(ctx, Unary::Elu, Compute::Floating, true, {ctx.attrs.get_float("alpha"), 0.0});
      },
      kAllDTypes);
  r.add_kernel(
      "gelu", DeviceType::CPU,
      [](KernelContext& ctx) {
        const bool tanh_form = ctx.attrs.get_bool("tanh_approximation");
        run_unary(ctx, tanh_form ? Unary::GeluTanh : Unary::Gelu, Compute::Floating, true, {});
      },
      kAllDTypes);
  r.add_kernel(
      "softplus", DeviceType::CPU,
      [](KernelContext& ctx) {
        run_unary(ctx, Unary::Softplus, Compute::Floating, true,
                  {ctx.attrs.get_float("beta"), ctx.attrs.get_float("threshold")});
      },
      kAllDTypes);
}

}  // namespace tenflowers::cpu
