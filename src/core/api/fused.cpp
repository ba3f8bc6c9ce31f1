#include "tenflowers/core/fused_elementwise.hpp"

#include "src/core/api/op_call.hpp"

namespace tenflowers {

Tensor fused_elementwise(std::span<const Tensor> inputs, const FusedProgram& program) {
  TF_CHECK(program.num_inputs == inputs.size(), InvalidArgument, "the fused program takes ",
           program.num_inputs, " input(s), got ", inputs.size());
  return dispatch1(TF_OP("fused_elementwise"), inputs, fused_program_attrs(program));
}

}  // namespace tenflowers
