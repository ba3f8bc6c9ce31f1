// softmax and log_softmax along one axis, made stable by subtracting each lane's maximum.
// Three layouts: lanes along the last axis of a contiguous f32/f64 input are computed straight
// from the input; a contiguous input reduced over an earlier axis is processed in column blocks
// so memory is read in order; any other input (strided, or needing a dtype conversion) gathers
// each lane into a scratch buffer.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "src/backends/cpu/linalg.hpp"
#include "src/backends/cpu/parallel.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

constexpr int64_t kGrainElements = 32768;
constexpr int64_t kColumnBlock = 64;  // inner positions processed together in the column path

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
    for (int64_t i = 0; i < n; ++i) {
      const C e = std::exp(x[i] - top);
      y[i] = e;
      sum += e;
    }
    const C inv = C(1) / sum;
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

// The reduced axis of an input: `length` elements per lane; lanes are numbered in row-major
// order of the other axes, and the dense output holds lane (o, j) at o * length * inner + j
// with stride inner.
struct Lanes {
  Dims shape, strides;  // of the input, rank >= 1
  size_t axis = 0;
  int64_t length = 0, outer = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  int64_t out_base(int64_t lane) const { return (lane / inner) * length * inner + lane % inner; }
};

// Walks lanes [lo, hi) of any strided input: gathers each lane into a scratch buffer of the
// compute type, computes it there and stores it converted.
template <class In, class Out, class C>
void strided_lanes(const Lanes& s, const In* x, Out* y, bool log) {
  parallel_for(0, s.count(), std::max<int64_t>(1, kGrainElements / s.length),
               [&](int64_t lo, int64_t hi) {
                 std::vector<C> buffer(static_cast<size_t>(s.length));
                 // Multi-index over the non-reduced axes, and the input offset it addresses.
                 Dims index(s.shape.size(), 0);
                 int64_t offset = 0;
                 for (int64_t rem = lo, d = static_cast<int64_t>(s.shape.size()) - 1; d >= 0; --d) {
                   if (static_cast<size_t>(d) == s.axis) continue;
                   index[d] = rem % s.shape[d];
                   rem /= s.shape[d];
                   offset += index[d] * s.strides[d];
                 }
                 const int64_t step = s.strides[s.axis];
                 for (int64_t lane = lo; lane < hi; ++lane) {
                   for (int64_t l = 0; l < s.length; ++l)
                     buffer[l] = convert<C>(x[offset + l * step]);
                   lane_softmax(buffer.data(), buffer.data(), s.length, log);
                   Out* dst = y + s.out_base(lane);
                   for (int64_t l = 0; l < s.length; ++l)
                     dst[l * s.inner] = convert<Out>(buffer[l]);
                   for (auto d = static_cast<int64_t>(s.shape.size()) - 1; d >= 0; --d) {
                     if (static_cast<size_t>(d) == s.axis) continue;
                     offset += s.strides[d];
                     if (++index[d] < s.shape[d]) break;
                     offset -= index[d] * s.strides[d];
                     index[d] = 0;
                   }
                 }
               });
}

// Contiguous input, inner > 1: for a block of up to kColumnBlock adjacent lanes, every pass
// over the reduced axis reads contiguous rows of the block.
template <class In, class Out, class C>
void column_blocks(const Lanes& s, const In* x, Out* y, bool log) {
  // f16/bf16 outputs cannot hold the exponentials exactly, so those recompute them.
  constexpr bool store_exp = std::is_same_v<Out, C>;
  const int64_t blocks = (s.inner + kColumnBlock - 1) / kColumnBlock;
  const int64_t length = s.length, inner = s.inner;
  parallel_for(
      0, s.outer * blocks, std::max<int64_t>(1, kGrainElements / (length * kColumnBlock)),
      [&](int64_t lo, int64_t hi) {
        C top[kColumnBlock], sum[kColumnBlock];
        for (int64_t item = lo; item < hi; ++item) {
          const int64_t j0 = (item % blocks) * kColumnBlock;
          const int64_t w = std::min(kColumnBlock, inner - j0);
          const In* xs = x + (item / blocks) * length * inner + j0;
          Out* ys = y + (item / blocks) * length * inner + j0;
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
            continue;
          }
          for (int64_t c = 0; c < w; ++c) sum[c] = C(1) / sum[c];
          for (int64_t l = 0; l < length; ++l) {
            for (int64_t c = 0; c < w; ++c) {
              if constexpr (store_exp) {
                ys[l * inner + c] *= sum[c];
              } else {
                ys[l * inner + c] =
                    convert<Out>(std::exp(convert<C>(xs[l * inner + c]) - top[c]) * sum[c]);
              }
            }
          }
        }
      });
}

template <class In, class Out, class C>
void softmax_typed(const Lanes& s, const Tensor& x, const Tensor& y, bool log) {
  const In* xp = static_cast<const In*>(x.data_ptr());
  Out* yp = static_cast<Out*>(y.data_ptr());
  if (!x.is_contiguous()) {
    strided_lanes<In, Out, C>(s, xp, yp, log);
  } else if (s.inner > 1) {
    column_blocks<In, Out, C>(s, xp, yp, log);
  } else if constexpr (std::is_same_v<In, C> && std::is_same_v<Out, C>) {
    parallel_for(0, s.outer, std::max<int64_t>(1, kGrainElements / s.length),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t o = lo; o < hi; ++o) {
                     lane_softmax(xp + o * s.length, yp + o * s.length, s.length, log);
                   }
                 });
  } else {
    strided_lanes<In, Out, C>(s, xp, yp, log);
  }
}

void softmax_kernel(KernelContext& ctx, bool log) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& y = ctx.outputs[0];
  if (x.numel() == 0) return;
  Lanes s;
  s.shape = x.rank() == 0 ? Dims{1} : x.shape();
  s.strides = x.rank() == 0 ? Dims{1} : x.strides();
  s.axis = static_cast<size_t>(
      normalize_axis(ctx.attrs.get_int("axis"), static_cast<int64_t>(s.shape.size())));
  s.length = s.shape[s.axis];
  for (size_t d = 0; d < s.shape.size(); ++d) {
    if (d < s.axis) s.outer *= s.shape[d];
    if (d > s.axis) s.inner *= s.shape[d];
  }
  TF_DISPATCH_ALL(x.dtype(), log ? "log_softmax" : "softmax", [&] {
    using In = scalar_t;
    // Integer and bool inputs give f32; f16/bf16 compute in float.
    using Out = std::conditional_t<std::is_floating_point_v<In> || std::is_same_v<In, Half> ||
                                       std::is_same_v<In, BFloat16>,
                                   In, float>;
    softmax_typed<In, Out, compute_t<Out>>(s, x, y, log);
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
}

}  // namespace tenflowers::cpu
