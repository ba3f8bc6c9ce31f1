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

// f16 <-> f32 on contiguous arrays use the table's F16C kernels where the CPU has them.
void widen_f16(const char* src, int64_t src_stride, char* dst, int64_t dst_stride, int64_t n) {
  const vec::ArrayFn fast = vec::table().f16_to_f32;
  if (fast && src_stride == sizeof(Half) && dst_stride == sizeof(float)) {
    const void* in[] = {src};
    fast(in, dst, n, {});
    return;
  }
  convert_strided<float, Half>(src, src_stride, dst, dst_stride, n);
}

void narrow_to_f16(const char* src, int64_t src_stride, char* dst, int64_t dst_stride, int64_t n) {
  const vec::ArrayFn fast = vec::table().f32_to_f16;
  if (fast && src_stride == sizeof(float) && dst_stride == sizeof(Half)) {
    const void* in[] = {src};
    fast(in, dst, n, {});
    return;
  }
  convert_strided<Half, float>(src, src_stride, dst, dst_stride, n);
}

}  // namespace

ConvertFn convert_fn(DType from, DType to) {
  if (from == DType::F16 && to == DType::F32) return &widen_f16;
  if (from == DType::F32 && to == DType::F16) return &narrow_to_f16;
  ConvertFn fn = nullptr;
  TF_DISPATCH_ALL(to, "elementwise conversion", [&] {
    using To = scalar_t;
    TF_DISPATCH_ALL(from, "elementwise conversion", [&] { fn = &convert_strided<To, scalar_t>; });
  });
  return fn;
}

}  // namespace tenflowers::cpu
