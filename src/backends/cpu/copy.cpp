// copy and cast: one strided loop converting each element.
#include <cstring>

#include "src/backends/cpu/loops.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

template <class To, class From>
void convert_rows(const Tensor& out, const Tensor& in) {
  auto it = make_iter<2>(out.shape(), {&out, &in});
  parallel_rows(it, [](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    if constexpr (std::is_same_v<To, From>) {
      if (s[0] == sizeof(To) && s[1] == sizeof(From)) {
        std::memcpy(p[0], p[1], static_cast<size_t>(n) * sizeof(To));
        return;
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      From v;
      std::memcpy(&v, p[1] + i * s[1], sizeof(From));
      const To r = convert<To>(v);
      std::memcpy(p[0] + i * s[0], &r, sizeof(To));
    }
  });
}

void convert_kernel(KernelContext& ctx) {
  const Tensor& in = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  TF_DISPATCH_ALL(out.dtype(), "cast", [&] {
    using To = scalar_t;
    TF_DISPATCH_ALL(in.dtype(), "cast", [&] { convert_rows<To, scalar_t>(out, in); });
  });
}

}  // namespace

void register_cpu_copy_kernels(OpRegistry& r) {
  r.add_kernel("copy", DeviceType::CPU, convert_kernel, kAllDTypes);
  r.add_kernel("cast", DeviceType::CPU, convert_kernel, kAllDTypes);
}

}  // namespace tenflowers::cpu
