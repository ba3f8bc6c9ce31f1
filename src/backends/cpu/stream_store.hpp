#pragma once
// When to write an output with non-temporal ("streaming") stores (fused_kernels.inc has them).
// A plain store first reads the destination line into cache (read-for-ownership), so writing a
// large output moves three bytes over the memory bus per byte written; streaming stores skip
// that read but leave the output in memory, not in cache: only worth it for outputs larger than
// the last-level cache, which a later reader would not find there anyway.
#include <unistd.h>

#include <cstdint>
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

}  // namespace tenflowers::cpu
