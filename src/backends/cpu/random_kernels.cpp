// Random kernels on Philox-4x32 (random.hpp). Element i is a pure function of the op's
// (seed, offset) attributes and i, so results are bit-identical whatever the thread count.
// One Philox call yields four words, enough for two samples: elements 2k and 2k+1 share the
// counter offset + k. The global generator reserves one counter per element, which covers it.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <type_traits>
#include <utility>
#include <vector>

#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/random.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

constexpr int64_t kGrain = 4096;

struct Stream {
  Philox4x32 philox;
  uint64_t offset;
};

Stream stream_of(const KernelContext& ctx) {
  return {Philox4x32(static_cast<uint64_t>(ctx.attrs.get_int("seed"))),
          static_cast<uint64_t>(ctx.attrs.get_int("offset"))};
}

double first_uniform(const uint32_t w[4]) {
  return uniform_open01(w[0], w[1]);
}
double second_uniform(const uint32_t w[4]) {
  return uniform_open01(w[2], w[3]);
}

// The type normal samples are computed in: float suffices for outputs of 32 bits or less and
// is about twice as fast.
template <class T>
using normal_compute_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Box-Muller: two independent standard normals from the two uniforms of one Philox call.
template <class C>
std::array<C, 2> standard_normal_pair(const uint32_t w[4]) {
  // u1 > 0 even in float (its smallest value is 2^-54), so the logarithm is finite.
  const C radius = std::sqrt(C(-2) * std::log(static_cast<C>(first_uniform(w))));
  const C angle = static_cast<C>(2 * std::numbers::pi) * static_cast<C>(second_uniform(w));
  return {radius * std::cos(angle), radius * std::sin(angle)};
}

// Writes out[i] = sample(words, counter)[i % 2] for the counter offset + i / 2 and the words
// Philox gives it with sub-counter 0 (samplers that reject may draw further sub-counters).
template <class T, class PairFn>
void generate_pairs(const Tensor& out, const Stream& stream, PairFn sample) {
  T* data = out.data<T>();
  parallel_for(0, out.numel(), kGrain, [&](int64_t lo, int64_t hi) {
    uint32_t words[4];
    int64_t i = lo;
    if (i % 2 == 1) {  // a chunk starting mid-pair takes the pair's second value
      const uint64_t counter = stream.offset + static_cast<uint64_t>(i / 2);
      stream.philox(counter, 0, words);
      data[i++] = sample(words, counter)[1];
    }
    for (; i < hi; i += 2) {
      const uint64_t counter = stream.offset + static_cast<uint64_t>(i / 2);
      stream.philox(counter, 0, words);
      const std::array<T, 2> values = sample(words, counter);
      data[i] = values[0];
      if (i + 1 < hi) data[i + 1] = values[1];
    }
  });
}

// The largest value of T below x (x finite or +inf).
template <class T>
T next_below(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::nextafter(x, -std::numeric_limits<T>::infinity());
  } else {
    // 16-bit floats: within one sign, magnitudes are ordered like their bit patterns.
    const float f = x;
    if (f > 0.0f) return T::from_bits(static_cast<uint16_t>(x.bits - 1));
    if (f == 0.0f) return T::from_bits(0x8001);  // the smallest negative subnormal
    return T::from_bits(static_cast<uint16_t>(x.bits + 1));
  }
}

void uniform_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double low = ctx.attrs.get_float("low"), high = ctx.attrs.get_float("high");
  TF_DISPATCH_FLOATING(out.dtype(), "uniform", [&] {
    using T = scalar_t;
    // Rounding to T may reach `high`; step below it so the range stays [low, high).
    auto scale = [=](double u) {
      const T v = convert<T>(low + u * (high - low));
      return static_cast<double>(v) >= high ? next_below(v) : v;
    };
    generate_pairs<T>(out, stream_of(ctx), [&](const uint32_t w[4], uint64_t) {
      return std::array<T, 2>{scale(first_uniform(w)), scale(second_uniform(w))};
    });
  });
}

void normal_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double mean = ctx.attrs.get_float("mean"), stddev = ctx.attrs.get_float("stddev");
  TF_DISPATCH_FLOATING(out.dtype(), "normal", [&] {
    using C = normal_compute_t<scalar_t>;
    generate_pairs<scalar_t>(out, stream_of(ctx), [&](const uint32_t w[4], uint64_t) {
      const auto z = standard_normal_pair<C>(w);
      return std::array<scalar_t, 2>{convert<scalar_t>(mean + stddev * z[0]),
                                     convert<scalar_t>(mean + stddev * z[1])};
    });
  });
}

// Elements 2k and 2k+1 take the first and second normal of the pairs drawn from the counter
// offset + k with sub-counters 0, 1, 2, ...; each keeps its first value within 2 standard
// deviations (TensorFlow's resampling rule). A try fails with probability 0.046, so a few tries
// always suffice in practice.
void truncated_normal_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double mean = ctx.attrs.get_float("mean"), stddev = ctx.attrs.get_float("stddev");
  const Stream stream = stream_of(ctx);
  TF_DISPATCH_FLOATING(out.dtype(), "truncated_normal", [&] {
    using C = normal_compute_t<scalar_t>;
    generate_pairs<scalar_t>(out, stream, [&](const uint32_t first_words[4], uint64_t counter) {
      std::array<C, 2> z = standard_normal_pair<C>(first_words);
      std::array<bool, 2> inside = {std::abs(z[0]) <= C(2), std::abs(z[1]) <= C(2)};
      uint32_t words[4];
      for (uint64_t attempt = 1; !(inside[0] && inside[1]); ++attempt) {
        stream.philox(counter, attempt, words);
        const std::array<C, 2> retry = standard_normal_pair<C>(words);
        for (size_t k = 0; k < 2; ++k) {
          if (!inside[k] && std::abs(retry[k]) <= C(2)) {
            z[k] = retry[k];
            inside[k] = true;
          }
        }
      }
      return std::array<scalar_t, 2>{convert<scalar_t>(mean + stddev * z[0]),
                                     convert<scalar_t>(mean + stddev * z[1])};
    });
  });
}

void bernoulli_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double p = ctx.attrs.get_float("p");
  TF_DISPATCH_ALL(out.dtype(), "bernoulli", [&] {
    const scalar_t zero = convert<scalar_t>(0), one = convert<scalar_t>(1);
    // u is in (0, 1): p = 0 never succeeds and p = 1 always does.
    generate_pairs<scalar_t>(out, stream_of(ctx), [&](const uint32_t w[4], uint64_t) {
      return std::array<scalar_t, 2>{first_uniform(w) < p ? one : zero,
                                     second_uniform(w) < p ? one : zero};
    });
  });
}

// Sorts 0..n-1 by independent 64-bit random keys (ties broken by index), which gives every
// permutation with equal probability up to key collisions (about n^2 / 2^65).
void permutation_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const int64_t n = out.numel();
  const Stream stream = stream_of(ctx);
  std::vector<std::pair<uint64_t, int64_t>> keyed(static_cast<size_t>(n));
  parallel_for(0, (n + 1) / 2, kGrain, [&](int64_t lo, int64_t hi) {
    uint32_t w[4];
    for (int64_t k = lo; k < hi; ++k) {
      stream.philox(stream.offset + static_cast<uint64_t>(k), 0, w);
      const int64_t i = 2 * k;
      keyed[static_cast<size_t>(i)] = {(static_cast<uint64_t>(w[0]) << 32) | w[1], i};
      if (i + 1 < n) keyed[static_cast<size_t>(i + 1)] = {(uint64_t{w[2]} << 32) | w[3], i + 1};
    }
  });
  std::sort(keyed.begin(), keyed.end());
  int64_t* data = out.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) data[i] = keyed[static_cast<size_t>(i)].second;
}

}  // namespace

void register_cpu_random_kernels(OpRegistry& r) {
  r.add_kernel("uniform", DeviceType::CPU, uniform_kernel, kFloatDTypes);
  r.add_kernel("normal", DeviceType::CPU, normal_kernel, kFloatDTypes);
  r.add_kernel("truncated_normal", DeviceType::CPU, truncated_normal_kernel, kFloatDTypes);
  r.add_kernel("bernoulli", DeviceType::CPU, bernoulli_kernel, kAllDTypes);
  r.add_kernel("permutation", DeviceType::CPU, permutation_kernel, dtype_mask({DType::I64}));
}

}  // namespace tenflowers::cpu
