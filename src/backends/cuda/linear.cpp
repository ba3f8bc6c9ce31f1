// linear on the GPU: one cuBLASLt product whose epilogue adds the bias and applies relu as it
// stores the output (no pass over the output afterwards). f64 (no Lt epilogue here) and empty
// products run through matmul's kernel and the bias and relu as their own ops.
#include <string>

#include "src/backends/cuda/blas.hpp"
#include "src/backends/cuda/register.hpp"
#include "src/core/ops/linear.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {
namespace {

// cuBLASLt's pointers must be 16-byte aligned for its vectorized epilogues and loads.
Tensor aligned_contiguous(const Tensor& t) {
  Tensor c = t.contiguous();
  if (reinterpret_cast<uintptr_t>(c.data_ptr()) % 16 != 0) c = c.copy();
  return c;
}

void linear_unfused(KernelContext& ctx, bool relu) {
  Tensor out = ctx.outputs[0];
  HooksPaused paused;
  dispatch_into(registry().get("matmul"), {ctx.inputs[0], ctx.inputs[1]}, Attrs{}, out);
  if (ctx.inputs.size() == 3) dispatch_into(registry().get("add"), {out, ctx.inputs[2]}, {}, out);
  if (relu) dispatch_into(registry().get("relu"), {out}, Attrs{}, out);
}

void linear_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const DType type = out.dtype();
  const bool relu = linear_activation(ctx.attrs) == LinearActivation::Relu;
  if (type == DType::F64) return linear_unfused(ctx, relu);
  if (out.numel() == 0) return;
  const int64_t in = ctx.inputs[1].shape()[0], units = ctx.inputs[1].shape()[1];
  const int64_t rows = out.numel() / units;
  if (in == 0) return linear_unfused(ctx, relu);  // an empty sum: no product to run
  Tensor x, w, bias;
  {
    HooksPaused paused;
    x = aligned_contiguous(ctx.inputs[0]);
    // A transposed weight (w = v^T of a contiguous v) is read in place, as cuBLAS's op T.
    const Tensor& given = ctx.inputs[1];
    const bool transposed = given.strides()[0] == 1 && given.strides()[1] == in && in > 1;
    w = transposed ? given : aligned_contiguous(given);
    if (ctx.inputs.size() == 3) bias = aligned_contiguous(ctx.inputs[2]);
  }
  // Row-major Y [rows, units] = X W is column-major Y^T = W^T X^T: cuBLAS's A is W.
  const bool w_transposed = !w.is_contiguous();
  const cudaDataType_t data_type =
      type == DType::F16 ? CUDA_R_16F : (type == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F);
  const cublasComputeType_t compute =
      type == DType::F32 && matmul_allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  if (bias.defined()) {
    epilogue = relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
  } else if (relu) {
    epilogue = CUBLASLT_EPILOGUE_RELU;
  }
  LtGemm g{w_transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
           CUBLAS_OP_N,
           units,
           rows,
           in,
           w.data_ptr(),
           w_transposed ? in : units,
           0,
           x.data_ptr(),
           in,
           0,
           out.data_ptr(),
           units,
           0,
           1,
           data_type,
           compute,
           epilogue,
           bias.defined() ? bias.data_ptr() : nullptr};
  lt_gemm(ctx.device.index, g);
}

}  // namespace

void register_cuda_linear_kernels(OpRegistry& r) {
  r.add_kernel("linear", DeviceType::CUDA, linear_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cuda
