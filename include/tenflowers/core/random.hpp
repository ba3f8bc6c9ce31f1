#pragma once
// Counter-based random numbers (Philox-4x32-10, Salmon et al. 2011). Element i of a stream is a
// pure function of (seed, offset + i), so results do not depend on how work is split across
// threads or devices. Usable from host and CUDA code.
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define TF_HOST_DEVICE __host__ __device__
#else
#define TF_HOST_DEVICE
#endif

namespace tenflowers {

struct Philox4x32 {
  uint32_t key0, key1;

  TF_HOST_DEVICE explicit Philox4x32(uint64_t seed)
      : key0(static_cast<uint32_t>(seed)), key1(static_cast<uint32_t>(seed >> 32)) {}

  // Four 32-bit random words for a 128-bit counter (the stream offset and a sub-counter).
  TF_HOST_DEVICE void operator()(uint64_t counter, uint64_t subcounter, uint32_t out[4]) const {
    uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
    uint32_t c2 = static_cast<uint32_t>(subcounter), c3 = static_cast<uint32_t>(subcounter >> 32);
    uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
      const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
      const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
      c1 = static_cast<uint32_t>(p1);
      c3 = static_cast<uint32_t>(p0);
      c0 = n0;
      c2 = n2;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }
};

// A uniform double in (0, 1) from two random words (53 bits; never exactly 0 or 1).
TF_HOST_DEVICE inline double uniform_open01(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return (static_cast<double>(bits & ((1ull << 53) - 1)) + 0.5) * (1.0 / 9007199254740992.0);
}

// The global generator: a seed and a running offset that each random op advances.
struct RandomStream {
  uint64_t seed;
  uint64_t offset;
};
// Reserves `count` counters from the global generator.
RandomStream next_random_stream(uint64_t count);

}  // namespace tenflowers
