#pragma once
// Which array kernel of the elementwise table computes an attribute-free elementwise op, for
// kernels that run several ops per pass (fused_elementwise). Defined beside each family's
// kernel list, so the two cannot disagree.
#include <optional>
#include <string_view>

#include "src/backends/cpu/elementwise_table.hpp"

namespace tenflowers::cpu {

template <class Code>
struct ElementwiseCode {
  Code code;
  bool costly;  // transcendental: worth splitting into smaller parallel ranges
};

std::optional<ElementwiseCode<vec::Unary>> unary_code(std::string_view op);    // unary.cpp
std::optional<ElementwiseCode<vec::Binary>> binary_code(std::string_view op);  // binary.cpp

}  // namespace tenflowers::cpu
