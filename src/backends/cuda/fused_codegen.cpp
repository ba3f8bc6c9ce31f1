#include "src/backends/cuda/fused_codegen.hpp"

#include <map>
#include <optional>
#include <string_view>

#include "src/backends/cuda/elementwise_codes.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::cuda {
namespace {

// $NAME$ stands for a part filled in per program. Where every pointer is aligned, a thread reads
// each non-single input's N elements as one pack and writes one; otherwise (a view that starts
// inside a pack) and at the end it takes its elements one by one. The loop of that slow path is
// kept rolled so that the program is inlined N + 1 times, which bounds the compile time.
constexpr std::string_view kSource = R"(#include "src/backends/cuda/kernels/binary_ops.cuh"
#include "src/backends/cuda/kernels/unary_ops.cuh"

using namespace tenflowers::cuda;
using T = $T$;
using C = compute_of<T>;

struct alignas($BYTES$) Pack {
  T v[$N$];
};

__device__ __forceinline__ T program($PROGRAM_PARAMS$) {
$STEPS$  return narrow<T>($RESULT$);
}

extern "C" __global__ void __launch_bounds__($THREADS$)
    $NAME$($INPUT_PARAMS$T* __restrict__ out, long long numel, bool aligned) {
$SINGLES$  const long long stride = (long long)gridDim.x * blockDim.x * $N$;
  for (long long base = ((long long)blockIdx.x * blockDim.x + threadIdx.x) * $N$; base < numel;
       base += stride) {
    if (aligned && base + $N$ <= numel) {
$LOADS$      Pack r;
#pragma unroll
      for (int e = 0; e < $N$; ++e) r.v[e] = program($PACK_ARGS$);
      *reinterpret_cast<Pack*>(out + base) = r;
    } else {
      const long long end = base + $N$ < numel ? base + $N$ : numel;
#pragma unroll 1
      for (long long i = base; i < end; ++i) out[i] = program($ELEMENT_ARGS$);
    }
  }
}
)";

// `text` with each $NAME$ replaced by parts.at(NAME).
std::string fill(std::string_view text, const std::map<std::string_view, std::string>& parts) {
  std::string out;
  size_t pos = 0;
  for (size_t open; (open = text.find('$', pos)) != std::string_view::npos;) {
    const size_t close = text.find('$', open + 1);
    out += text.substr(pos, open - pos);
    out += parts.at(text.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  out += text.substr(pos);
  return out;
}

std::string_view storage_type(DType dtype) {
  switch (dtype) {
    case DType::F16:
      return "__half";
    case DType::BF16:
      return "__nv_bfloat16";
    case DType::F32:
      return "float";
    case DType::F64:
      return "double";
    default:
      throw DTypeError("fused_elementwise has no CUDA kernel for " +
                       std::string(dtype_name(dtype)));
  }
}

std::string value(int index) {
  std::string name = std::to_string(index);
  return name.insert(0, 1, 'v');  // not "v" + ..., which GCC 12 wrongly warns about (-Wrestrict)
}

bool is_single(const FusedKernelSpec& spec, int input) {
  return (spec.single_mask >> input) & 1u;
}

// The arguments of program(): a single input's register, or element(k) for input k.
template <class Element>
std::string program_args(const FusedKernelSpec& spec, Element element) {
  std::string args;
  for (int k = 0; k < spec.num_inputs; ++k) {
    if (k > 0) args += ", ";
    args += is_single(spec, k) ? value(k) : "widen(" + element(std::to_string(k)) + ")";
  }
  return args;
}

}  // namespace

FusedKernelSpec fused_kernel_spec(const FusedProgram& program, DType dtype, uint32_t single_mask) {
  storage_type(dtype);  // rejects the other dtypes
  FusedKernelSpec spec;
  spec.dtype = dtype;
  spec.num_inputs = static_cast<int>(program.num_inputs);
  spec.single_mask = single_mask;
  for (const FusedStep& step : program.steps) {
    FusedKernelStep s;
    s.lhs = static_cast<int>(step.lhs);
    s.rhs = static_cast<int>(step.rhs);
    if (step.rhs >= 0) {
      const std::optional<BinaryOp> code = binary_op_code(step.op->name);
      TF_CHECK(code.has_value(), UnsupportedError, "fused step '", step.op->name,
               "' has no CUDA code");
      s.op = *code;
    } else {
      const std::optional<UnaryOp> code = unary_op_code(step.op->name);
      TF_CHECK(code.has_value(), UnsupportedError, "fused step '", step.op->name,
               "' has no CUDA code");
      s.op = *code;
    }
    spec.steps.push_back(s);
  }
  return spec;
}

std::string fused_kernel_source(const FusedKernelSpec& spec) {
  std::string program_params, input_params, singles, loads, steps;
  for (int k = 0; k < spec.num_inputs; ++k) {
    const std::string i = std::to_string(k);
    program_params += (k > 0 ? ", C " : "C ") + value(k);
    input_params += "const T* __restrict__ in" + i + ", ";
    if (is_single(spec, k)) {
      singles += "  const C " + value(k) + " = widen(in" + i + "[0]);\n";
    } else {
      loads +=
          "      const Pack p" + i + " = *reinterpret_cast<const Pack*>(in" + i + " + base);\n";
    }
  }
  int result = spec.num_inputs;
  for (const FusedKernelStep& step : spec.steps) {
    const std::string_view functor =
        std::visit([](auto code) { return functor_name(code); }, step.op);
    const bool binary = std::holds_alternative<BinaryOp>(step.op);
    steps += "  const C " + value(result++) + " = " + std::string(functor) + "{}(" +
             value(step.lhs) + (binary ? ", " + value(step.rhs) : "") + ");\n";
  }
  return fill(
      kSource,
      {{"T", std::string(storage_type(spec.dtype))},
       {"PROGRAM_PARAMS", program_params},
       {"STEPS", steps},
       {"RESULT", value(result - 1)},
       {"THREADS", std::to_string(kThreads)},
       {"NAME", kFusedKernelName},
       {"INPUT_PARAMS", input_params},
       {"SINGLES", singles},
       {"N", std::to_string(fused_elements_per_thread(spec.dtype))},
       {"BYTES", std::to_string(kFusedAccessBytes)},
       {"LOADS", loads},
       {"PACK_ARGS", program_args(spec, [](const std::string& k) { return "p" + k + ".v[e]"; })},
       {"ELEMENT_ARGS",
        program_args(spec, [](const std::string& k) { return "in" + k + "[i]"; })}});
}

}  // namespace tenflowers::cuda
