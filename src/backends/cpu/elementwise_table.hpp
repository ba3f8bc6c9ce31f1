#pragma once
// Contiguous array kernels for the elementwise ops, one table per instruction set. The same
// source (elementwise_kernels.inc) is compiled three times with different target flags
// (baseline x86-64, AVX2+FMA, AVX-512), and the best table the running CPU supports is chosen
// at run time, so one binary runs on any x86-64 machine.
//
// Kernels take contiguous arrays of one compute type (bool, u8, i8, i32, i64, f32 or f64);
// the drivers in elementwise_loops.hpp convert strided, broadcast, 16-bit float and mixed-dtype
// operands into such arrays chunk by chunk. This header holds plain types only: the ISA
// translation units include it, and nothing inline from it may be compiled for a wider ISA.
#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cpu::vec {

// clang-format off
// One-input ops: the output has the compute type of the input.
enum class Unary : uint8_t {
  Neg, Abs, Sign, Square, Relu, Floor, Ceil, Round,  // also on integers
  Exp, Expm1, Log, Log1p, Sqrt, Rsqrt, Reciprocal, Sin, Cos, Tan, Tanh, Sigmoid, Erf,
  LeakyRelu, Elu, Gelu, GeluTanh, Silu, Softplus,
  IsNan, IsFinite, LogicalNot,  // bool output
  Count
};

// Two-input ops: both inputs have the compute type; the output too, or bool for comparisons
// and logical ops (whose inputs are bool).
enum class Binary : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, Mod, Atan2,
  ReluGrad,                           // x > 0 ? g : 0 (inputs x, g)
  Eq, Ne, Lt, Le, Gt, Ge,             // bool output
  LogicalAnd, LogicalOr, LogicalXor,  // bool inputs and output
  Count
};
// clang-format on

// Scalar parameters of the parameterized unary ops (negative_slope, alpha, beta/threshold).
struct Params {
  double a = 0.0;
  double b = 0.0;
};

// in[k] points at input k (n contiguous elements); out at n contiguous output elements.
using ArrayFn = void (*)(const void* const* in, void* out, int64_t n, const Params& params);

// A fused elementwise program for the register interpreter (fused_kernels.inc), which runs the
// whole program per tile of a few vectors: a value passed from one step to the next stays in
// registers, and memory sees only the inputs and the output.
// Operand sources: kFusedAcc (the previous step's result), an input index, or num_inputs plus
// the index of a value saved by an earlier step.
inline constexpr int8_t kFusedAcc = -1;
struct FusedInstr {
  bool binary = false;  // `code` is a Binary op, else a Unary op; all take no parameters
  uint8_t code = 0;
  int8_t lhs = kFusedAcc;
  int8_t rhs = kFusedAcc;  // unused by a one-input op
  int8_t save = -1;        // the saved-value index keeping this step's result, or -1
};
// The limits of fused_elementwise.hpp (which this plain-types header cannot include).
inline constexpr int kMaxFusedArgsInputs = 8;
inline constexpr int kMaxFusedArgsSaved = 32;

struct FusedArgs {
  const FusedInstr* steps;
  int num_steps;
  int num_inputs;
  const void* const* inputs;  // per input: n contiguous elements, or one element to repeat
  const bool* repeated;       // per input: whether it is one element repeated
  void* out;                  // n contiguous elements
  int64_t n;
  bool stream;  // write the output with non-temporal stores (see stream_store.hpp)
};
using FusedFn = void (*)(const FusedArgs& args);

struct Table {
  // Indexed by the op and the compute dtype; null where the op is not defined for it.
  ArrayFn unary[static_cast<int>(Unary::Count)][kNumDTypes];
  ArrayFn binary[static_cast<int>(Binary::Count)][kNumDTypes];
  ArrayFn where[kNumDTypes];  // inputs: condition (bool), a, b
  ArrayFn clamp[kNumDTypes];  // inputs: x, low, high; NaN in x propagates
  // The fused program interpreter per floating compute dtype, and the ops it runs.
  FusedFn fused[kNumDTypes];
  bool fusible_unary[static_cast<int>(Unary::Count)];
  bool fusible_binary[static_cast<int>(Binary::Count)];
  // f16 <-> f32 conversion with the F16C instructions (round to nearest even); null where the
  // instruction set has none.
  ArrayFn f16_to_f32;
  ArrayFn f32_to_f16;
};

enum class Isa : uint8_t { Baseline, Avx2, Avx512 };

// The table of the active instruction set: the best one the CPU supports, unless set_isa chose.
const Table& table();
bool isa_supported(Isa isa);
// Switches the active table (tests use it to run every variant); throws UnsupportedError when
// the CPU lacks the instruction set. Not meant to race with running kernels.
void set_isa(Isa isa);
Isa active_isa();

// Filled by the per-ISA translation units.
void fill_table_baseline(Table& table);
void fill_table_avx2(Table& table);
void fill_table_avx512(Table& table);

}  // namespace tenflowers::cpu::vec
