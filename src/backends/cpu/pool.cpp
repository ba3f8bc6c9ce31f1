// max_pool2d and avg_pool2d over NCHW images of any layout: one task per (image, channel) plane,
// each window clipped to the image (padding never wins a max; it counts in an average only with
// count_include_pad). Max propagates NaN, as PyTorch does. Their gradients: max_pool2d_grad
// (scatter to each window's argmax), max_pool2d_gather (read at each argmax) and avg_pool2d_grad.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/pool.hpp"
#include "src/core/ops/conv.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

enum class PoolKind { Max, Average };

// One window clipped to the image: rows [h_lo, h_hi), columns [w_lo, w_hi).
struct Window {
  int64_t h_lo, h_hi, w_lo, w_hi;
};

Window window_at(const conv::PoolParams2d& p, int64_t oh, int64_t ow, int64_t in_h, int64_t in_w) {
  const int64_t h0 = oh * p.stride_h - p.pads.top;
  const int64_t w0 = ow * p.stride_w - p.pads.left;
  return {std::max<int64_t>(h0, 0), std::min(h0 + p.kernel_h, in_h), std::max<int64_t>(w0, 0),
          std::min(w0 + p.kernel_w, in_w)};
}

// Whether v replaces the running maximum: strictly larger (the first of equal values wins) or
// NaN, which propagates. max_pool2d and its gradients share it, so they agree on the argmax.
template <class C>
bool replaces_max(C v, C best) {
  return v > best || std::isnan(v);
}

// The (row, column) of a window's maximum in a plane read with strides (sh, sw).
template <class T>
std::pair<int64_t, int64_t> window_argmax(const T* plane, int64_t sh, int64_t sw, const Window& w) {
  using C = compute_t<T>;
  C best = -std::numeric_limits<C>::infinity();
  std::pair<int64_t, int64_t> at{w.h_lo, w.w_lo};
  for (int64_t h = w.h_lo; h < w.h_hi; ++h) {
    for (int64_t c = w.w_lo; c < w.w_hi; ++c) {
      const C v = convert<C>(plane[h * sh + c * sw]);
      if (replaces_max(v, best)) {
        best = v;
        at = {h, c};
      }
    }
  }
  return at;
}

// Tasks of about 32k window taps each, one (image, channel) plane at least.
int64_t plane_grain(int64_t out_h, int64_t out_w, const conv::PoolParams2d& p) {
  const int64_t plane_work = out_h * out_w * p.kernel_h * p.kernel_w;
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(plane_work, 1));
}

// Without padding every window lies inside the image, so no window needs clipping.
bool unpadded(const conv::PoolParams2d& p) {
  return p.pads.top == 0 && p.pads.left == 0 && p.pads.bottom == 0 && p.pads.right == 0;
}

// Windows that lie inside the image and never overlap (stride >= kernel): each input element
// is in at most one window, so a gradient is written, not accumulated.
bool disjoint_windows(const conv::PoolParams2d& p) {
  return unpadded(p) && p.stride_h >= p.kernel_h && p.stride_w >= p.kernel_w;
}

// The common 2x2 pool with stride 2 and no padding over rows of adjacent values, for which the
// loops below are written without branches so that they vectorize.
bool pairs_of_adjacent_rows(const conv::PoolParams2d& p, int64_t sw) {
  return unpadded(p) && p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 &&
         sw == 1;
}

// Which of a 2x2 window's values (a, b on the first row; c, d on the second) is its maximum,
// scanning in row-major order with replaces_max: 0 to 3.
template <class C>
int argmax_of_four(C a, C b, C c, C d) {
  C best = a;
  int at = 0;
  at = replaces_max(b, best) ? 1 : at;
  best = at == 1 ? b : best;
  at = replaces_max(c, best) ? 2 : at;
  best = at == 2 ? c : best;
  return replaces_max(d, best) ? 3 : at;
}

// Four adjacent 2x2 windows in f32 as vectors: a, b the even and odd columns of the top row, c, d
// of the bottom row (lane w holds window w). top and bottom point at 8 input columns each.
using v4f = float __attribute__((vector_size(16)));
using v4i = int __attribute__((vector_size(16)));

struct FourWindows {
  v4f a, b, c, d;
};

v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void store4(float* p, v4f v) {
  std::memcpy(p, &v, sizeof(v));
}

FourWindows load_four_windows(const float* top, const float* bottom) {
  const v4f t0 = load4(top), t1 = load4(top + 4);
  const v4f b0 = load4(bottom), b1 = load4(bottom + 4);
  return {__builtin_shuffle(t0, t1, v4i{0, 2, 4, 6}), __builtin_shuffle(t0, t1, v4i{1, 3, 5, 7}),
          __builtin_shuffle(b0, b1, v4i{0, 2, 4, 6}), __builtin_shuffle(b0, b1, v4i{1, 3, 5, 7})};
}

// replaces_max on vectors: all-ones lanes where v replaces best.
v4i replaces_max4(v4f v, v4f best) {
  return (v > best) | (v != v);
}

// Runs step(ow) over a row of out_w >= 4 groups of windows, four at a time: the last step reruns
// the row's final four windows (the overlap is rewritten with the same values). Copying a short
// tail instead costs a store-forwarding stall per row (small stores, wide loads).
template <class Step>
void for_four_windows(int64_t out_w, Step&& step) {
  for (int64_t ow = 0; ow + 4 <= out_w; ow += 4) step(ow);
  if (out_w % 4 != 0) step(out_w - 4);
}

// One row of 2x2, stride-2 max pool windows in f32, four windows per step on comparison masks
// (the scalar loop's NaN checks kept it from vectorizing: 6% of a W8 training epoch).
void max_pool2x2_row(const float* top, const float* bottom, float* out, int64_t out_w) {
  const auto step = [](const float* t, const float* bt, float* o) {
    const FourWindows w = load_four_windows(t, bt);
    const v4f upper = replaces_max4(w.b, w.a) ? w.b : w.a;
    const v4f lower = replaces_max4(w.d, w.c) ? w.d : w.c;
    store4(o, replaces_max4(lower, upper) ? lower : upper);
  };
  if (out_w >= 4) {
    for_four_windows(out_w, [&](int64_t ow) { step(top + 2 * ow, bottom + 2 * ow, out + ow); });
    return;
  }
  float t[8] = {}, bt[8] = {}, o[4];
  std::copy_n(top, 2 * out_w, t);
  std::copy_n(bottom, 2 * out_w, bt);
  step(t, bt, o);
  std::copy_n(o, out_w, out);
}

// One row of 2x2 windows of max_pool2d_grad in f32, four windows per step: the argmax scan of
// argmax_of_four runs on comparison masks. Written with branches, the scan mispredicts on every
// other window of real data (15% of a W8 training epoch). Rows narrower than four windows, or
// whose gradient is strided, go through the same step on small copies.
void max_pool2x2_grad_row(const float* top, const float* bottom, const float* grad,
                          int64_t grad_stride, float* top_out, float* bottom_out, int64_t out_w) {
  // Four windows: top/bottom hold 8 input columns, grad 4 contiguous values.
  const auto step = [](const float* t, const float* bt, const float* g4, float* t_out,
                       float* b_out) {
    const FourWindows w = load_four_windows(t, bt);
    const v4i took_b = replaces_max4(w.b, w.a);
    v4f best = took_b ? w.b : w.a;
    const v4i took_c = replaces_max4(w.c, best);
    best = took_c ? w.c : best;
    const v4i is_d = replaces_max4(w.d, best);
    const v4i is_c = took_c & ~is_d;
    const v4i is_b = took_b & ~took_c & ~is_d;
    const v4i is_a = ~(took_b | took_c | is_d);
    const v4f g = load4(g4), zero{};
    const v4f ga = is_a ? g : zero, gb = is_b ? g : zero, gc = is_c ? g : zero,
              gd = is_d ? g : zero;
    store4(t_out, __builtin_shuffle(ga, gb, v4i{0, 4, 1, 5}));
    store4(t_out + 4, __builtin_shuffle(ga, gb, v4i{2, 6, 3, 7}));
    store4(b_out, __builtin_shuffle(gc, gd, v4i{0, 4, 1, 5}));
    store4(b_out + 4, __builtin_shuffle(gc, gd, v4i{2, 6, 3, 7}));
  };
  if (grad_stride == 1 && out_w >= 4) {
    for_four_windows(out_w, [&](int64_t ow) {
      step(top + 2 * ow, bottom + 2 * ow, grad + ow, top_out + 2 * ow, bottom_out + 2 * ow);
    });
    return;
  }
  for (int64_t ow = 0; ow < out_w; ow += 4) {
    const int64_t windows = std::min<int64_t>(4, out_w - ow);
    float t[8] = {}, bt[8] = {}, g4[4] = {}, t_out[8], b_out[8];
    std::copy_n(top + 2 * ow, 2 * windows, t);
    std::copy_n(bottom + 2 * ow, 2 * windows, bt);
    for (int64_t w = 0; w < windows; ++w) g4[w] = grad[(ow + w) * grad_stride];
    step(t, bt, g4, t_out, b_out);
    std::copy_n(t_out, 2 * windows, top_out + 2 * ow);
    std::copy_n(b_out, 2 * windows, bottom_out + 2 * ow);
  }
}

// Applies fn(plane, x_plane, y_plane) over the (image, channel) planes of an NCHW x and the
// pool-shaped y (both of any layout), in parallel.
template <class T, class U, class Fn>
void for_planes(const Tensor& x, const Tensor& y, const conv::PoolParams2d& p, Fn&& fn) {
  const int64_t channels = x.shape()[1];
  const T* xs = static_cast<const T*>(x.data_ptr());
  const U* ys = static_cast<const U*>(y.data_ptr());
  parallel_for(0, x.shape()[0] * channels, plane_grain(y.shape()[2], y.shape()[3], p),
               [&](int64_t first, int64_t last) {
                 for (int64_t plane = first; plane < last; ++plane) {
                   const int64_t n = plane / channels, c = plane % channels;
                   fn(plane, xs + n * x.strides()[0] + c * x.strides()[1],
                      ys + n * y.strides()[0] + c * y.strides()[1]);
                 }
               });
}

// max_pool2d_grad(x, dy): out (x's shape, contiguous) = dy scattered to each window's argmax.
template <class T>
void max_pool2d_grad_typed(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& x = ctx.inputs[0];
  const Tensor& dy = ctx.inputs[1];
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, "max_pool2d_grad");
  const int64_t in_h = x.shape()[2], in_w = x.shape()[3];
  const int64_t out_h = dy.shape()[2], out_w = dy.shape()[3];
  const int64_t xh = x.strides()[2], xw = x.strides()[3];
  const int64_t dh = dy.strides()[2], dw = dy.strides()[3];
  T* result = static_cast<T*>(ctx.outputs[0].data_ptr());
  if (pairs_of_adjacent_rows(p, xw)) {
    // Every input element gets its window's gradient or zero; odd trailing rows and columns,
    // outside every window, get zero.
    for_planes<T, T>(x, dy, p, [&](int64_t plane, const T* src, const T* grad) {
      T* dst = result + plane * in_h * in_w;
      const T zero = convert<T>(C(0));
      if (in_h != 2 * out_h || in_w != 2 * out_w) std::fill(dst, dst + in_h * in_w, zero);
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const T* top = src + 2 * oh * xh;
        const T* bottom = top + xh;
        T* top_out = dst + 2 * oh * in_w;
        T* bottom_out = top_out + in_w;
        if constexpr (std::is_same_v<T, float>) {
          max_pool2x2_grad_row(top, bottom, grad + oh * dh, dw, top_out, bottom_out, out_w);
          continue;
        }
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const int at = argmax_of_four(convert<C>(top[2 * ow]), convert<C>(top[2 * ow + 1]),
                                        convert<C>(bottom[2 * ow]), convert<C>(bottom[2 * ow + 1]));
          const T g = grad[oh * dh + ow * dw];
          top_out[2 * ow] = at == 0 ? g : zero;
          top_out[2 * ow + 1] = at == 1 ? g : zero;
          bottom_out[2 * ow] = at == 2 ? g : zero;
          bottom_out[2 * ow + 1] = at == 3 ? g : zero;
        }
      }
    });
    return;
  }
  if (disjoint_windows(p)) {
    for_planes<T, T>(x, dy, p, [&](int64_t plane, const T* src, const T* grad) {
      T* dst = result + plane * in_h * in_w;
      std::fill(dst, dst + in_h * in_w, convert<T>(C(0)));
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const int64_t h0 = oh * p.stride_h;
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const int64_t w0 = ow * p.stride_w;
          const auto [h, w] =
              window_argmax(src, xh, xw, Window{h0, h0 + p.kernel_h, w0, w0 + p.kernel_w});
          dst[h * in_w + w] = grad[oh * dh + ow * dw];
        }
      }
    });
    return;
  }
  for_planes<T, T>(x, dy, p, [&](int64_t plane, const T* src, const T* grad) {
    std::vector<C> acc(static_cast<size_t>(in_h * in_w), C(0));
    for (int64_t oh = 0; oh < out_h; ++oh) {
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const auto [h, w] = window_argmax(src, xh, xw, window_at(p, oh, ow, in_h, in_w));
        acc[static_cast<size_t>(h * in_w + w)] += convert<C>(grad[oh * dh + ow * dw]);
      }
    }
    T* dst = result + plane * in_h * in_w;
    for (int64_t i = 0; i < in_h * in_w; ++i) dst[i] = convert<T>(acc[static_cast<size_t>(i)]);
  });
}

// max_pool2d_gather(x, g): out (the pool's shape, contiguous) = g at each window's argmax.
template <class T>
void max_pool2d_gather_typed(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& g = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, "max_pool2d_gather");
  const int64_t in_h = x.shape()[2], in_w = x.shape()[3];
  const int64_t out_h = out.shape()[2], out_w = out.shape()[3];
  const int64_t xh = x.strides()[2], xw = x.strides()[3];
  const int64_t gh = g.strides()[2], gw = g.strides()[3];
  T* result = static_cast<T*>(out.data_ptr());
  // x and g share their shape, so planes of g line up with those of x.
  for_planes<T, T>(x, g, p, [&](int64_t plane, const T* src, const T* values) {
    T* dst = result + plane * out_h * out_w;
    for (int64_t oh = 0; oh < out_h; ++oh) {
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const auto [h, w] = window_argmax(src, xh, xw, window_at(p, oh, ow, in_h, in_w));
        dst[oh * out_w + ow] = values[h * gh + w * gw];
      }
    }
  });
}

// avg_pool2d_grad(dy): out (N, C, input_size) = each window's dy / count added over the window.
template <class T>
void avg_pool2d_grad_typed(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& dy = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, "avg_pool2d_grad");
  const bool count_padding = ctx.attrs.get_bool("count_include_pad");
  const int64_t in_h = out.shape()[2], in_w = out.shape()[3];
  const int64_t out_h = dy.shape()[2], out_w = dy.shape()[3];
  const int64_t dh = dy.strides()[2], dw = dy.strides()[3];
  T* result = static_cast<T*>(out.data_ptr());
  for_planes<T, T>(dy, dy, p, [&](int64_t plane, const T* grad, const T*) {
    std::vector<C> acc(static_cast<size_t>(in_h * in_w), C(0));
    for (int64_t oh = 0; oh < out_h; ++oh) {
      for (int64_t ow = 0; ow < out_w; ++ow) {
        const Window win = window_at(p, oh, ow, in_h, in_w);
        const int64_t count =
            count_padding ? p.kernel_h * p.kernel_w : (win.h_hi - win.h_lo) * (win.w_hi - win.w_lo);
        const C share = convert<C>(grad[oh * dh + ow * dw]) / static_cast<C>(count);
        for (int64_t h = win.h_lo; h < win.h_hi; ++h) {
          for (int64_t w = win.w_lo; w < win.w_hi; ++w)
            acc[static_cast<size_t>(h * in_w + w)] += share;
        }
      }
    }
    T* dst = result + plane * in_h * in_w;
    for (int64_t i = 0; i < in_h * in_w; ++i) dst[i] = convert<T>(acc[static_cast<size_t>(i)]);
  });
}

// One plane of a 2x2, stride-2 max pool over rows of adjacent values: the larger of the two
// rows first (the maximum and NaN propagation do not depend on the order), then of the pairs.
template <class T>
void max_pool_plane_2x2(const T* src, int64_t sh, int64_t out_h, int64_t out_w, T* dst) {
  using C = compute_t<T>;
  for (int64_t oh = 0; oh < out_h; ++oh) {
    const T* top = src + 2 * oh * sh;
    const T* bottom = top + sh;
    T* out = dst + oh * out_w;
    if constexpr (std::is_same_v<T, float>) {
      max_pool2x2_row(top, bottom, out, out_w);
      continue;
    }
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const C a = convert<C>(top[2 * ow]), b = convert<C>(top[2 * ow + 1]);
      const C c = convert<C>(bottom[2 * ow]), d = convert<C>(bottom[2 * ow + 1]);
      const C upper = replaces_max(b, a) ? b : a;
      const C lower = replaces_max(d, c) ? d : c;
      out[ow] = convert<T>(replaces_max(lower, upper) ? lower : upper);
    }
  }
}

// One plane of a pool whose windows all lie inside the image (no padding, so the average's
// count is the kernel's size): no clipping, and the taps are read without bounds checks.
template <PoolKind kind, class T>
void pool_plane_inside(const T* src, int64_t sh, int64_t sw, const conv::PoolParams2d& p,
                       int64_t out_h, int64_t out_w, T* dst) {
  using C = compute_t<T>;
  const C taps = static_cast<C>(p.kernel_h * p.kernel_w);
  for (int64_t oh = 0; oh < out_h; ++oh) {
    for (int64_t ow = 0; ow < out_w; ++ow) {
      const T* corner = src + oh * p.stride_h * sh + ow * p.stride_w * sw;
      C acc = kind == PoolKind::Max ? -std::numeric_limits<C>::infinity() : C(0);
      for (int64_t i = 0; i < p.kernel_h; ++i) {
        const T* row = corner + i * sh;
        for (int64_t j = 0; j < p.kernel_w; ++j) {
          const C v = convert<C>(row[j * sw]);
          if constexpr (kind == PoolKind::Max) {
            acc = replaces_max(v, acc) ? v : acc;
          } else {
            acc += v;
          }
        }
      }
      if constexpr (kind == PoolKind::Average) acc /= taps;
      dst[oh * out_w + ow] = convert<T>(acc);
    }
  }
}

template <PoolKind kind, class T>
void pool2d(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& x = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, ctx.op.name.c_str());
  const bool count_padding = kind == PoolKind::Average && ctx.attrs.get_bool("count_include_pad");
  const int64_t channels = x.shape()[1], in_h = x.shape()[2], in_w = x.shape()[3];
  const int64_t out_h = out.shape()[2], out_w = out.shape()[3];
  const int64_t sn = x.strides()[0], sc = x.strides()[1], sh = x.strides()[2], sw = x.strides()[3];
  const T* input = static_cast<const T*>(x.data_ptr());
  T* result = static_cast<T*>(out.data_ptr());
  const int64_t grain = plane_grain(out_h, out_w, p);

  const bool inside = unpadded(p);
  parallel_for(0, x.shape()[0] * channels, grain, [&](int64_t first, int64_t last) {
    for (int64_t plane = first; plane < last; ++plane) {
      const T* src = input + (plane / channels) * sn + (plane % channels) * sc;
      T* dst = result + plane * out_h * out_w;
      if (kind == PoolKind::Max && pairs_of_adjacent_rows(p, sw)) {
        max_pool_plane_2x2(src, sh, out_h, out_w, dst);
        continue;
      }
      if (inside) {
        pool_plane_inside<kind>(src, sh, sw, p, out_h, out_w, dst);
        continue;
      }
      for (int64_t oh = 0; oh < out_h; ++oh) {
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const auto [h_lo, h_hi, w_lo, w_hi] = window_at(p, oh, ow, in_h, in_w);
          C acc = kind == PoolKind::Max ? -std::numeric_limits<C>::infinity() : C(0);
          for (int64_t h = h_lo; h < h_hi; ++h) {
            const T* row = src + h * sh;
            for (int64_t w = w_lo; w < w_hi; ++w) {
              const C v = convert<C>(row[w * sw]);
              if constexpr (kind == PoolKind::Max) {
                if (replaces_max(v, acc)) acc = v;
              } else {
                acc += v;
              }
            }
          }
          if constexpr (kind == PoolKind::Average) {
            // Windows never lie wholly in the padding, so the count is positive.
            const int64_t count =
                count_padding ? p.kernel_h * p.kernel_w : (h_hi - h_lo) * (w_hi - w_lo);
            acc /= static_cast<C>(count);
          }
          dst[oh * out_w + ow] = convert<T>(acc);
        }
      }
    }
  });
}

void max_pool2d_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "max_pool2d",
                       [&] { pool2d<PoolKind::Max, scalar_t>(ctx); });
}

void avg_pool2d_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "avg_pool2d",
                       [&] { pool2d<PoolKind::Average, scalar_t>(ctx); });
}

void max_pool2d_grad_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "max_pool2d_grad",
                       [&] { max_pool2d_grad_typed<scalar_t>(ctx); });
}

void max_pool2d_gather_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "max_pool2d_gather",
                       [&] { max_pool2d_gather_typed<scalar_t>(ctx); });
}

void avg_pool2d_grad_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "avg_pool2d_grad",
                       [&] { avg_pool2d_grad_typed<scalar_t>(ctx); });
}

}  // namespace

void register_cpu_pool_kernels(OpRegistry& r) {
  r.add_kernel("max_pool2d", DeviceType::CPU, max_pool2d_kernel, kFloatDTypes);
  r.add_kernel("avg_pool2d", DeviceType::CPU, avg_pool2d_kernel, kFloatDTypes);
  r.add_kernel("max_pool2d_grad", DeviceType::CPU, max_pool2d_grad_kernel, kFloatDTypes);
  r.add_kernel("max_pool2d_gather", DeviceType::CPU, max_pool2d_gather_kernel, kFloatDTypes);
  r.add_kernel("avg_pool2d_grad", DeviceType::CPU, avg_pool2d_grad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
