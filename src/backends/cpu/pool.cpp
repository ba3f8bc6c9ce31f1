// max_pool2d and avg_pool2d over NCHW images of any layout: one task per (image, channel) plane,
// each window clipped to the image (padding never wins a max; it counts in an average only with
// count_include_pad). Max propagates NaN, as PyTorch does.
#include <cmath>
#include <limits>

#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/pool.hpp"
#include "src/core/ops/conv.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

enum class PoolKind { Max, Average };

template <PoolKind kind, class T>
void pool2d(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& x = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const conv::PoolParams2d p = conv::read_pool_params(ctx.attrs, ctx.op.name.c_str());
  const bool count_padding = kind == PoolKind::Average && ctx.attrs.get_bool("count_include_pad");
  const int64_t channels = x.shape()[1], in_h = x.shape()[2], in_w = x.shape()[3];
  const int64_t out_h = out.shape()[2], out_w = out.shape()[3];
  const int64_t sn = x.strides()[0], sc = x.strides()[1], sh = x.strides()[2], sw = x.strides()[3];
  const T* input = static_cast<const T*>(x.data_ptr());
  T* result = static_cast<T*>(out.data_ptr());
  const int64_t plane_work = out_h * out_w * p.kernel_h * p.kernel_w;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(plane_work, 1));

  parallel_for(0, x.shape()[0] * channels, grain, [&](int64_t first, int64_t last) {
    for (int64_t plane = first; plane < last; ++plane) {
      const T* src = input + (plane / channels) * sn + (plane % channels) * sc;
      T* dst = result + plane * out_h * out_w;
      for (int64_t oh = 0; oh < out_h; ++oh) {
        const int64_t h0 = oh * p.stride_h - p.pads.top;
        const int64_t h_lo = std::max<int64_t>(h0, 0);
        const int64_t h_hi = std::min(h0 + p.kernel_h, in_h);
        for (int64_t ow = 0; ow < out_w; ++ow) {
          const int64_t w0 = ow * p.stride_w - p.pads.left;
          const int64_t w_lo = std::max<int64_t>(w0, 0);
          const int64_t w_hi = std::min(w0 + p.kernel_w, in_w);
          C acc = kind == PoolKind::Max ? -std::numeric_limits<C>::infinity() : C(0);
          for (int64_t h = h_lo; h < h_hi; ++h) {
            const T* row = src + h * sh;
            for (int64_t w = w_lo; w < w_hi; ++w) {
              const C v = convert<C>(row[w * sw]);
              if constexpr (kind == PoolKind::Max) {
                if (v > acc || std::isnan(v)) acc = v;
              } else {
                acc += v;
              }
            }
          }
          if constexpr (kind == PoolKind::Average) {
            // Windows never lie wholly in the padding, so the count is positive.
            const int64_t count =
                count_padding ? p.kernel_h * p.kernel_w : (h_hi - h_lo) * (w_hi - w_lo);
            acc /= static_cast<C>(count);
          }
          dst[oh * out_w + ow] = convert<T>(acc);
        }
      }
    }
  });
}

void max_pool2d_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "max_pool2d",
                       [&] { pool2d<PoolKind::Max, scalar_t>(ctx); });
}

void avg_pool2d_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "avg_pool2d",
                       [&] { pool2d<PoolKind::Average, scalar_t>(ctx); });
}

}  // namespace

void register_cpu_pool_kernels(OpRegistry& r) {
  r.add_kernel("max_pool2d", DeviceType::CPU, max_pool2d_kernel, kFloatDTypes);
  r.add_kernel("avg_pool2d", DeviceType::CPU, avg_pool2d_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
