#include "tenflowers/core/random.hpp"

#include <mutex>

#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {
std::mutex g_random_mutex;
RandomStream g_generator{0x5eed5eedULL, 0};
}  // namespace

void manual_seed(uint64_t seed) {
  std::lock_guard lock(g_random_mutex);
  g_generator = {seed, 0};
}

RandomStream next_random_stream(uint64_t count) {
  std::lock_guard lock(g_random_mutex);
  RandomStream stream = g_generator;
  g_generator.offset += count;
  return stream;
}

}  // namespace tenflowers
