// Random kernels on the CPU's Philox-4x32 streams (tenflowers/core/random.hpp), one thread per
// pair of elements. uniform, bernoulli and permutation's keys are bit-identical to the CPU's:
// their arithmetic is exact or spelled with round-to-nearest intrinsics (no fused multiply-adds).
// normal and truncated_normal go through CUDA's log, sqrt, sin and cos, which may differ from
// the host's libm by a few units in the last place of the compute type (float for outputs of 32
// bits or less, double for f64).
#include <numbers>

#include "src/backends/cuda/kernels/creation_launch.hpp"
#include "src/backends/cuda/kernels/walk.cuh"
#include "tenflowers/core/random.hpp"

namespace tenflowers::cuda {
namespace {

// Writes out[2k], out[2k + 1] = sample(words, counter) for the counter offset + k and the words
// Philox gives it with sub-counter 0 (samplers that reject may draw further sub-counters).
template <class T, class Sample>
__device__ __forceinline__ void generate_pairs(const RandomArgs& a, Sample&& sample) {
  T* out = static_cast<T*>(a.out);
  const Philox4x32 philox(a.seed);
  grid_stride((a.numel + 1) / 2, [&](int64_t k) {
    const uint64_t counter = a.offset + static_cast<uint64_t>(k);
    uint32_t words[4];
    philox(counter, 0, words);
    T values[2];
    sample(philox, counter, words, values);
    out[2 * k] = values[0];
    if (2 * k + 1 < a.numel) out[2 * k + 1] = values[1];
  });
}

// The largest value of T below x (x finite or +inf).
template <class T>
__device__ __forceinline__ T next_below(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return nextafterf(x, -INFINITY);
  } else if constexpr (std::is_same_v<T, double>) {
    return nextafter(x, -INFINITY);
  } else {
    // 16-bit floats: within one sign, magnitudes are ordered like their bit patterns.
    const float f = widen(x);
    uint16_t bits;
    memcpy(&bits, &x, sizeof(bits));
    bits = f > 0.0f    ? static_cast<uint16_t>(bits - 1)
           : f == 0.0f ? 0x8001
                       : static_cast<uint16_t>(bits + 1);
    memcpy(&x, &bits, sizeof(bits));
    return x;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads) uniform_kernel(RandomArgs a) {
  const double low = a.params[0], high = a.params[1];
  // Rounding to T may reach `high`; step below it so the range stays [low, high).
  auto scale = [&](double u) {
    const T v = narrow<T>(__dadd_rn(low, __dmul_rn(u, high - low)));
    return static_cast<double>(widen(v)) >= high ? next_below(v) : v;
  };
  generate_pairs<T>(a, [&](const Philox4x32&, uint64_t, const uint32_t w[4], T(&v)[2]) {
    v[0] = scale(uniform_open01(w[0], w[1]));
    v[1] = scale(uniform_open01(w[2], w[3]));
  });
}

// The type normal samples are computed in, as on the CPU: float for outputs of 32 bits or less.
template <class T>
using NormalCompute = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Box-Muller: two independent standard normals from the two uniforms of one Philox call.
template <class C>
__device__ __forceinline__ void standard_normal_pair(const uint32_t w[4], C (&z)[2]) {
  const auto u1 = static_cast<C>(uniform_open01(w[0], w[1]));
  const C angle = static_cast<C>(2 * std::numbers::pi) * static_cast<C>(uniform_open01(w[2], w[3]));
  if constexpr (std::is_same_v<C, float>) {
    const float radius = sqrtf(-2.0f * logf(u1));  // u1 > 0: finite
    z[0] = radius * cosf(angle);
    z[1] = radius * sinf(angle);
  } else {
    const double radius = sqrt(-2.0 * log(u1));
    z[0] = radius * cos(angle);
    z[1] = radius * sin(angle);
  }
}

// mean + stddev * z stored as T.
template <class T, class C>
__device__ __forceinline__ T scaled(double mean, double stddev, C z) {
  return narrow<T>(__dadd_rn(mean, __dmul_rn(stddev, static_cast<double>(z))));
}

template <class T>
__global__ void __launch_bounds__(kThreads) normal_kernel(RandomArgs a) {
  using C = NormalCompute<T>;
  const double mean = a.params[0], stddev = a.params[1];
  generate_pairs<T>(a, [&](const Philox4x32&, uint64_t, const uint32_t w[4], T(&v)[2]) {
    C z[2];
    standard_normal_pair(w, z);
    v[0] = scaled<T>(mean, stddev, z[0]);
    v[1] = scaled<T>(mean, stddev, z[1]);
  });
}

// |z| <= 2, as the CPU's std::abs(z) <= 2.
template <class C>
__device__ __forceinline__ bool within_two(C z) {
  return z >= C(-2) && z <= C(2);
}

// Each of a pair keeps its first normal within 2 standard deviations, drawn from sub-counters
// 0, 1, 2, ... of its counter (TensorFlow's resampling rule, as the CPU).
template <class T>
__global__ void __launch_bounds__(kThreads) truncated_normal_kernel(RandomArgs a) {
  using C = NormalCompute<T>;
  const double mean = a.params[0], stddev = a.params[1];
  generate_pairs<T>(
      a, [&](const Philox4x32& philox, uint64_t counter, const uint32_t first[4], T(&v)[2]) {
        C z[2];
        standard_normal_pair(first, z);
        bool inside[2] = {within_two(z[0]), within_two(z[1])};
        uint32_t words[4];
        for (uint64_t attempt = 1; !(inside[0] && inside[1]); ++attempt) {
          philox(counter, attempt, words);
          C retry[2];
          standard_normal_pair(words, retry);
          for (int k = 0; k < 2; ++k) {
            if (!inside[k] && within_two(retry[k])) {
              z[k] = retry[k];
              inside[k] = true;
            }
          }
        }
        v[0] = scaled<T>(mean, stddev, z[0]);
        v[1] = scaled<T>(mean, stddev, z[1]);
      });
}

template <class U>
__global__ void __launch_bounds__(kThreads) bernoulli_kernel(RandomArgs a, U zero, U one) {
  const double p = a.params[0];
  // u is in (0, 1): p = 0 never succeeds and p = 1 always does.
  generate_pairs<U>(a, [&](const Philox4x32&, uint64_t, const uint32_t w[4], U(&v)[2]) {
    v[0] = uniform_open01(w[0], w[1]) < p ? one : zero;
    v[1] = uniform_open01(w[2], w[3]) < p ? one : zero;
  });
}

__global__ void __launch_bounds__(kThreads)
    permutation_keys_kernel(RandomArgs a, uint64_t* keys, int64_t* values, int64_t* offsets) {
  const Philox4x32 philox(a.seed);
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    offsets[0] = 0;
    offsets[1] = a.numel;
  }
  grid_stride((a.numel + 1) / 2, [&](int64_t k) {
    uint32_t w[4];
    philox(a.offset + static_cast<uint64_t>(k), 0, w);
    const int64_t i = 2 * k;
    keys[i] = (uint64_t{w[0]} << 32) | w[1];
    values[i] = i;
    if (i + 1 < a.numel) {
      keys[i + 1] = (uint64_t{w[2]} << 32) | w[3];
      values[i + 1] = i + 1;
    }
  });
}

}  // namespace

const char* launch_random(Distribution distribution, DType type, const RandomArgs& args) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    const unsigned blocks = grid_for((args.numel + 1) / 2);
    switch (distribution) {
      case Distribution::Uniform:
        uniform_kernel<T><<<blocks, kThreads, 0, args.stream>>>(args);
        return "uniform";
      case Distribution::Normal:
        normal_kernel<T><<<blocks, kThreads, 0, args.stream>>>(args);
        return "normal";
      case Distribution::TruncatedNormal:
        truncated_normal_kernel<T><<<blocks, kThreads, 0, args.stream>>>(args);
        return "truncated_normal";
    }
    return static_cast<const char*>(nullptr);
  });
}

const char* launch_bernoulli(size_t elem_bytes, const RandomArgs& args, uint64_t zero_bits,
                             uint64_t one_bits) {
  return with_size(elem_bytes, [&](auto u) {
    using U = decltype(u);
    bernoulli_kernel<U><<<grid_for((args.numel + 1) / 2), kThreads, 0, args.stream>>>(
        args, static_cast<U>(zero_bits), static_cast<U>(one_bits));
    return "bernoulli";
  });
}

const char* launch_permutation_keys(const RandomArgs& args, uint64_t* keys, int64_t* values,
                                    int64_t* offsets) {
  permutation_keys_kernel<<<grid_for((args.numel + 1) / 2), kThreads, 0, args.stream>>>(
      args, keys, values, offsets);
  return "permutation_keys";
}

}  // namespace tenflowers::cuda
