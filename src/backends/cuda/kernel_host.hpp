#pragma once
// What every CUDA kernel's host side does: check a launcher's result, and prepare operands
// with other ops that are part of the kernel (hidden from tapes and tracers, which record the
// user's computation, not how a kernel carries it out).
#include <string>

#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {

// A launcher's nullptr means no kernel exists for `type`; otherwise the launch is checked.
inline void finish_launch(const KernelContext& ctx, const char* kernel, DType type) {
  if (!kernel) {
    throw DTypeError("no CUDA kernel computes " + ctx.op.name + " in " +
                     std::string(dtype_name(type)));
  }
  check_launch(ctx.op.name, kernel);
}

inline Tensor as_type(const Tensor& t, DType type) {
  if (t.dtype() == type) return t;
  HooksPaused paused;
  return t.cast(type);
}

inline Tensor contiguous(const Tensor& t) {
  HooksPaused paused;
  return t.contiguous();
}

}  // namespace tenflowers::cuda
