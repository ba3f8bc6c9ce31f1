// CPU kernel of fused_elementwise. Per block of elements the inputs are brought into the
// compute type once, then each step runs its array kernel of the elementwise table on
// block-sized buffers that stay in L1/L2 cache: memory sees one read of each input and one write
// of the output, however long the chain.
#include <string>
#include <utility>
#include <vector>

#include "src/backends/cpu/elementwise_codes.hpp"
#include "src/backends/cpu/elementwise_loops.hpp"
#include "src/backends/cpu/register.hpp"
#include "src/backends/cpu/stream_store.hpp"
#include "tenflowers/core/fused_elementwise.hpp"

namespace tenflowers::cpu {
namespace {

constexpr int64_t kBlock = 2048;  // elements per step call: 8 KiB of f32, 16 KiB of f64
constexpr size_t kBlockBytes = kBlock * sizeof(double);

struct CompiledStep {
  vec::ArrayFn fn;
  int64_t lhs;
  int64_t rhs;
};

struct CompiledProgram {
  std::vector<CompiledStep> steps;
  DType compute;
  bool costly = false;
};

CompiledProgram compile(const FusedProgram& program, DType compute) {
  CompiledProgram compiled{{}, compute, false};
  const auto type = static_cast<int>(compute);
  for (const FusedStep& step : program.steps) {
    vec::ArrayFn fn = nullptr;
    bool costly = false;
    if (step.rhs < 0) {
      if (const auto code = unary_code(step.op->name)) {
        fn = vec::table().unary[static_cast<int>(code->code)][type];
        costly = code->costly;
      }
    } else if (const auto code = binary_code(step.op->name)) {
      fn = vec::table().binary[static_cast<int>(code->code)][type];
      costly = code->costly;
    }
    TF_CHECK(fn != nullptr, UnsupportedError, "the CPU backend has no ", dtype_name(compute),
             " kernel for step '", step.op->name, "' of a fused program");
    compiled.steps.push_back({fn, step.lhs, step.rhs});
    compiled.costly = compiled.costly || costly;
  }
  return compiled;
}

template <size_t N>
void run_program(KernelContext& ctx, const CompiledProgram& program) {
  constexpr size_t M = N + 1;  // operand 0 is the output
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const DType compute = program.compute;
  const auto compute_size = static_cast<int64_t>(dtype_size(compute));
  std::array<const Tensor*, M> operands;
  std::array<ConvertFn, M> convert;
  std::array<bool, M> native;
  operands[0] = &out;
  convert[0] = convert_fn(compute, out.dtype());
  native[0] = out.dtype() == compute;
  for (size_t k = 0; k < N; ++k) {
    operands[k + 1] = &ctx.inputs[k];
    convert[k + 1] = convert_fn(ctx.inputs[k].dtype(), compute);
    native[k + 1] = ctx.inputs[k].dtype() == compute;
  }
  const size_t num_values = N + program.steps.size();
  const size_t last = num_values - 1;
  const bool stream = native[0] && worth_streaming(out.numel() * compute_size);
  auto row = [&](const std::array<char*, M>& ptr, const std::array<int64_t, M>& stride, int64_t n) {
    thread_local std::vector<char> scratch;
    if (scratch.size() < num_values * kBlockBytes) scratch.resize(num_values * kBlockBytes);
    auto buffer = [&](size_t value) { return scratch.data() + value * kBlockBytes; };
    std::array<bool, M> direct;
    std::array<bool, M> repeated{};
    for (size_t k = 0; k < M; ++k) direct[k] = native[k] && stride[k] == compute_size;
    for (size_t k = 1; k < M; ++k) {  // a broadcast scalar: convert it once for the row
      if (direct[k] || stride[k] != 0) continue;
      convert[k](ptr[k], 0, buffer(k - 1), compute_size, std::min(n, kBlock));
      repeated[k] = true;
    }
    std::array<const void*, kMaxFusedInputs + kMaxFusedSteps> value;
    for (int64_t i = 0; i < n; i += kBlock) {
      const int64_t count = std::min(kBlock, n - i);
      for (size_t k = 1; k < M; ++k) {
        const char* at = ptr[k] + i * stride[k];
        if (!direct[k] && !repeated[k])
          convert[k](at, stride[k], buffer(k - 1), compute_size, count);
        value[k - 1] = direct[k] ? at : buffer(k - 1);
      }
      char* dst = ptr[0] + i * stride[0];
      for (size_t j = 0; j < program.steps.size(); ++j) {
        const CompiledStep& step = program.steps[j];
        const size_t v = N + j;
        void* result = v == last && direct[0] && !stream ? static_cast<void*>(dst) : buffer(v);
        const void* in[2] = {value[step.lhs], step.rhs < 0 ? nullptr : value[step.rhs]};
        step.fn(in, result, count, {});
        value[v] = result;
      }
      if (direct[0] && stream) {
        stream_copy(dst, buffer(last), count * compute_size);
      } else if (!direct[0]) {
        convert[0](buffer(last), compute_size, dst, stride[0], count);
      }
    }
    if (stream) stream_fence();
  };
  for_each_elementwise_row<M>(out, operands, linear_layout(out, operands), row,
                              program.costly ? kCostlyGrain : kCheapGrain);
}

template <size_t... I>
void run_with_arity(KernelContext& ctx, const CompiledProgram& program, std::index_sequence<I...>) {
  const size_t n = ctx.inputs.size();
  ((n == I + 1 ? run_program<I + 1>(ctx, program) : void()), ...);
}

void fused_kernel(KernelContext& ctx) {
  const FusedProgram program = parse_fused_program(ctx.attrs, ctx.inputs.size());
  const CompiledProgram compiled = compile(program, compute_dtype(ctx.outputs[0].dtype()));
  run_with_arity(ctx, compiled, std::make_index_sequence<kMaxFusedInputs>{});
}

}  // namespace

void register_cpu_fused_kernels(OpRegistry& r) {
  r.add_kernel("fused_elementwise", DeviceType::CPU, fused_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
