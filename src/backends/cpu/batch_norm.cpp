// CPU kernels of batch_norm, batch_norm_inference and batch_norm_grad. x and dy are read as a
// contiguous [outer, C, inner] (a strided operand is copied first), so a channel's elements are
// `outer` runs of `inner` contiguous elements. The work is cut into pieces, each a block of
// channels over a range of rows (outer indices), that depend on the shape alone, so results do
// not depend on the thread count. A piece walks its rows in memory order, reading the block's
// adjacent runs of each row as one segment of at least kSegment elements where the channels
// allow (one channel per block once runs are that long):
//   runs (inner > 1, e.g. NCHW): the inner loops walk a run;
//   columns (inner == 1, channels last): the inner loops walk the block's channels.
// Sums accumulate in double. For the statistics each piece takes its mean, then its squared
// deviations from that mean, while its elements are in cache, and the pieces combine by Chan's
// formula: memory is read once, with no E[x^2] - E[x]^2 cancellation. The gradient's two sums
// per channel likewise take one read of x and dy; the normalized output and dx one pass each.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

constexpr int64_t kPieceElements = 16384;  // elements of a piece, about: it stays in cache
constexpr int64_t kMaxBlock = 64;          // channels of a piece, at most
constexpr int64_t kSegment = 1024;         // elements a piece reads per row, at least (if any)
constexpr int64_t kGrainElements = 32768;  // elements per parallel task, at least
constexpr int kLanes = 8;                  // independent accumulators of a run's sums

struct Geometry {
  int64_t outer = 1, channels = 1, inner = 1;
  int64_t count() const { return outer * inner; }  // elements per channel
};

Geometry geometry_of(const Tensor& x, int64_t axis) {
  Geometry g;
  for (int64_t a = 0; a < x.rank(); ++a) {
    (a < axis ? g.outer : a == axis ? g.channels : g.inner) *= x.size(a);
  }
  // A single channel's elements are one run.
  if (g.channels == 1) g = {1, 1, g.count()};
  return g;
}

struct Piece {
  int64_t c0, c1;  // channels
  int64_t o0, o1;  // rows (outer indices)
  int64_t split;   // which range of rows
};

// Piece p covers channel block p / splits and row range p % splits.
struct Pieces {
  Geometry g;
  bool columns;
  int64_t width, rows, blocks, splits;

  explicit Pieces(const Geometry& geometry)
      : g(geometry),
        columns(g.inner == 1 && g.channels > 1),
        width(std::min({kMaxBlock, g.channels,
                        std::max<int64_t>(1, kSegment / std::max<int64_t>(1, g.inner))})),
        rows(std::max<int64_t>(1, kPieceElements / (width * std::max<int64_t>(1, g.inner)))),
        blocks((g.channels + width - 1) / width),
        splits((g.outer + rows - 1) / rows) {}

  int64_t count() const { return blocks * splits; }
  Piece at(int64_t p) const {
    const int64_t block = p / splits, split = p % splits;
    return {block * width, std::min(g.channels, (block + 1) * width), split * rows,
            std::min(g.outer, (split + 1) * rows), split};
  }
  // Runs body(piece) for every piece on the thread team.
  template <class Body>
  void run(Body&& body) const {
    const int64_t elements = std::max<int64_t>(1, width * rows * g.inner);
    parallel_for(0, count(), std::max<int64_t>(1, kGrainElements / elements),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t p = lo; p < hi; ++p) body(at(p));
                 });
  }
  int64_t offset(int64_t o, int64_t c) const { return (o * g.channels + c) * g.inner; }
  // Calls f(c, offset of the run) for each run of piece p, in memory order.
  template <class F>
  void each_run(const Piece& p, F&& f) const {
    for (int64_t o = p.o0; o < p.o1; ++o) {
      for (int64_t c = p.c0; c < p.c1; ++c) f(c, offset(o, c));
    }
  }
};

// sum of f(i) for i in [0, n), in kLanes independent accumulators combined pairwise.
template <class F>
double lane_sum(int64_t n, F f) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] += f(i + l);
  }
  for (int l = 0; i < n; ++i, ++l) lanes[l] += f(i);
  for (int width = kLanes / 2; width > 0; width /= 2) {
    for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
  }
  return lanes[0];
}

// acc[c - p.c0] = the sum of f(k, c) over the elements k of each channel c of piece p. `f` is
// inlined into the loops; the runs form is vectorizable.
template <class F>
void block_sums(const Pieces& pc, const Piece& p, F f, double* acc) {
  std::fill(acc, acc + (p.c1 - p.c0), 0.0);
  if (pc.columns) {
    for (int64_t o = p.o0; o < p.o1; ++o) {
      const int64_t base = pc.offset(o, 0);
      for (int64_t c = p.c0; c < p.c1; ++c) acc[c - p.c0] += f(base + c, c);
    }
    return;
  }
  pc.each_run(p, [&](int64_t c, int64_t base) {
    acc[c - p.c0] += lane_sum(pc.g.inner, [&](int64_t i) { return f(base + i, c); });
  });
}

// Count, mean and sum of squared deviations of a set of values.
struct Moments {
  double n = 0, mean = 0, m2 = 0;
};

// Chan et al.'s combination of two sets' moments.
Moments merge(const Moments& a, const Moments& b) {
  if (b.n == 0) return a;
  if (a.n == 0) return b;
  const double n = a.n + b.n, delta = b.mean - a.mean;
  return {n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
}

// Each channel's moments: each piece takes its mean, then the squared deviations from it while
// its elements are still in cache; the pieces then combine in order.
template <class T>
std::vector<Moments> channel_moments(const Pieces& pc, const T* x) {
  const int64_t channels = pc.g.channels;
  std::vector<Moments> partial(static_cast<size_t>(pc.splits * channels));
  pc.run([&](const Piece& p) {
    const auto n = static_cast<double>((p.o1 - p.o0) * pc.g.inner);
    const int64_t c0 = p.c0;
    double sum[kMaxBlock], mean[kMaxBlock], m2[kMaxBlock];
    block_sums(
        pc, p, [x](int64_t k, int64_t) { return convert<double>(x[k]); }, sum);
    for (int64_t c = 0; c < p.c1 - c0; ++c) mean[c] = sum[c] / n;
    const auto squared_deviation = [x, &mean, c0](int64_t k, int64_t c) {
      const double d = convert<double>(x[k]) - mean[c - c0];
      return d * d;
    };
    block_sums(pc, p, squared_deviation, m2);
    for (int64_t c = c0; c < p.c1; ++c) {
      partial[static_cast<size_t>(p.split * channels + c)] = {n, mean[c - c0], m2[c - c0]};
    }
  });
  std::vector<Moments> result(static_cast<size_t>(channels));
  for (int64_t s = 0; s < pc.splits; ++s) {
    for (int64_t c = 0; c < channels; ++c) {
      result[static_cast<size_t>(c)] =
          merge(result[static_cast<size_t>(c)], partial[static_cast<size_t>(s * channels + c)]);
    }
  }
  return result;
}

// Each channel's A = sum(dy) and B = sum(dy * (x - mean)): each piece takes both while its
// elements are in cache, and the pieces add up in order.
template <class T>
std::pair<std::vector<double>, std::vector<double>> grad_sums(const Pieces& pc, const T* x,
                                                              const T* dy, const double* mean) {
  const int64_t channels = pc.g.channels;
  std::vector<double> a(static_cast<size_t>(pc.splits * channels));
  std::vector<double> b(a.size());
  pc.run([&](const Piece& p) {
    const auto at = static_cast<size_t>(p.split * channels + p.c0);
    block_sums(
        pc, p, [dy](int64_t k, int64_t) { return convert<double>(dy[k]); }, &a[at]);
    const auto dy_centered = [x, dy, mean](int64_t k, int64_t c) {
      return convert<double>(dy[k]) * (convert<double>(x[k]) - mean[c]);
    };
    block_sums(pc, p, dy_centered, &b[at]);
  });
  std::vector<double> total_a(static_cast<size_t>(channels)), total_b(total_a.size());
  for (int64_t s = 0; s < pc.splits; ++s) {
    for (int64_t c = 0; c < channels; ++c) {
      total_a[static_cast<size_t>(c)] += a[static_cast<size_t>(s * channels + c)];
      total_b[static_cast<size_t>(c)] += b[static_cast<size_t>(s * channels + c)];
    }
  }
  return {std::move(total_a), std::move(total_b)};
}

// out[k] = f(coefs[c], k) for every element k of every channel c. Coef holds the channel's
// values in the compute type; the runs form copies it out of the vector, so the loop over a run
// holds it in registers.
template <class T, class Coef, class F>
void apply(const Pieces& pc, const std::vector<Coef>& coefs, T* out, F f) {
  pc.run([&](const Piece& p) {
    if (pc.columns) {
      for (int64_t o = p.o0; o < p.o1; ++o) {
        const int64_t base = pc.offset(o, 0);
        for (int64_t c = p.c0; c < p.c1; ++c) {
          out[base + c] = convert<T>(f(coefs[static_cast<size_t>(c)], base + c));
        }
      }
      return;
    }
    pc.each_run(p, [&](int64_t c, int64_t base) {
      const Coef coef = coefs[static_cast<size_t>(c)];
      for (int64_t i = 0; i < pc.g.inner; ++i) out[base + i] = convert<T>(f(coef, base + i));
    });
  });
}

// A [C] operand of any layout, as doubles.
template <class T>
std::vector<double> channel_values(const Tensor& v) {
  std::vector<double> out(static_cast<size_t>(v.size(0)));
  if (out.empty()) return out;
  const T* p = v.data<T>();
  const int64_t stride = v.strides()[0];
  for (size_t c = 0; c < out.size(); ++c)
    out[c] = convert<double>(p[static_cast<int64_t>(c) * stride]);
  return out;
}

template <class T>
void write_channel_values(const Tensor& out, const std::vector<double>& values) {
  T* p = out.data<T>();
  for (size_t c = 0; c < values.size(); ++c) p[c] = convert<T>(values[c]);
}

Tensor dense(const Tensor& t) {
  HooksPaused paused;
  return t.contiguous();
}

int64_t channel_axis(const KernelContext& ctx) {
  return normalize_axis(ctx.attrs.get_int("axis"), ctx.inputs[0].rank());
}

// y = (x - mean) * scale + beta, with scale = gamma * rsqrt(var + epsilon).
template <class T>
void normalize(const Pieces& pc, const T* x, const std::vector<double>& mean,
               const std::vector<double>& var, const Tensor& gamma, const Tensor& beta,
               double epsilon, const Tensor& y) {
  using C = compute_t<T>;
  struct Coef {
    C mean, scale, shift;
  };
  const std::vector<double> g = channel_values<T>(gamma), b = channel_values<T>(beta);
  std::vector<Coef> coefs(mean.size());
  for (size_t c = 0; c < coefs.size(); ++c) {
    coefs[c] = {static_cast<C>(mean[c]), static_cast<C>(g[c] / std::sqrt(var[c] + epsilon)),
                static_cast<C>(b[c])};
  }
  apply(pc, coefs, y.data<T>(),
        [x](const Coef& k, int64_t i) { return (convert<C>(x[i]) - k.mean) * k.scale + k.shift; });
}

void batch_norm_kernel(KernelContext& ctx) {
  const Tensor x = dense(ctx.inputs[0]);
  const Pieces pc(geometry_of(x, channel_axis(ctx)));
  if (pc.g.channels == 0) return;
  TF_DISPATCH_FLOATING(x.dtype(), "batch_norm", [&] {
    const scalar_t* xp = x.data<scalar_t>();
    const std::vector<Moments> moments = channel_moments(pc, xp);
    std::vector<double> mean(moments.size()), var(moments.size());
    for (size_t c = 0; c < moments.size(); ++c) {
      mean[c] = moments[c].mean;
      var[c] = moments[c].m2 / moments[c].n;
    }
    write_channel_values<scalar_t>(ctx.outputs[1], mean);
    write_channel_values<scalar_t>(ctx.outputs[2], var);
    normalize(pc, xp, mean, var, ctx.inputs[1], ctx.inputs[2], ctx.attrs.get_float("epsilon"),
              ctx.outputs[0]);
  });
}

void batch_norm_inference_kernel(KernelContext& ctx) {
  if (ctx.outputs[0].numel() == 0) return;
  const Tensor x = dense(ctx.inputs[0]);
  const Pieces pc(geometry_of(x, channel_axis(ctx)));
  TF_DISPATCH_FLOATING(x.dtype(), "batch_norm_inference", [&] {
    normalize(pc, x.data<scalar_t>(), channel_values<scalar_t>(ctx.inputs[3]),
              channel_values<scalar_t>(ctx.inputs[4]), ctx.inputs[1], ctx.inputs[2],
              ctx.attrs.get_float("epsilon"), ctx.outputs[0]);
  });
}

// With A = sum(dy) and B = sum(dy * (x - mean)) per channel and M elements per channel:
// dbeta = A, dgamma = B * rstd and dx = (dy - A / M) * k + (x - mean) * p, where
// k = gamma * rstd and p = -k * rstd^2 * B / M.
void batch_norm_grad_kernel(KernelContext& ctx) {
  const Tensor x = dense(ctx.inputs[0]);
  const Tensor dy = dense(ctx.inputs[1]);
  const Pieces pc(geometry_of(x, channel_axis(ctx)));
  const double epsilon = ctx.attrs.get_float("epsilon");
  TF_DISPATCH_FLOATING(x.dtype(), "batch_norm_grad", [&] {
    using C = compute_t<scalar_t>;
    const scalar_t* xp = x.numel() > 0 ? x.data<scalar_t>() : nullptr;
    const scalar_t* dyp = dy.numel() > 0 ? dy.data<scalar_t>() : nullptr;
    const std::vector<double> gamma = channel_values<scalar_t>(ctx.inputs[2]);
    const std::vector<double> mean = channel_values<scalar_t>(ctx.inputs[3]);
    const std::vector<double> var = channel_values<scalar_t>(ctx.inputs[4]);
    const auto [a, b] = grad_sums(pc, xp, dyp, mean.data());
    struct Coef {
      C mean, a, k, p;
    };
    const double m = static_cast<double>(pc.g.count());
    std::vector<Coef> coefs(gamma.size());
    std::vector<double> dgamma(gamma.size());
    for (size_t c = 0; c < coefs.size(); ++c) {
      const double rstd = 1 / std::sqrt(var[c] + epsilon);
      const double k = gamma[c] * rstd;
      dgamma[c] = b[c] * rstd;
      coefs[c] = {static_cast<C>(mean[c]), static_cast<C>(a[c] / m), static_cast<C>(k),
                  static_cast<C>(-k * rstd * rstd * b[c] / m)};
    }
    write_channel_values<scalar_t>(ctx.outputs[1], dgamma);
    write_channel_values<scalar_t>(ctx.outputs[2], a);
    if (ctx.outputs[0].numel() == 0) return;
    apply(pc, coefs, ctx.outputs[0].data<scalar_t>(), [xp, dyp](const Coef& k, int64_t i) {
      return (convert<C>(dyp[i]) - k.a) * k.k + (convert<C>(xp[i]) - k.mean) * k.p;
    });
  });
}

}  // namespace

void register_cpu_batch_norm_kernels(OpRegistry& r) {
  r.add_kernel("batch_norm", DeviceType::CPU, batch_norm_kernel, kFloatDTypes);
  r.add_kernel("batch_norm_inference", DeviceType::CPU, batch_norm_inference_kernel, kFloatDTypes);
  r.add_kernel("batch_norm_grad", DeviceType::CPU, batch_norm_grad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
