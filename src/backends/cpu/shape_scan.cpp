// cumsum and cumprod along an axis. Integer and bool inputs accumulate in i64 with two's
// complement wrap-around (as NumPy; done in uint64 so overflow is defined), f16/bf16 in float,
// f32 and f64 in double (as PyTorch's CPU kernels).
#include <cstdint>

#include "src/backends/cpu/shape_common.hpp"

namespace tenflowers::cpu {
namespace {

template <class T>
struct ScanTypes {
  using Acc = double;  // f32, f64
  using Out = T;
  static Out store(Acc acc) { return static_cast<Out>(acc); }
};
template <class T>
requires std::is_integral_v<T>
struct ScanTypes<T> {  // bool and integers
  using Acc = uint64_t;
  using Out = int64_t;
  static Out store(Acc acc) { return static_cast<Out>(acc); }  // modular since C++20
};
template <class T>
requires std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>
struct ScanTypes<T> {
  using Acc = float;
  using Out = T;
  static Out store(Acc acc) { return Out(acc); }
};

template <class T, class Acc>
Acc load(T value) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<Acc>(static_cast<int64_t>(value));
  } else {
    return static_cast<Acc>(value);
  }
}

template <bool kProduct, class Acc>
Acc combine(Acc acc, Acc value) {
  if constexpr (kProduct) {
    return acc * value;
  } else {
    return acc + value;
  }
}

template <class T, bool kProduct>
void scan(const Tensor& x, const Tensor& out, int64_t axis) {
  using Types = ScanTypes<T>;
  using Acc = typename Types::Acc;
  using Out = typename Types::Out;
  constexpr Acc identity = kProduct ? Acc(1) : Acc(0);
  if (x.numel() == 0) return;
  const T* src = static_cast<const T*>(x.data_ptr());
  Out* dst = static_cast<Out*>(out.data_ptr());
  const int64_t length = x.rank() == 0 ? 1 : x.shape()[static_cast<size_t>(axis)];
  int64_t columns = 1;
  for (size_t a = static_cast<size_t>(axis) + 1; a < x.shape().size(); ++a) columns *= x.shape()[a];

  if (x.is_contiguous() && columns > 1) {
    // [outer, length, columns]: scan blocks of adjacent columns together so that every load
    // and store walks memory contiguously.
    constexpr int64_t kBlock = 256;
    const int64_t blocks = (columns + kBlock - 1) / kBlock;
    const int64_t tasks = x.numel() / (length * columns) * blocks;
    const int64_t grain = std::max<int64_t>(1, kDefaultGrain / (length * kBlock));
    parallel_for(0, tasks, grain, [&](int64_t lo, int64_t hi) {
      Acc acc[kBlock];
      for (int64_t task = lo; task < hi; ++task) {
        const int64_t first = (task % blocks) * kBlock;
        const int64_t width = std::min(kBlock, columns - first);
        const int64_t base = task / blocks * length * columns + first;
        std::fill(acc, acc + width, identity);
        for (int64_t i = 0; i < length; ++i) {
          const T* row = src + base + i * columns;
          Out* out_row = dst + base + i * columns;
          for (int64_t j = 0; j < width; ++j) {
            acc[j] = combine<kProduct>(acc[j], load<T, Acc>(row[j]));
            out_row[j] = Types::store(acc[j]);
          }
        }
      }
    });
    return;
  }
  const AxisLines<2> lines(x.shape(), axis, {&x, &out});
  const int64_t in_step = lines.step(0), out_step = lines.step(1);
  parallel_for(0, lines.count(), lines.grain(), [&](int64_t lo, int64_t hi) {
    lines.for_range(lo, hi, [&](const std::array<int64_t, 2>& offsets) {
      const T* line = src + offsets[0];
      Out* out_line = dst + offsets[1];
      Acc acc = identity;
      for (int64_t i = 0; i < length; ++i) {
        acc = combine<kProduct>(acc, load<T, Acc>(line[i * in_step]));
        out_line[i * out_step] = Types::store(acc);
      }
    });
  });
}

template <bool kProduct>
void scan_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  TF_DISPATCH_ALL(x.dtype(), ctx.op.name.c_str(),
                  [&] { scan<scalar_t, kProduct>(x, ctx.outputs[0], axis); });
}

}  // namespace

void register_cpu_scan_kernels(OpRegistry& r) {
  r.add_kernel("cumsum", DeviceType::CPU, scan_kernel<false>, kAllDTypes);
  r.add_kernel("cumprod", DeviceType::CPU, scan_kernel<true>, kAllDTypes);
}

}  // namespace tenflowers::cpu
