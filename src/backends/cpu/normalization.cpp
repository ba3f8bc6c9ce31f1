// layer_norm and layer_norm_backward on the CPU (the ops: src/core/ops/normalization.cpp). Rows
// of the normalized axes are split among the threads; each row is read from memory once and its
// passes (sums, then outputs) run while it sits in L1, in the compute type (f16/bf16 rows are
// converted to f32 once). The gradients of gamma and beta are summed per block of kRowBlock rows
// inside the same pass, then over the blocks in order, so they do not depend on the thread count.
#include <cmath>
#include <type_traits>
#include <vector>

#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/register.hpp"
#include "src/core/ops/normalization.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

constexpr int64_t kGrainElements = 32768;  // elements a thread's share should cover at least
constexpr int64_t kRowBlock = 64;          // rows per partial sum of gamma's and beta's gradients

// t laid out densely: a strided view is copied first (hidden from tapes: part of the kernel).
Tensor dense(const Tensor& t) {
  if (t.is_contiguous()) return t;
  HooksPaused paused;
  return t.contiguous();
}

template <class T>
const T* data_of(const Tensor& t) {
  return static_cast<const T*>(t.data_ptr());
}

// The n elements of a row as C: the row itself when it is C already, else converted into buffer.
template <class C, class T>
const C* row_as(const T* row, int64_t n, std::vector<C>& buffer) {
  if constexpr (std::is_same_v<T, C>) {
    return row;
  } else {
    buffer.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) buffer[i] = convert<C>(row[i]);
    return buffer.data();
  }
}

// gamma or beta as C; `fill` repeated for a call without it, so the row loops never branch.
template <class C, class T>
std::vector<C> param_as(const Tensor* p, int64_t n, C fill) {
  std::vector<C> out(static_cast<size_t>(n), fill);
  if (p) {
    const Tensor d = dense(*p);
    const T* src = data_of<T>(d);
    for (int64_t i = 0; i < n; ++i) out[i] = convert<C>(src[i]);
  }
  return out;
}

template <class C>
C sum_of(const C* v, int64_t n) {
  C s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += v[i];
  return s;
}

template <class T>
void forward_typed(KernelContext& ctx, const LayerNormRows& r) {
  using C = compute_t<T>;
  const bool scale = ctx.attrs.get_bool("scale"), center = ctx.attrs.get_bool("center");
  const int64_t n = r.size;
  const Tensor x = dense(ctx.inputs[0]);
  const std::vector<C> gamma = param_as<C, T>(scale ? &ctx.inputs[1] : nullptr, n, C(1));
  const std::vector<C> beta = param_as<C, T>(center ? &ctx.inputs.back() : nullptr, n, C(0));
  const auto epsilon = static_cast<C>(ctx.attrs.get_float("epsilon"));
  const T* xs = data_of<T>(x);
  T* ys = static_cast<T*>(ctx.outputs[0].data_ptr());
  C* means = static_cast<C*>(ctx.outputs[1].data_ptr());
  C* rstds = static_cast<C*>(ctx.outputs[2].data_ptr());
  const C* g = gamma.data();
  const C* b = beta.data();
  parallel_for(0, r.rows, std::max<int64_t>(1, kGrainElements / n), [&](int64_t lo, int64_t hi) {
    std::vector<C> buffer;
    for (int64_t row = lo; row < hi; ++row) {
      const C* v = row_as<C>(xs + row * n, n, buffer);
      const C mu = sum_of(v, n) / static_cast<C>(n);
      C squares = 0;
#pragma omp simd reduction(+ : squares)
      for (int64_t i = 0; i < n; ++i) squares += (v[i] - mu) * (v[i] - mu);
      const C rstd = C(1) / std::sqrt(squares / static_cast<C>(n) + epsilon);
      T* y = ys + row * n;
      for (int64_t i = 0; i < n; ++i) y[i] = convert<T>((v[i] - mu) * rstd * g[i] + b[i]);
      means[row] = mu;
      rstds[row] = rstd;
    }
  });
}

template <class T>
void backward_typed(KernelContext& ctx, const LayerNormRows& r) {
  using C = compute_t<T>;
  const int64_t n = r.size, rows = r.rows;
  const Tensor dy = dense(ctx.inputs[0]), x = dense(ctx.inputs[1]);
  const Tensor mean = dense(ctx.inputs[2]), rstd = dense(ctx.inputs[3]);
  const std::vector<C> gamma =
      param_as<C, T>(ctx.attrs.get_bool("scale") ? &ctx.inputs[4] : nullptr, n, C(1));
  const bool param_grads = ctx.outputs.size() == 3;
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  // Per block of rows: its sums of dy * xhat (gamma's gradient), then of dy (beta's).
  std::vector<C> partial(param_grads ? static_cast<size_t>(blocks * 2 * n) : 0, C(0));
  const T* dys = data_of<T>(dy);
  const T* xs = data_of<T>(x);
  const C* means = data_of<C>(mean);
  const C* rstds = data_of<C>(rstd);
  T* dxs = static_cast<T*>(ctx.outputs[0].data_ptr());
  const C* gam = gamma.data();
  const C inv_n = C(1) / static_cast<C>(n);
  parallel_for(0, blocks, std::max<int64_t>(1, kGrainElements / (kRowBlock * n)),
               [&](int64_t lo, int64_t hi) {
                 std::vector<C> x_buffer, dy_buffer;
                 std::vector<C> g(static_cast<size_t>(n)), xhat(static_cast<size_t>(n));
                 for (int64_t block = lo; block < hi; ++block) {
                   C* sum_gamma = param_grads ? partial.data() + block * 2 * n : nullptr;
                   const int64_t end = std::min(rows, (block + 1) * kRowBlock);
                   for (int64_t row = block * kRowBlock; row < end; ++row) {
                     const C* xv = row_as<C>(xs + row * n, n, x_buffer);
                     const C* dv = row_as<C>(dys + row * n, n, dy_buffer);
                     const C mu = means[row], s = rstds[row];
                     C a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
                     for (int64_t i = 0; i < n; ++i) {
                       xhat[i] = (xv[i] - mu) * s;
                       g[i] = dv[i] * gam[i];
                       a += g[i];
                       b += g[i] * xhat[i];
                     }
                     a *= inv_n;
                     b *= inv_n;
                     T* dx = dxs + row * n;
                     for (int64_t i = 0; i < n; ++i)
                       dx[i] = convert<T>(s * (g[i] - a - xhat[i] * b));
                     if (!sum_gamma) continue;
                     C* sum_beta = sum_gamma + n;
#pragma omp simd
                     for (int64_t i = 0; i < n; ++i) {
                       sum_gamma[i] += dv[i] * xhat[i];
                       sum_beta[i] += dv[i];
                     }
                   }
                 }
               });
  if (!param_grads) return;
  T* dgamma = static_cast<T*>(ctx.outputs[1].data_ptr());
  T* dbeta = static_cast<T*>(ctx.outputs[2].data_ptr());
  parallel_for(0, n, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, 2 * blocks)),
               [&](int64_t lo, int64_t hi) {
                 std::vector<C> sg(static_cast<size_t>(hi - lo), C(0)), sb(sg);
                 for (int64_t block = 0; block < blocks; ++block) {
                   const C* pg = partial.data() + block * 2 * n;
                   for (int64_t i = lo; i < hi; ++i) {
                     sg[i - lo] += pg[i];
                     sb[i - lo] += pg[n + i];
                   }
                 }
                 for (int64_t i = lo; i < hi; ++i) {
                   dgamma[i] = convert<T>(sg[i - lo]);
                   dbeta[i] = convert<T>(sb[i - lo]);
                 }
               });
}

void layer_norm_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const LayerNormRows r = layer_norm_rows(x.shape(), ctx.attrs.get_int("axis"), "layer_norm");
  if (x.numel() == 0) return;
  TF_DISPATCH_FLOATING(x.dtype(), "layer_norm", [&] { forward_typed<scalar_t>(ctx, r); });
}

void layer_norm_backward_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[1];
  const LayerNormRows r =
      layer_norm_rows(x.shape(), ctx.attrs.get_int("axis"), "layer_norm_backward");
  // No early return for zero rows: gamma's and beta's gradients are then zeros to write.
  TF_DISPATCH_FLOATING(x.dtype(), "layer_norm_backward", [&] { backward_typed<scalar_t>(ctx, r); });
}

}  // namespace

void register_cpu_normalization_kernels(OpRegistry& r) {
  r.add_kernel("layer_norm", DeviceType::CPU, layer_norm_kernel, kFloatDTypes);
  r.add_kernel("layer_norm_backward", DeviceType::CPU, layer_norm_backward_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
