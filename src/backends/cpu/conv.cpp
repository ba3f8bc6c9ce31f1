// conv2d and conv_transpose2d: per image and group, im2col + gemm (conv2d) or gemm + col2im
// (conv_transpose2d) in the compute type (f16 and bf16 go through f32), bias written first and
// accumulated onto by the gemm. Images run in parallel when the batch fills the thread team.
#include <type_traits>
#include <vector>

#include "src/backends/cpu/conv_blas.hpp"
#include "src/backends/cpu/conv_im2col.hpp"
#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/pool.hpp"
#include "src/backends/cpu/register.hpp"
#include "src/core/ops/conv.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {
namespace {

// Below this many flops per image a gemm gains nothing from BLAS threads.
constexpr int64_t kThreadedImageFlops = int64_t{1} << 22;

// Runs body(first, last, nested) over the images [0, batch). With enough images (or little work
// in each) they are split across the thread team and BLAS runs single-threaded; otherwise one
// thread walks them with nested = true, so the body threads its own loops and BLAS uses the team.
template <class Body>
void for_images(int64_t batch, int64_t flops_per_image, Body&& body) {
  if (batch >= get_num_threads() || flops_per_image < kThreadedImageFlops) {
    SingleThreadedBlas single_threaded;
    parallel_for(0, batch, 1, [&](int64_t first, int64_t last) { body(first, last, false); });
  } else {
    body(0, batch, true);
  }
}

// fn(begin, end) over [0, count), on the thread team when nested.
template <class Fn>
void for_range(bool nested, int64_t count, Fn&& fn) {
  if (nested) {
    parallel_for(0, count, 1, fn);
  } else {
    fn(0, count);
  }
}

// The elements of `t` in row-major order as C: the tensor's own buffer when it already is
// contiguous C, else a converted copy held in `storage`. For weights and biases (small).
template <class C, class T>
const C* contiguous_as(const Tensor& t, std::vector<C>& storage) {
  if constexpr (std::is_same_v<C, T>) {
    if (t.is_contiguous()) return static_cast<const C*>(t.data_ptr());
  }
  const T* base = static_cast<const T*>(t.data_ptr());
  const Dims& shape = t.shape();
  const Dims& strides = t.strides();
  storage.resize(static_cast<size_t>(t.numel()));
  Dims index(shape.size(), 0);
  int64_t offset = 0;
  for (C& value : storage) {
    value = convert<C>(base[offset]);
    for (size_t d = shape.size(); d-- > 0;) {
      offset += strides[d];
      if (++index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return storage.data();
}

// Sets each of `rows` rows of `positions` values to its channel's bias (or zero).
template <class C>
void fill_bias(C* y, int64_t rows, int64_t positions, const C* bias) {
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(y + r * positions, y + (r + 1) * positions, bias ? bias[r] : C(0));
  }
}

// Per-image results go straight into the output when it is of the compute type; 16-bit outputs
// are computed in a float buffer and converted once per image.
template <class T, class C>
class ImageOutput {
 public:
  ImageOutput(T* result, int64_t image_size) : result_(result), image_size_(image_size) {
    if constexpr (!std::is_same_v<T, C>) staged_.resize(static_cast<size_t>(image_size));
  }
  C* image(int64_t n) {
    if constexpr (std::is_same_v<T, C>) {
      return result_ + n * image_size_;
    } else {
      return staged_.data();
    }
  }
  void finish(int64_t n) {
    if constexpr (!std::is_same_v<T, C>) {
      T* dst = result_ + n * image_size_;
      for (int64_t i = 0; i < image_size_; ++i) dst[i] = convert<T>(staged_[i]);
    }
  }

 private:
  T* result_;
  int64_t image_size_;
  std::vector<C> staged_;
};

template <class T>
void conv2d_typed(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& x = ctx.inputs[0];
  const Tensor& w = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, "conv2d", false);
  const ConvGeometry g{x.shape()[2], x.shape()[3], out.shape()[2], out.shape()[3],
                       w.shape()[2], w.shape()[3], p.stride_h,     p.stride_w,
                       p.pads.top,   p.pads.left,  p.dilation_h,   p.dilation_w};
  const int64_t out_channels = w.shape()[0];
  const int64_t group_in = w.shape()[1];
  const int64_t group_out = out_channels / p.groups;
  const int64_t depth = group_in * g.taps();  // gemm depth: column rows of one group
  const int64_t positions = g.positions();
  const int64_t sn = x.strides()[0], sc = x.strides()[1], sh = x.strides()[2], sw = x.strides()[3];
  // A 1x1 kernel without stride or padding over row-major planes: the planes are the columns.
  const bool planes_are_columns = std::is_same_v<C, T> && g.taps() == 1 && g.stride_h == 1 &&
                                  g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                                  g.out_h == g.in_h && g.out_w == g.in_w && sw == 1 &&
                                  sh == g.in_w && sc >= positions;
  for (int64_t extent : {depth, positions, planes_are_columns ? sc : positions}) {
    check_blas_extent(extent, "conv2d");
  }
  std::vector<C> weight_store, bias_store;
  const C* weight = contiguous_as<C, T>(w, weight_store);
  const C* bias = ctx.inputs.size() == 3 ? contiguous_as<C, T>(ctx.inputs[2], bias_store) : nullptr;
  const T* input = static_cast<const T*>(x.data_ptr());
  T* result = static_cast<T*>(out.data_ptr());

  for_images(
      x.shape()[0], 2 * out_channels * positions * depth,
      [&](int64_t first, int64_t last, bool nested) {
        std::vector<C> col(planes_are_columns ? 0 : static_cast<size_t>(depth * positions));
        ImageOutput<T, C> output(result, out_channels * positions);
        for (int64_t n = first; n < last; ++n) {
          C* y = output.image(n);
          for (int64_t grp = 0; grp < p.groups; ++grp) {
            const T* image = input + n * sn + grp * group_in * sc;
            const C* columns = col.data();
            int64_t ld = positions;
            if constexpr (std::is_same_v<C, T>) {
              if (planes_are_columns) {
                columns = image;
                ld = sc;
              }
            }
            if (!planes_are_columns) {
              for_range(nested, group_in, [&](int64_t lo, int64_t hi) {
                im2col(image, sc, sh, sw, g, lo, hi, col.data());
              });
            }
            C* y_group = y + grp * group_out * positions;
            fill_bias(y_group, group_out, positions, bias ? bias + grp * group_out : nullptr);
            if (depth > 0) {
              gemm(false, false, group_out, positions, depth, C(1),
                   weight + grp * group_out * depth, depth, columns, ld, C(1), y_group, positions);
            }
          }
          output.finish(n);
        }
      });
}

template <class T>
void conv_transpose2d_typed(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& x = ctx.inputs[0];
  const Tensor& w = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, "conv_transpose2d", true);
  // The geometry of the convolution this op transposes: windows slide over the output.
  const ConvGeometry g{out.shape()[2], out.shape()[3], x.shape()[2], x.shape()[3],
                       w.shape()[2],   w.shape()[3],   p.stride_h,   p.stride_w,
                       p.pads.top,     p.pads.left,    p.dilation_h, p.dilation_w};
  const int64_t in_channels = x.shape()[1];
  const int64_t out_channels = out.shape()[1];
  const int64_t group_in = in_channels / p.groups;
  const int64_t group_out = w.shape()[1];
  const int64_t rows = group_out * g.taps();  // column rows of one group
  const int64_t positions = g.positions();    // input pixels
  const int64_t out_plane = g.in_h * g.in_w;
  const int64_t sn = x.strides()[0], sc = x.strides()[1], sh = x.strides()[2], sw = x.strides()[3];
  // The gemm reads the input planes in place when they are row-major compute-type planes.
  const bool pack_input = !std::is_same_v<C, T> || sw != 1 || sh != g.out_w || sc < positions;
  for (int64_t extent : {rows, positions, group_in, pack_input ? positions : sc}) {
    check_blas_extent(extent, "conv_transpose2d");
  }
  // Reading an input image row-major is im2col with a 1x1 window.
  const ConvGeometry pack{g.out_h, g.out_w, g.out_h, g.out_w, 1, 1, 1, 1, 0, 0, 1, 1};
  std::vector<C> weight_store, bias_store;
  const C* weight = contiguous_as<C, T>(w, weight_store);
  const C* bias = ctx.inputs.size() == 3 ? contiguous_as<C, T>(ctx.inputs[2], bias_store) : nullptr;
  const T* input = static_cast<const T*>(x.data_ptr());
  T* result = static_cast<T*>(out.data_ptr());

  for_images(
      x.shape()[0], 2 * in_channels * positions * rows,
      [&](int64_t first, int64_t last, bool nested) {
        std::vector<C> col(static_cast<size_t>(rows * positions));
        std::vector<C> packed(pack_input ? static_cast<size_t>(in_channels * positions) : 0);
        ImageOutput<T, C> output(result, out_channels * out_plane);
        for (int64_t n = first; n < last; ++n) {
          const T* image = input + n * sn;
          const C* planes = packed.data();
          int64_t ld = positions;
          if (pack_input) {
            for_range(nested, in_channels, [&](int64_t lo, int64_t hi) {
              im2col(image, sc, sh, sw, pack, lo, hi, packed.data());
            });
          } else if constexpr (std::is_same_v<C, T>) {
            planes = image;
            ld = sc;
          }
          C* y = output.image(n);
          for (int64_t grp = 0; grp < p.groups; ++grp) {
            C* y_group = y + grp * group_out * out_plane;
            fill_bias(y_group, group_out, out_plane, bias ? bias + grp * group_out : nullptr);
            if (group_in == 0) continue;
            gemm(true, false, rows, positions, group_in, C(1), weight + grp * group_in * rows, rows,
                 planes + grp * group_in * ld, ld, C(0), col.data(), positions);
            for_range(nested, group_out,
                      [&](int64_t lo, int64_t hi) { col2im(col.data(), g, lo, hi, y_group); });
          }
          output.finish(n);
        }
      });
}

// dW[group] += dy[group] @ col(x[group])^T per image. Images are split into chunks, each
// accumulating into its own buffer (summed at the end), so chunks run in parallel.
template <class T>
void conv2d_weight_grad_typed(KernelContext& ctx) {
  using C = compute_t<T>;
  const Tensor& x = ctx.inputs[0];
  const Tensor& dy = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const int64_t weight_size = out.numel();
  T* result = static_cast<T*>(out.data_ptr());
  if (weight_size == 0) return;
  const conv::ConvParams2d p = conv::read_conv_params(ctx.attrs, "conv2d_weight_grad", false);
  const ConvGeometry g{x.shape()[2],   x.shape()[3],   dy.shape()[2], dy.shape()[3],
                       out.shape()[2], out.shape()[3], p.stride_h,    p.stride_w,
                       p.pads.top,     p.pads.left,    p.dilation_h,  p.dilation_w};
  const int64_t batch = x.shape()[0];
  const int64_t out_channels = out.shape()[0];
  const int64_t group_in = out.shape()[1];
  const int64_t group_out = out_channels / p.groups;
  const int64_t depth = group_in * g.taps();
  const int64_t positions = g.positions();
  for (int64_t extent : {depth, positions, group_out}) {
    check_blas_extent(extent, "conv2d_weight_grad");
  }
  // Reading a gradient image row-major is im2col with a 1x1 window.
  const ConvGeometry pack{g.out_h, g.out_w, g.out_h, g.out_w, 1, 1, 1, 1, 0, 0, 1, 1};
  const int64_t chunks = positions == 0 ? 0 : std::min<int64_t>(batch, get_num_threads());
  std::vector<std::vector<C>> partial(static_cast<size_t>(std::max<int64_t>(chunks, 1)),
                                      std::vector<C>(static_cast<size_t>(weight_size), C(0)));
  const T* input = static_cast<const T*>(x.data_ptr());
  const T* grad = static_cast<const T*>(dy.data_ptr());
  const int64_t xn = x.strides()[0], xc = x.strides()[1], xh = x.strides()[2], xw = x.strides()[3];
  const int64_t dn = dy.strides()[0], dc = dy.strides()[1], dh = dy.strides()[2],
                dw = dy.strides()[3];
  auto run_chunk = [&](int64_t chunk, bool nested) {
    std::vector<C> col(static_cast<size_t>(depth * positions));
    std::vector<C> packed(static_cast<size_t>(out_channels * positions));
    C* acc = partial[static_cast<size_t>(chunk)].data();
    for (int64_t n = chunk * batch / chunks; n < (chunk + 1) * batch / chunks; ++n) {
      for_range(nested, out_channels, [&](int64_t lo, int64_t hi) {
        im2col(grad + n * dn, dc, dh, dw, pack, lo, hi, packed.data());
      });
      for (int64_t grp = 0; grp < p.groups; ++grp) {
        for_range(nested, group_in, [&](int64_t lo, int64_t hi) {
          im2col(input + n * xn + grp * group_in * xc, xc, xh, xw, g, lo, hi, col.data());
        });
        if (depth == 0 || group_out == 0) continue;
        gemm(false, true, group_out, depth, positions, C(1),
             packed.data() + grp * group_out * positions, positions, col.data(), positions, C(1),
             acc + grp * group_out * depth, depth);
      }
    }
  };
  if (chunks > 1) {
    SingleThreadedBlas single_threaded;
    parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
      for (int64_t chunk = first; chunk < last; ++chunk) run_chunk(chunk, false);
    });
  } else if (chunks == 1) {
    run_chunk(0, true);
  }
  const std::vector<C>& total = partial[0];
  for (int64_t i = 0; i < weight_size; ++i) {
    C value = total[static_cast<size_t>(i)];
    for (int64_t chunk = 1; chunk < chunks; ++chunk)
      value += partial[static_cast<size_t>(chunk)][static_cast<size_t>(i)];
    result[i] = convert<T>(value);
  }
}

void conv2d_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "conv2d", [&] { conv2d_typed<scalar_t>(ctx); });
}

void conv_transpose2d_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "conv_transpose2d",
                       [&] { conv_transpose2d_typed<scalar_t>(ctx); });
}

void conv2d_weight_grad_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "conv2d_weight_grad",
                       [&] { conv2d_weight_grad_typed<scalar_t>(ctx); });
}

}  // namespace

void register_cpu_conv_kernels(OpRegistry& r) {
  r.add_kernel("conv2d", DeviceType::CPU, conv2d_kernel, kFloatDTypes);
  r.add_kernel("conv_transpose2d", DeviceType::CPU, conv_transpose2d_kernel, kFloatDTypes);
  r.add_kernel("conv2d_weight_grad", DeviceType::CPU, conv2d_weight_grad_kernel, kFloatDTypes);
  register_cpu_pool_kernels(r);
}

}  // namespace tenflowers::cpu
