#pragma once
// Fused programs written by op name, for the GPU fused-kernel tests.
#include <initializer_list>
#include <string_view>

#include "tenflowers/core/fused_elementwise.hpp"
#include "tenflowers/core/op_registry.hpp"

namespace tenflowers::testing {

struct FusedStepByName {
  std::string_view op;
  int64_t lhs, rhs;  // value indices; rhs < 0 for a unary step
};

inline FusedProgram program_of(size_t num_inputs, std::initializer_list<FusedStepByName> steps) {
  FusedProgram program{num_inputs, {}};
  for (const FusedStepByName& s : steps) {
    program.steps.push_back({&registry().get(s.op), s.lhs, s.rhs});
  }
  return program;
}

}  // namespace tenflowers::testing
