#pragma once
// The kernel code that computes an elementwise op, for kernels that run several ops per pass
// (fused_elementwise). Defined beside the op tables in elementwise.cpp, so they cannot disagree.
#include <optional>
#include <string_view>

#include "src/backends/cuda/kernels/launch.hpp"

namespace tenflowers::cuda {

std::optional<UnaryOp> unary_op_code(std::string_view op);
std::optional<BinaryOp> binary_op_code(std::string_view op);

}  // namespace tenflowers::cuda
