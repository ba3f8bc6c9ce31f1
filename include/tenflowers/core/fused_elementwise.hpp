#pragma once
// fused_elementwise: a chain of elementwise ops run as one op, in one pass over memory. The
// graph optimizer's fusion pass builds it from chains such as relu(x * 1.5 + 0.25); each
// backend runs the whole program per block of elements, so intermediates never reach memory.
//
// A program has the op's inputs as values 0..n-1; step j computes value n+j by applying a
// one- or two-input op to earlier values. The last step's value is the output. All inputs share
// one floating dtype and broadcast against each other. The program travels as two attributes,
// so graphs store and serialize it like any other op:
//   ops      = "mul,add,relu"        (the steps' op names)
//   operands = [0, 1, 3, 2, 4, -1]   (two value indices per step; -1 for a one-input op)
#include <span>
#include <string_view>
#include <vector>

#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// Limits that keep a backend's per-block scratch small.
inline constexpr size_t kMaxFusedInputs = 8;
inline constexpr size_t kMaxFusedSteps = 32;

struct FusedStep {
  const OpDef* op = nullptr;
  int64_t lhs = 0;
  int64_t rhs = -1;  // -1 for a one-input op
};

struct FusedProgram {
  size_t num_inputs = 0;
  std::vector<FusedStep> steps;
};

// The ops a program may contain: attribute-free floating-point elementwise ops with one output.
std::span<const std::string_view> fusible_elementwise_ops();
bool is_fusible_elementwise(const OpDef& op);

// Reads and validates a program: known fusible ops, operands referring to earlier values, every
// input and step used, the limits above. Throws InvalidArgument saying what is wrong.
FusedProgram parse_fused_program(const Attrs& attrs, size_t num_inputs);
Attrs fused_program_attrs(const FusedProgram& program);

// Runs a program on `inputs` as one op.
Tensor fused_elementwise(std::span<const Tensor> inputs, const FusedProgram& program);

}  // namespace tenflowers
