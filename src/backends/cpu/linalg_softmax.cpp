// softmax and log_softmax along one axis, made stable by subtracting each lane's maximum, and
// their gradients from the output y: softmax_grad(y, dy) = y * (dy - sum(dy * y)) and
// log_softmax_grad(y, dy) = dy - exp(y) * sum(dy), each lane in one pass. All four share three
// layouts: lanes along the last axis of contiguous inputs that need no conversion are computed
// straight from the inputs; contiguous inputs reduced over an earlier axis are processed in
// column blocks so memory is read in order; any other input (strided, or needing a dtype
// conversion) gathers each lane into a scratch buffer.
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

#include "src/backends/cpu/elementwise_table.hpp"
#include "src/backends/cpu/linalg.hpp"
#include "src/backends/cpu/parallel.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/dtype.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

constexpr int64_t kGrainElements = 32768;
constexpr int64_t kColumnBlock = 64;  // inner positions processed together in the column path
constexpr size_t kMaxInputs = 2;

// Maximum ignoring NaN; a NaN still reaches the result through exp(x - max).
template <class C>
C greater(C a, C b) {
  return b > a ? b : a;
}

// y = softmax(x) or log_softmax(x) over n contiguous values; y may alias x.
template <class C>
void lane_softmax(const C* x, C* y, int64_t n, bool log) {
  C top = -std::numeric_limits<C>::infinity();
#pragma omp simd reduction(max : top)
  for (int64_t i = 0; i < n; ++i) top = greater(top, x[i]);
  C sum = 0;
  if (log) {
    for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - top);
    const C log_sum = std::log(sum);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - top) - log_sum;
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - top;
    // The exp of the widest instruction set the CPU has (this file is compiled for the
    // baseline, where std::exp is a scalar libm call per element).
    const vec::ArrayFn exp =
        vec::table().unary[static_cast<int>(vec::Unary::Exp)][static_cast<int>(dtype_v<C>)];
    const void* shifted[] = {y};
    exp(shifted, y, n, vec::Params{});
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += y[i];
    const C inv = C(1) / sum;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// dx = softmax_grad(y, dy) or log_softmax_grad(y, dy) over n contiguous values; dx may alias y
// or dy (each element is read before it is written).
template <class C>
void lane_softmax_grad(const C* y, const C* dy, C* dx, int64_t n, bool log) {
  C sum = 0;
  if (log) {
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += dy[i];
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] - std::exp(y[i]) * sum;
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) sum += dy[i] * y[i];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - sum);
  }
}

// The reduced axis of the inputs (one shape, each its own strides): `length` elements per lane;
// lanes are numbered in row-major order of the other axes, and the dense output holds lane
// (o, j) at o * length * inner + j with stride inner.
struct Lanes {
  Dims shape;                 // rank >= 1
  std::vector<Dims> strides;  // one per input
  size_t axis = 0;
  int64_t length = 0, outer = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  int64_t out_base(int64_t lane) const { return (lane / inner) * length * inner + lane % inner; }
};

// A 0-d input is one lane of a single element.
Lanes lanes_of(std::span<const Tensor> inputs, const Attrs& attrs) {
  Lanes s;
  const bool scalar = inputs[0].rank() == 0;
  s.shape = scalar ? Dims{1} : inputs[0].shape();
  for (const Tensor& t : inputs) s.strides.push_back(scalar ? Dims{1} : t.strides());
  s.axis = static_cast<size_t>(
      normalize_axis(attrs.get_int("axis"), static_cast<int64_t>(s.shape.size())));
  s.length = s.shape[s.axis];
  for (size_t d = 0; d < s.shape.size(); ++d) {
    if (d < s.axis) s.outer *= s.shape[d];
    if (d > s.axis) s.inner *= s.shape[d];
  }
  return s;
}

using Offsets = std::array<int64_t, kMaxInputs>;

// Calls visit(lane, offsets) for lanes [lo, hi) in order, offsets[k] being the element offset
// of the lane's first position in input k.
template <class F>
void walk_lanes(const Lanes& s, int64_t lo, int64_t hi, F&& visit) {
  const size_t inputs = s.strides.size();
  const auto rank = static_cast<int64_t>(s.shape.size());
  // Multi-index over the non-reduced axes, and the input offsets it addresses.
  Dims index(s.shape.size(), 0);
  Offsets offset{};
  for (int64_t rem = lo, d = rank - 1; d >= 0; --d) {
    if (static_cast<size_t>(d) == s.axis) continue;
    index[d] = rem % s.shape[d];
    rem /= s.shape[d];
    for (size_t k = 0; k < inputs; ++k) offset[k] += index[d] * s.strides[k][d];
  }
  for (int64_t lane = lo; lane < hi; ++lane) {
    visit(lane, offset);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (static_cast<size_t>(d) == s.axis) continue;
      const bool carry = ++index[d] == s.shape[d];
      for (size_t k = 0; k < inputs; ++k) {
        offset[k] += carry ? (1 - s.shape[d]) * s.strides[k][d] : s.strides[k][d];
      }
      if (!carry) break;
      index[d] = 0;
    }
  }
}

// Chooses the layout. Every input contiguous with inner == 1 and no conversion: rows(base)
// for each lane, base being its first element in every input and the output (a generic
// lambda, instantiated only for that case). Every input contiguous with inner > 1:
// columns(base, width) for blocks of up to kColumnBlock adjacent lanes. Otherwise each lane of
// the inputs is gathered into scratch buffers of the compute type (input k at k * length),
// lane(buffers, length) leaves the result in the first, and it is stored converted.
template <class In, class Out, class C, class Rows, class Columns, class Lane>
void run_lanes(const Lanes& s, std::span<const Tensor> inputs, Out* out, Rows&& rows,
               Columns&& columns, Lane&& lane) {
  bool contiguous = true;
  for (const Tensor& t : inputs) contiguous = contiguous && t.is_contiguous();
  const int64_t length = s.length;
  if (contiguous && s.inner > 1) {
    const int64_t blocks = (s.inner + kColumnBlock - 1) / kColumnBlock;
    parallel_for(
        0, s.outer * blocks, std::max<int64_t>(1, kGrainElements / (length * kColumnBlock)),
        [&](int64_t lo, int64_t hi) {
          for (int64_t item = lo; item < hi; ++item) {
            const int64_t j0 = (item % blocks) * kColumnBlock;
            columns((item / blocks) * length * s.inner + j0, std::min(kColumnBlock, s.inner - j0));
          }
        });
    return;
  }
  if constexpr (std::is_same_v<In, C> && std::is_same_v<Out, C>) {
    if (contiguous) {
      parallel_for(0, s.outer, std::max<int64_t>(1, kGrainElements / length),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t o = lo; o < hi; ++o) rows(o * length);
                   });
      return;
    }
  }
  parallel_for(0, s.count(), std::max<int64_t>(1, kGrainElements / length),
               [&](int64_t lo, int64_t hi) {
                 std::vector<C> buffer(inputs.size() * static_cast<size_t>(length));
                 walk_lanes(s, lo, hi, [&](int64_t lane_index, const Offsets& offset) {
                   for (size_t k = 0; k < inputs.size(); ++k) {
                     const In* x = static_cast<const In*>(inputs[k].data_ptr()) + offset[k];
                     const int64_t step = s.strides[k][s.axis];
                     C* b = buffer.data() + k * length;
                     for (int64_t l = 0; l < length; ++l) b[l] = convert<C>(x[l * step]);
                   }
                   lane(buffer.data(), length);
                   Out* dst = out + s.out_base(lane_index);
                   for (int64_t l = 0; l < length; ++l) dst[l * s.inner] = convert<Out>(buffer[l]);
                 });
               });
}

// A block of w adjacent lanes of contiguous x and y, starting at xs and ys: every pass over
// the reduced axis reads contiguous rows of the block.
template <class In, class Out, class C>
void softmax_columns(const In* xs, Out* ys, int64_t length, int64_t inner, int64_t w, bool log) {
  // f16/bf16 outputs cannot hold the exponentials exactly, so those recompute them.
  constexpr bool store_exp = std::is_same_v<Out, C>;
  C top[kColumnBlock], sum[kColumnBlock];
  for (int64_t c = 0; c < w; ++c) {
    top[c] = convert<C>(xs[c]);
    sum[c] = 0;
  }
  for (int64_t l = 1; l < length; ++l) {
    for (int64_t c = 0; c < w; ++c) top[c] = greater(top[c], convert<C>(xs[l * inner + c]));
  }
  for (int64_t l = 0; l < length; ++l) {
    for (int64_t c = 0; c < w; ++c) {
      const C e = std::exp(convert<C>(xs[l * inner + c]) - top[c]);
      sum[c] += e;
      if constexpr (store_exp) {
        if (!log) ys[l * inner + c] = e;
      }
    }
  }
  if (log) {
    for (int64_t c = 0; c < w; ++c) sum[c] = std::log(sum[c]);
    for (int64_t l = 0; l < length; ++l) {
      for (int64_t c = 0; c < w; ++c) {
        ys[l * inner + c] = convert<Out>((convert<C>(xs[l * inner + c]) - top[c]) - sum[c]);
      }
    }
    return;
  }
  for (int64_t c = 0; c < w; ++c) sum[c] = C(1) / sum[c];
  for (int64_t l = 0; l < length; ++l) {
    for (int64_t c = 0; c < w; ++c) {
      if constexpr (store_exp) {
        ys[l * inner + c] *= sum[c];
      } else {
        ys[l * inner + c] = convert<Out>(std::exp(convert<C>(xs[l * inner + c]) - top[c]) * sum[c]);
      }
    }
  }
}

// The gradient ops on a block of w adjacent lanes, as softmax_columns.
template <class T, class C>
void softmax_grad_columns(const T* y, const T* dy, T* dx, int64_t length, int64_t inner, int64_t w,
                          bool log) {
  C sum[kColumnBlock] = {};
  for (int64_t l = 0; l < length; ++l) {
    const T *yl = y + l * inner, *dyl = dy + l * inner;
    if (log) {
      for (int64_t c = 0; c < w; ++c) sum[c] += convert<C>(dyl[c]);
    } else {
      for (int64_t c = 0; c < w; ++c) sum[c] += convert<C>(dyl[c]) * convert<C>(yl[c]);
    }
  }
  for (int64_t l = 0; l < length; ++l) {
    const T *yl = y + l * inner, *dyl = dy + l * inner;
    T* dxl = dx + l * inner;
    if (log) {
      for (int64_t c = 0; c < w; ++c) {
        dxl[c] = convert<T>(convert<C>(dyl[c]) - std::exp(convert<C>(yl[c])) * sum[c]);
      }
    } else {
      for (int64_t c = 0; c < w; ++c) {
        dxl[c] = convert<T>(convert<C>(yl[c]) * (convert<C>(dyl[c]) - sum[c]));
      }
    }
  }
}

void softmax_kernel(KernelContext& ctx, bool log) {
  const Tensor& x = ctx.inputs[0];
  if (x.numel() == 0) return;
  const Lanes s = lanes_of(ctx.inputs, ctx.attrs);
  TF_DISPATCH_ALL(x.dtype(), log ? "log_softmax" : "softmax", [&] {
    using In = scalar_t;
    // Integer and bool inputs give f32; f16/bf16 compute in float.
    using Out = std::conditional_t<std::is_floating_point_v<In> || std::is_same_v<In, Half> ||
                                       std::is_same_v<In, BFloat16>,
                                   In, float>;
    using C = compute_t<Out>;
    const In* xp = static_cast<const In*>(x.data_ptr());
    Out* yp = static_cast<Out*>(ctx.outputs[0].data_ptr());
    run_lanes<In, Out, C>(
        s, ctx.inputs, yp, [&](auto base) { lane_softmax(xp + base, yp + base, s.length, log); },
        [&](int64_t base, int64_t w) {
          softmax_columns<In, Out, C>(xp + base, yp + base, s.length, s.inner, w, log);
        },
        [&](C* buffer, int64_t n) { lane_softmax(buffer, buffer, n, log); });
  });
}

void softmax_grad_kernel(KernelContext& ctx, bool log) {
  const Tensor& dx = ctx.outputs[0];
  if (dx.numel() == 0) return;
  const Lanes s = lanes_of(ctx.inputs, ctx.attrs);
  TF_DISPATCH_FLOATING(dx.dtype(), ctx.op.name, [&] {
    using T = scalar_t;
    using C = compute_t<T>;
    const T* y = static_cast<const T*>(ctx.inputs[0].data_ptr());
    const T* dy = static_cast<const T*>(ctx.inputs[1].data_ptr());
    T* out = static_cast<T*>(dx.data_ptr());
    run_lanes<T, T, C>(
        s, ctx.inputs, out,
        [&](auto base) { lane_softmax_grad(y + base, dy + base, out + base, s.length, log); },
        [&](int64_t base, int64_t w) {
          softmax_grad_columns<T, C>(y + base, dy + base, out + base, s.length, s.inner, w, log);
        },
        [&](C* buffer, int64_t n) { lane_softmax_grad(buffer, buffer + n, buffer, n, log); });
  });
}

}  // namespace

void register_cpu_softmax_kernels(OpRegistry& r) {
  r.add_kernel(
      "softmax", DeviceType::CPU, [](KernelContext& ctx) { softmax_kernel(ctx, false); },
      kAllDTypes);
  r.add_kernel(
      "log_softmax", DeviceType::CPU, [](KernelContext& ctx) { softmax_kernel(ctx, true); },
      kAllDTypes);
  r.add_kernel(
      "softmax_grad", DeviceType::CPU, [](KernelContext& ctx) { softmax_grad_kernel(ctx, false); },
      kFloatDTypes);
  r.add_kernel(
      "log_softmax_grad", DeviceType::CPU,
      [](KernelContext& ctx) { softmax_grad_kernel(ctx, true); }, kFloatDTypes);
}

}  // namespace tenflowers::cpu
