// CPU kernel of fused_elementwise: the program is compiled to instructions for the register
// interpreter of the active instruction set (fused_kernels.inc), which runs every step per tile
// of a few vectors, so memory sees one read of each input and one write of the output however
// long the chain. Operands of another dtype or with strides are converted chunk by chunk first.
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

static_assert(vec::kMaxFusedArgsInputs == kMaxFusedInputs &&
              vec::kMaxFusedArgsSaved == kMaxFusedSteps);

constexpr int64_t kChunk = 2048;  // elements converted at a time: 16 KiB of f64
constexpr size_t kChunkBytes = kChunk * sizeof(double);

struct CompiledProgram {
  std::vector<vec::FusedInstr> steps;
  vec::FusedFn run;
  bool costly = false;
};

CompiledProgram compile(const FusedProgram& program, DType compute) {
  const vec::Table& table = vec::table();
  CompiledProgram compiled{{}, table.fused[static_cast<int>(compute)], false};
  TF_CHECK(compiled.run != nullptr, UnsupportedError, "the CPU backend runs fused programs in ",
           "f32 and f64, not ", dtype_name(compute));
  const auto num_inputs = static_cast<int64_t>(program.num_inputs);
  const auto num_steps = static_cast<int64_t>(program.steps.size());
  // A step's result stays in registers for the next step; any later reader needs it saved.
  std::vector<int8_t> saved_index(num_inputs + num_steps, -1);
  int8_t num_saved = 0;
  const auto from_accumulator = [&](int64_t value, int64_t step) {
    return value >= num_inputs && value == num_inputs + step - 1;
  };
  for (int64_t j = 0; j < num_steps; ++j) {
    for (const int64_t value : {program.steps[j].lhs, program.steps[j].rhs}) {
      if (value >= num_inputs && !from_accumulator(value, j) && saved_index[value] < 0) {
        saved_index[value] = num_saved++;
      }
    }
  }
  const auto source = [&](int64_t value, int64_t step) -> int8_t {
    if (value < 0 || from_accumulator(value, step)) return vec::kFusedAcc;
    if (value < num_inputs) return static_cast<int8_t>(value);
    return static_cast<int8_t>(num_inputs + saved_index[value]);
  };
  for (int64_t j = 0; j < num_steps; ++j) {
    const FusedStep& step = program.steps[j];
    vec::FusedInstr instr;
    bool fusible = false;
    if (step.rhs < 0) {
      if (const auto code = unary_code(step.op->name)) {
        fusible = table.fusible_unary[static_cast<int>(code->code)];
        instr.code = static_cast<uint8_t>(code->code);
        compiled.costly = compiled.costly || code->costly;
      }
    } else if (const auto code = binary_code(step.op->name)) {
      fusible = table.fusible_binary[static_cast<int>(code->code)];
      instr.binary = true;
      instr.code = static_cast<uint8_t>(code->code);
      compiled.costly = compiled.costly || code->costly;
    }
    TF_CHECK(fusible, UnsupportedError, "the CPU backend cannot run step '", step.op->name,
             "' of a fused program");
    instr.lhs = source(step.lhs, j);
    instr.rhs = source(step.rhs, j);
    instr.save = saved_index[num_inputs + j];
    compiled.steps.push_back(instr);
  }
  return compiled;
}

template <size_t N>
void run_program(KernelContext& ctx, const CompiledProgram& program) {
  constexpr size_t M = N + 1;  // operand 0 is the output
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const DType compute = compute_dtype(out.dtype());
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
  const bool stream = native[0] && worth_streaming(out.numel() * compute_size);
  auto row = [&](const std::array<char*, M>& ptr, const std::array<int64_t, M>& stride, int64_t n) {
    thread_local std::vector<char> scratch;
    const auto buffer = [&](size_t operand) {
      if (scratch.size() < M * kChunkBytes) scratch.resize(M * kChunkBytes);
      return scratch.data() + operand * kChunkBytes;
    };
    std::array<const void*, N> inputs;
    std::array<bool, N> repeated;
    const bool direct_out = native[0] && stride[0] == compute_size;
    bool chunked = !direct_out;
    for (size_t k = 1; k < M; ++k) {
      repeated[k - 1] = stride[k] == 0;
      inputs[k - 1] = ptr[k];
      if (native[k]) {
        chunked = chunked || !(repeated[k - 1] || stride[k] == compute_size);
      } else if (repeated[k - 1]) {  // a broadcast scalar of another dtype: converted once
        convert[k](ptr[k], 0, buffer(k), compute_size, 1);
        inputs[k - 1] = buffer(k);
      } else {
        chunked = true;
      }
    }
    vec::FusedArgs args{program.steps.data(),
                        static_cast<int>(program.steps.size()),
                        static_cast<int>(N),
                        inputs.data(),
                        repeated.data(),
                        ptr[0],
                        n,
                        stream};
    if (!chunked) {
      program.run(args);
      return;
    }
    for (int64_t i = 0; i < n; i += kChunk) {
      args.n = std::min(kChunk, n - i);
      for (size_t k = 1; k < M; ++k) {
        if (repeated[k - 1]) continue;
        const char* at = ptr[k] + i * stride[k];
        if (native[k] && stride[k] == compute_size) {
          inputs[k - 1] = at;
        } else {
          convert[k](at, stride[k], buffer(k), compute_size, args.n);
          inputs[k - 1] = buffer(k);
        }
      }
      char* dst = ptr[0] + i * stride[0];
      args.out = direct_out ? static_cast<void*>(dst) : buffer(0);
      program.run(args);
      if (!direct_out) convert[0](buffer(0), compute_size, dst, stride[0], args.n);
    }
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
