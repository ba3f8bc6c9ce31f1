#pragma once
// Seeds and random draws of the data layer, all on Philox-4x32 so that they are pure functions
// of (seed, stream, index): epoch k of a shuffle or a loader does not depend on what ran before.
#include <cstdint>

#include "tenflowers/core/random.hpp"

namespace tenflowers::data::detail {

// Independent streams of derived seeds, one per purpose.
enum class SeedStream : uint64_t { Shuffle = 1, Loader = 2, Synthetic = 3 };

inline uint64_t random_u64(uint64_t seed, uint64_t counter, uint64_t subcounter) {
  uint32_t words[4];
  const Philox4x32 philox(seed);
  philox(counter, subcounter, words);
  return (static_cast<uint64_t>(words[0]) << 32) | words[1];
}

// The seed of item `index` (a pass, an epoch, a generated tensor) of `stream` under `seed`.
inline uint64_t derive_seed(uint64_t seed, SeedStream stream, uint64_t index) {
  return random_u64(seed, index, static_cast<uint64_t>(stream) << 32);
}

// A uniform integer in [0, bound) from 64 random bits (Lemire's multiply-shift; the bias,
// bound / 2^64, is far below anything observable).
inline uint64_t bounded(uint64_t random_bits, uint64_t bound) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(random_bits) * bound) >> 64);
}

}  // namespace tenflowers::data::detail
