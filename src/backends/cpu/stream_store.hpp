#pragma once
// Non-temporal ("streaming") stores for outputs larger than the last-level cache. A plain store
// first reads the destination line into cache (read-for-ownership), so writing a large output
// moves three bytes over the memory bus per byte written; streaming stores skip that read.
// Only worth it when the output will not be read again soon from cache, hence the size test.
#include <emmintrin.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>

namespace tenflowers::cpu {

// The last-level cache size: the kernel's view (sysfs, "32768K"), which inside a VM is what this
// machine has, then the C library's (which may report the host's), then 32 MiB.
inline int64_t last_level_cache_bytes() {
  static const int64_t bytes = [] {
    std::ifstream sysfs("/sys/devices/system/cpu/cpu0/cache/index3/size");
    int64_t kib = 0;
    char unit = 0;
    if (sysfs >> kib >> unit && unit == 'K' && kib > 0) return kib << 10;
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return l3 > 0 ? static_cast<int64_t>(l3) : int64_t{32} << 20;
  }();
  return bytes;
}

inline bool worth_streaming(int64_t output_bytes) {
  return output_bytes > last_level_cache_bytes();
}

// Copies `bytes` from src to dst with 16-byte streaming stores where dst is aligned (SSE2:
// every x86-64 CPU has it). Callers fence with stream_fence() before others read dst.
inline void stream_copy(void* dst, const void* src, int64_t bytes) {
  auto* out = static_cast<char*>(dst);
  const auto* in = static_cast<const char*>(src);
  const auto misalignment = static_cast<int64_t>(reinterpret_cast<uintptr_t>(out) & 15);
  const int64_t head = misalignment == 0 ? 0 : std::min<int64_t>(16 - misalignment, bytes);
  std::memcpy(out, in, static_cast<size_t>(head));
  int64_t i = head;
  for (; i + 16 <= bytes; i += 16) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
  }
  std::memcpy(out + i, in + i, static_cast<size_t>(bytes - i));
}

// Orders this thread's streaming stores before its later stores (and so before the barrier
// that ends a parallel region).
inline void stream_fence() {
  _mm_sfence();
}

}  // namespace tenflowers::cpu
