#pragma once
// The kernel code that computes an elementwise op, for kernels that run several ops per pass
// (fused_elementwise). Defined beside the op tables in elementwise.cpp, so they cannot disagree.
#include <cstddef>
#include <optional>
#include <string_view>

#include "src/backends/cuda/kernels/launch.hpp"

namespace tenflowers::cuda {

std::optional<UnaryOp> unary_op_code(std::string_view op);
std::optional<BinaryOp> binary_op_code(std::string_view op);

// The functor that computes a code, as generated kernels call it ("unary_ops::Relu"): the code's
// own name, from the one list in launch.hpp.
#define TF_CUDA_UNARY_FUNCTOR_(name) "unary_ops::" #name,
#define TF_CUDA_BINARY_FUNCTOR_(name) "binary_ops::" #name,
inline std::string_view functor_name(UnaryOp op) {
  static constexpr std::string_view kNames[] = {TF_CUDA_UNARY_OPS(TF_CUDA_UNARY_FUNCTOR_)};
  return kNames[static_cast<size_t>(op)];
}
inline std::string_view functor_name(BinaryOp op) {
  static constexpr std::string_view kNames[] = {TF_CUDA_BINARY_OPS(TF_CUDA_BINARY_FUNCTOR_)};
  return kNames[static_cast<size_t>(op)];
}
#undef TF_CUDA_UNARY_FUNCTOR_
#undef TF_CUDA_BINARY_FUNCTOR_

}  // namespace tenflowers::cuda
