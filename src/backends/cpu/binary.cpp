// CPU kernels of the elementwise ops of two or three inputs: each picks the compute type of
// the promoted inputs and the array kernel of the active instruction set, validates what the
// kernel cannot (integer mod by zero, negative integer powers), then runs the shared driver.
#include <cstring>
#include <limits>
#include <string>

#include "src/backends/cpu/elementwise_codes.hpp"
#include "src/backends/cpu/elementwise_loops.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

using vec::Binary;

enum class Compute {
  Promoted,  // the promoted dtype of the inputs, output likewise (add, ...)
  Floating,  // f32 for integer and bool inputs (div, atan2)
  Compare,   // the promoted dtype, bool output
  Logical,   // inputs read as bool, bool output
};

struct BinarySpec {
  const char* op;
  Binary code;
  Compute compute;
  bool costly;
};

// Whether pred(value as double) holds for some element of t.
template <class Pred>
bool any_element(const Tensor& t, Pred pred) {
  bool found = false;
  TF_DISPATCH_ALL(t.dtype(), "any_element", [&] {
    const StridedIter<1> it = make_iter<1>(t.shape(), {&t});
    auto row = [&](const std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
      for (int64_t i = 0; i < n && !found; ++i) {
        scalar_t v;
        std::memcpy(&v, p[0] + i * s[0], sizeof(v));
        found = pred(convert<double>(v));
      }
    };
    for_each_row(it, 0, it.numel(), row);
  });
  return found;
}

void run_binary(KernelContext& ctx, const BinarySpec& spec) {
  const Tensor& a = ctx.inputs[0];
  const Tensor& b = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const DType promoted = promote_types(a.dtype(), b.dtype());
  DType in_type = compute_dtype(promoted);
  if (spec.compute == Compute::Floating) in_type = compute_dtype(to_floating(promoted));
  if (spec.compute == Compute::Logical) in_type = DType::Bool;
  const DType result_type = out.dtype() == DType::Bool ? DType::Bool : in_type;
  if (is_integral(in_type)) {
    TF_CHECK(spec.code != Binary::Mod || !any_element(b, [](double v) { return v == 0.0; }),
             InvalidArgument, "mod: integer division by zero (the divisor has a zero element)");
    TF_CHECK(spec.code != Binary::Pow || !any_element(b, [](double v) { return v < 0.0; }),
             InvalidArgument,
             "pow: integers cannot be raised to negative integer powers; cast to a floating "
             "dtype first");
  }
  const vec::ArrayFn fn =
      vec::table().binary[static_cast<int>(spec.code)][static_cast<int>(in_type)];
  if (!fn) {
    throw DTypeError("no CPU kernel computes " + ctx.op.name + " in " +
                     std::string(dtype_name(in_type)));
  }
  run_elementwise<2>(out, {&a, &b}, {in_type, in_type}, result_type, fn, {},
                     spec.costly ? kCostlyGrain : kCheapGrain);
}

void where_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const DType type = compute_dtype(out.dtype());
  const vec::ArrayFn fn = vec::table().where[static_cast<int>(type)];
  run_elementwise<3>(out, {&ctx.inputs[0], &ctx.inputs[1], &ctx.inputs[2]},
                     {DType::Bool, type, type}, type, fn, {}, kCheapGrain);
}

// Scalar bounds become 0-d f64 operands; the driver converts them to the compute type
// (saturating for integers, so a missing bound is an infinite one).
void clamp_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const DType type = compute_dtype(out.dtype());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const Tensor low = Tensor::from_scalar(ctx.attrs.get_float_or("min", -kInf), Device::cpu());
  const Tensor high = Tensor::from_scalar(ctx.attrs.get_float_or("max", kInf), Device::cpu());
  const vec::ArrayFn fn = vec::table().clamp[static_cast<int>(type)];
  if (!fn) throw DTypeError("clamp has no CPU kernel for " + std::string(dtype_name(type)));
  run_elementwise<3>(out, {&ctx.inputs[0], &low, &high}, {type, type, type}, type, fn, {},
                     kCheapGrain);
}

constexpr BinarySpec kSpecs[] = {
    {"add", Binary::Add, Compute::Promoted, false},
    {"sub", Binary::Sub, Compute::Promoted, false},
    {"mul", Binary::Mul, Compute::Promoted, false},
    {"div", Binary::Div, Compute::Floating, false},
    {"pow", Binary::Pow, Compute::Promoted, true},
    {"maximum", Binary::Maximum, Compute::Promoted, false},
    {"minimum", Binary::Minimum, Compute::Promoted, false},
    {"mod", Binary::Mod, Compute::Promoted, true},
    {"atan2", Binary::Atan2, Compute::Floating, true},
    {"relu_grad", Binary::ReluGrad, Compute::Floating, false},
    {"eq", Binary::Eq, Compute::Compare, false},
    {"ne", Binary::Ne, Compute::Compare, false},
    {"lt", Binary::Lt, Compute::Compare, false},
    {"le", Binary::Le, Compute::Compare, false},
    {"gt", Binary::Gt, Compute::Compare, false},
    {"ge", Binary::Ge, Compute::Compare, false},
    {"logical_and", Binary::LogicalAnd, Compute::Logical, false},
    {"logical_or", Binary::LogicalOr, Compute::Logical, false},
    {"logical_xor", Binary::LogicalXor, Compute::Logical, false},
};

}  // namespace

std::optional<ElementwiseCode<vec::Binary>> binary_code(std::string_view op) {
  for (const auto& spec : kSpecs) {
    if (spec.op == op) return ElementwiseCode<vec::Binary>{spec.code, spec.costly};
  }
  return std::nullopt;
}

void register_cpu_binary_kernels(OpRegistry& r) {
  for (const BinarySpec& spec : kSpecs) {
    r.add_kernel(
        spec.op, DeviceType::CPU, [spec](KernelContext& ctx) { run_binary(ctx, spec); },
        kAllDTypes);
  }
  r.add_kernel("where", DeviceType::CPU, where_kernel, kAllDTypes);
  r.add_kernel("clamp", DeviceType::CPU, clamp_kernel, kAllDTypes);
}

}  // namespace tenflowers::cpu
