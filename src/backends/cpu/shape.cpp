// concat and pad. Both write a contiguous output: concat as byte blocks when every input is
// contiguous in the output dtype, else through the cast kernel into each input's region of the
// output; pad line by line along the last axis.
#include <cstring>

#include "src/backends/cpu/register.hpp"
#include "src/backends/cpu/shape_common.hpp"
#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

// The output is [outer, rows] bytes; row o holds input i's block o at column prefix[i]. Byte
// ranges of the output are split across threads, so one huge block or many tiny ones both
// spread evenly.
void concat_contiguous(std::span<const Tensor> inputs, const Tensor& out, int64_t axis) {
  const auto elem = static_cast<int64_t>(dtype_size(out.dtype()));
  int64_t inner = elem;
  for (size_t a = static_cast<size_t>(axis) + 1; a < out.shape().size(); ++a) {
    inner *= out.shape()[a];
  }
  std::vector<int64_t> prefix(inputs.size() + 1, 0);  // byte column where each input's block starts
  std::vector<const char*> sources(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    prefix[i + 1] = prefix[i] + inputs[i].shape()[static_cast<size_t>(axis)] * inner;
    sources[i] = static_cast<const char*>(inputs[i].data_ptr());
  }
  const int64_t row = prefix.back();
  char* dst = static_cast<char*>(out.data_ptr());
  parallel_for(
      0, static_cast<int64_t>(out.nbytes()), kDefaultGrain * 8, [&](int64_t lo, int64_t hi) {
        int64_t outer = lo / row;
        int64_t column = lo % row;
        size_t i = static_cast<size_t>(std::upper_bound(prefix.begin(), prefix.end(), column) -
                                       prefix.begin()) -
                   1;
        for (int64_t pos = lo; pos < hi;) {
          const int64_t block = prefix[i + 1] - prefix[i];
          const int64_t within = column - prefix[i];
          const int64_t count = std::min(block - within, hi - pos);
          std::memcpy(dst + pos, sources[i] + outer * block + within, static_cast<size_t>(count));
          pos += count;
          column += count;
          if (column == prefix[i + 1]) {
            // Next non-empty block, wrapping to the next output row.
            do {
              if (++i == inputs.size()) {
                i = 0;
                column = 0;
                ++outer;
              }
            } while (prefix[i + 1] == prefix[i]);
          }
        }
      });
}

// Region [start, start + length) of `out` along axis: a view sharing its storage.
Tensor region_of(const Tensor& out, size_t axis, int64_t start, int64_t length) {
  auto impl = std::make_shared<TensorImpl>(*out.impl());
  impl->shape[axis] = length;
  impl->offset += start * impl->strides[axis];
  impl->id = TensorImpl::next_id();
  return Tensor(std::move(impl));
}

void concat_kernel(KernelContext& ctx, const OpDef& cast) {
  const Tensor& out = ctx.outputs[0];
  const auto axis = static_cast<size_t>(normalize_axis(ctx.attrs.get_int("axis"), out.rank()));
  if (out.numel() == 0) return;
  const bool blocks = std::all_of(ctx.inputs.begin(), ctx.inputs.end(), [&](const Tensor& t) {
    return t.dtype() == out.dtype() && t.is_contiguous();
  });
  if (blocks) {
    concat_contiguous(ctx.inputs, out, static_cast<int64_t>(axis));
    return;
  }
  // Converts and copies each input into its region with the strided cast kernel.
  const KernelFn& convert_into = cast.kernel(DeviceType::CPU).fn;
  const Attrs cast_attrs{{"dtype", out.dtype()}};
  int64_t start = 0;
  for (const Tensor& in : ctx.inputs) {
    const int64_t length = in.shape()[axis];
    if (in.numel() > 0) {
      Tensor region[1] = {region_of(out, axis, start, length)};
      KernelContext part{cast, std::span<const Tensor>(&in, 1), cast_attrs, region, ctx.device};
      convert_into(part);
    }
    start += length;
  }
}

int64_t reflect_index(int64_t i, int64_t extent) {
  if (i < 0) return -i;
  return i >= extent ? 2 * (extent - 1) - i : i;
}

// Each output line along the last axis is either all fill (an outer index lands in constant
// padding) or a copy of one input line with its ends filled or reflected.
template <class T>
void pad_lines(const Tensor& x, const Tensor& out, const std::vector<int64_t>& pads, bool reflect,
               T fill) {
  const T* src = static_cast<const T*>(x.data_ptr());
  T* dst = static_cast<T*>(out.data_ptr());
  if (x.rank() == 0) {
    dst[0] = src[0];
    return;
  }
  const auto last = static_cast<size_t>(x.rank() - 1);
  const int64_t out_length = out.shape()[last], in_length = x.shape()[last];
  const int64_t before = pads[2 * last], step = x.strides()[last];
  // Output columns [copy_lo, copy_hi) read input columns shifted by `before`.
  const int64_t copy_lo = std::clamp<int64_t>(before, 0, out_length);
  const int64_t copy_hi = std::clamp<int64_t>(before + in_length, 0, out_length);
  const int64_t lines = out.numel() / out_length;
  const int64_t grain = std::max<int64_t>(1, kDefaultGrain / out_length);
  parallel_for(0, lines, grain, [&](int64_t lo, int64_t hi) {
    Dims index(last, 0);
    for (int64_t rem = lo, d = static_cast<int64_t>(last); d-- > 0;) {
      index[static_cast<size_t>(d)] = rem % out.shape()[static_cast<size_t>(d)];
      rem /= out.shape()[static_cast<size_t>(d)];
    }
    for (int64_t l = lo; l < hi; ++l) {
      T* row = dst + l * out_length;
      bool inside = true;
      int64_t offset = 0;
      for (size_t a = 0; a < last && inside; ++a) {
        int64_t i = index[a] - pads[2 * a];
        if (i < 0 || i >= x.shape()[a]) {
          inside = reflect;
          i = reflect_index(i, x.shape()[a]);
        }
        offset += i * x.strides()[a];
      }
      if (!inside) {
        std::fill(row, row + out_length, fill);
      } else {
        const T* line = src + offset;
        if (reflect) {
          for (int64_t o = 0; o < copy_lo; ++o)
            row[o] = line[reflect_index(o - before, in_length) * step];
          for (int64_t o = copy_hi; o < out_length; ++o) {
            row[o] = line[reflect_index(o - before, in_length) * step];
          }
        } else {
          std::fill(row, row + copy_lo, fill);
          std::fill(row + copy_hi, row + out_length, fill);
        }
        const T* from = line + (copy_lo - before) * step;
        if (step == 1) {
          std::memcpy(row + copy_lo, from, static_cast<size_t>(copy_hi - copy_lo) * sizeof(T));
        } else {
          for (int64_t o = copy_lo; o < copy_hi; ++o) row[o] = from[(o - copy_lo) * step];
        }
      }
      for (size_t d = last; d-- > 0;) {
        if (++index[d] < out.shape()[d]) break;
        index[d] = 0;
      }
    }
  });
}

void pad_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const std::vector<int64_t>& pads = ctx.attrs.get_ints("pads");
  const bool reflect = ctx.attrs.get_string("mode") == "reflect";
  const double value = ctx.attrs.get_float_or("value", 0.0);
  TF_DISPATCH_ALL(x.dtype(), "pad",
                  [&] { pad_lines<scalar_t>(x, out, pads, reflect, convert<scalar_t>(value)); });
}

}  // namespace

void register_cpu_shape_kernels(OpRegistry& r) {
  const OpDef& cast = r.get("cast");
  r.add_kernel(
      "concat", DeviceType::CPU, [&cast](KernelContext& ctx) { concat_kernel(ctx, cast); },
      kAllDTypes);
  r.add_kernel("pad", DeviceType::CPU, pad_kernel, kAllDTypes);
  register_cpu_sort_kernels(r);
  register_cpu_scan_kernels(r);
}

}  // namespace tenflowers::cpu
