// linear on the CPU: the product through matmul's kernel (oneDNN for f32, OpenBLAS for f64), then
// the bias and the activation in one pass over the output while its rows are still in cache.
#include <algorithm>
#include <type_traits>

#include "src/backends/cpu/linalg.hpp"
#include "src/backends/cpu/parallel.hpp"
#include "src/core/ops/linear.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

template <class T>
void add_bias_activate(T* y, const T* bias, int64_t rows, int64_t cols, bool relu) {
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
  constexpr int64_t kGrainElements = int64_t{1} << 15;
  parallel_for(0, rows, std::max<int64_t>(1, kGrainElements / cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      T* row = y + r * cols;
      for (int64_t j = 0; j < cols; ++j) {
        Acc v = static_cast<Acc>(row[j]);
        if (bias) v += static_cast<Acc>(bias[j]);
        row[j] = T(relu ? std::max(v, Acc(0)) : v);
      }
    }
  });
}

void linear_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  Tensor y = out;
  {
    HooksPaused paused;
    dispatch_into(registry().get("matmul"), {ctx.inputs[0], ctx.inputs[1]}, Attrs{}, y);
  }
  const bool relu = linear_activation(ctx.attrs) == LinearActivation::Relu;
  const bool has_bias = ctx.inputs.size() == 3;
  if (out.numel() == 0 || (!has_bias && !relu)) return;
  Tensor bias;
  if (has_bias) {
    HooksPaused paused;
    bias = ctx.inputs[2].contiguous();
  }
  const int64_t cols = out.shape()[out.rank() - 1];
  TF_DISPATCH_FLOATING(out.dtype(), "linear", [&] {
    add_bias_activate(out.data<scalar_t>(), has_bias ? bias.data<scalar_t>() : nullptr,
                      out.numel() / cols, cols, relu);
  });
}

}  // namespace

void register_cpu_linear_kernels(OpRegistry& r) {
  r.add_kernel("linear", DeviceType::CPU, linear_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
