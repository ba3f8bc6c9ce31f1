#pragma once
// The interface between the CUDA backend's host code (compiled by the C++ compiler, which sees
// tensors and attributes) and its device code (the .cu files, which see raw pointers only).
// Each launcher enqueues one kernel on `stream` and returns the kernel's name, or nullptr when
// no kernel exists for the dtypes asked; the caller turns that into a typed error and checks
// the launch.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

// The most axes an elementwise launch handles after merging contiguous axes.
inline constexpr int kMaxDims = 10;
inline constexpr int kMaxInputs = 3;

// Threads per block of most kernels, and the blocks for `work` items of kThreads each, capped
// so that a grid-stride loop covers the rest.
inline constexpr int kThreads = 256;
inline unsigned grid_for(int64_t work) {
  constexpr int64_t kMaxBlocks = int64_t{132} * 16;
  const int64_t blocks = (work + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

// Operands of an elementwise kernel over an output of `numel` elements. When `linear`, the
// output is contiguous and each input is contiguous in the output's order or a single value
// (bit k of single_mask); otherwise input k's element (i_0..i_{ndim-1}) is at
// in[k] + sum_d i_d * byte_strides[k][d], and the output's likewise with out_byte_strides (only
// copy and cast write strided outputs: as_strided_scatter copies into a window).
struct ElementwiseArgs {
  int64_t numel = 0;
  void* out = nullptr;
  const void* in[kMaxInputs] = {};
  bool linear = true;
  uint32_t single_mask = 0;
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t byte_strides[kMaxInputs][kMaxDims] = {};
  int64_t out_byte_strides[kMaxDims] = {};
  double params[2] = {};  // op parameters (negative slope, alpha, beta and threshold, bounds)
  cudaStream_t stream = nullptr;
};

// Every elementwise op code, listed once: each name is also the op's functor in unary_ops.cuh or
// binary_ops.cuh, which kernels generated at run time (fused programs) call by that name.
#define TF_CUDA_UNARY_OPS(X) \
  X(Neg)                     \
  X(Abs)                     \
  X(Sign)                    \
  X(Square)                  \
  X(Relu)                    \
  X(Floor)                   \
  X(Ceil)                    \
  X(Round)                   \
  X(Exp)                     \
  X(Expm1)                   \
  X(Log)                     \
  X(Log1p)                   \
  X(Sqrt)                    \
  X(Rsqrt)                   \
  X(Reciprocal)              \
  X(Sin)                     \
  X(Cos)                     \
  X(Tan)                     \
  X(Tanh)                    \
  X(Sigmoid)                 \
  X(Erf)                     \
  X(LeakyRelu)               \
  X(Elu)                     \
  X(Gelu)                    \
  X(GeluTanh)                \
  X(Silu)                    \
  X(Softplus)                \
  X(IsNan)                   \
  X(IsFinite)                \
  X(LogicalNot)
#define TF_CUDA_BINARY_OPS(X) \
  X(Add)                      \
  X(Sub)                      \
  X(Mul)                      \
  X(Div)                      \
  X(Pow)                      \
  X(Maximum)                  \
  X(Minimum)                  \
  X(Mod)                      \
  X(Atan2)                    \
  X(ReluGrad)                 \
  X(Eq)                       \
  X(Ne)                       \
  X(Lt)                       \
  X(Le)                       \
  X(Gt)                       \
  X(Ge)                       \
  X(LogicalAnd)               \
  X(LogicalOr)                \
  X(LogicalXor)
#define TF_CUDA_ENUMERATOR_(name) name,
enum class UnaryOp : uint8_t { TF_CUDA_UNARY_OPS(TF_CUDA_ENUMERATOR_) };
enum class BinaryOp : uint8_t { TF_CUDA_BINARY_OPS(TF_CUDA_ENUMERATOR_) };
#undef TF_CUDA_ENUMERATOR_

// `type` is the dtype the inputs hold and the op computes in (16-bit floats compute in f32
// registers); the output holds `type` or bool, as the op defines.
const char* launch_unary(UnaryOp op, DType type, const ElementwiseArgs& args);
const char* launch_binary(BinaryOp op, DType type, const ElementwiseArgs& args);
const char* launch_where(DType type, const ElementwiseArgs& args);  // in: bool, type, type
const char* launch_clamp(DType type, const ElementwiseArgs& args);  // bounds in params
// out (dtype `to`) = in[0] (dtype `from`) converted: copy and cast.
const char* launch_convert(DType to, DType from, const ElementwiseArgs& args);
const char* launch_fill(DType type, double value, void* out, int64_t numel, cudaStream_t stream);

}  // namespace tenflowers::cuda
