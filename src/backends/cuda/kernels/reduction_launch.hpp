#pragma once
// The interface between the host code of the reductions, softmax and scans (reduction.cpp) and
// their kernels (reduction.cu, softmax.cu, scan.cu). Every kernel reads a contiguous input seen
// as [outer, length, inner]: lane (o, j) runs along the middle axis from o * length * inner + j
// with stride inner, and lanes are numbered o * inner + j. Launchers return the kernel's name,
// or nullptr when no kernel exists for the dtypes asked, as in launch.hpp.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

struct AxisView {
  int64_t outer = 1, length = 1, inner = 1;
};

enum class ReduceOp : uint8_t {
  Sum,
  Prod,
  Mean,
  Max,
  Min,
  ArgMax,
  ArgMin,
  All,
  Any,
  Var,
  Std,
  LogSumExp,
  Norm
};

// out[lane] = the op over the lane's `length` elements (argmax/argmin: the position along it).
struct ReduceArgs {
  AxisView view;
  const void* in = nullptr;
  void* out = nullptr;        // contiguous, one element per lane
  void* workspace = nullptr;  // reduce_workspace_bytes(op, view) bytes of device memory
  int64_t correction = 1;     // var and std
  double p = 2.0;             // norm
  cudaStream_t stream = nullptr;
};

size_t reduce_workspace_bytes(ReduceOp op, const AxisView& view);

// Dtypes (in -> out) with kernels: sum and prod i64 -> i64 (wrapping) and each floating dtype to
// itself; mean, var, std, logsumexp and norm each floating dtype to itself and f64 -> f32 (for
// integer inputs, which the CPU computes in double); max and min any dtype to itself; argmax and
// argmin any dtype -> i64; all and any bool -> bool.
const char* launch_reduce(ReduceOp op, DType in, DType out, const ReduceArgs& args);

// softmax or log_softmax of every lane; out has in's dtype, a floating one.
const char* launch_softmax(bool log, DType type, AxisView view, const void* in, void* out,
                           cudaStream_t stream);

// softmax_grad (log false) or log_softmax_grad of every lane from y and dy, both laid out as
// `view`; y, dy and dx have one floating dtype.
const char* launch_softmax_grad(bool log, DType type, AxisView view, const void* y, const void* dy,
                                void* dx, cudaStream_t stream);

// Running sums or products along every lane: i64 wraps around; f16/bf16 accumulate in f32, f32
// and f64 in f64. out has in's dtype.
const char* launch_scan(bool product, DType type, AxisView view, const void* in, void* out,
                        cudaStream_t stream);

}  // namespace tenflowers::cuda
