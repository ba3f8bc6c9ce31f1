#include "src/backends/cpu/elementwise_loops.hpp"

#include <cstring>

#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

template <class To, class From>
void convert_strided(const char* src, int64_t src_stride, char* dst, int64_t dst_stride,
                     int64_t n) {
  if constexpr (std::is_same_v<To, From>) {
    if (src_stride == sizeof(From) && dst_stride == sizeof(To)) {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(To));
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    From value;
    std::memcpy(&value, src + i * src_stride, sizeof(From));
    const To converted = convert<To>(value);
    std::memcpy(dst + i * dst_stride, &converted, sizeof(To));
  }
}

}  // namespace

ConvertFn convert_fn(DType from, DType to) {
  ConvertFn fn = nullptr;
  TF_DISPATCH_ALL(to, "elementwise conversion", [&] {
    using To = scalar_t;
    TF_DISPATCH_ALL(from, "elementwise conversion", [&] { fn = &convert_strided<To, scalar_t>; });
  });
  return fn;
}

}  // namespace tenflowers::cpu
