#pragma once
// im2col and col2im for one NCHW image: the building blocks of conv2d, conv_transpose2d and
// their gradients. The column matrix has one row per (channel, kernel row, kernel column) and
// one column per window position (row-major over out_h x out_w), so a convolution of one group
// is weight[out, channels * kh * kw] @ col, and col2im scatters such a matrix back onto the image.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "src/backends/cpu/elementwise_table.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cpu {

struct ConvGeometry {
  int64_t in_h, in_w;    // the image windows slide over: conv2d's input, conv_transpose2d's output
  int64_t out_h, out_w;  // window positions
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_top, pad_left;
  int64_t dilation_h, dilation_w;

  int64_t positions() const { return out_h * out_w; }
  int64_t taps() const { return kernel_h * kernel_w; }  // column rows per channel
};

// The window positions o in [0, out) whose image coordinate o * stride + offset is inside
// [0, in), as a half-open range [first, last).
inline std::pair<int64_t, int64_t> inside_positions(int64_t offset, int64_t stride, int64_t in,
                                                    int64_t out) {
  const int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t reach = in - 1 - offset;
  const int64_t last = reach < 0 ? 0 : reach / stride + 1;
  const int64_t lo = std::min(first, out);
  return {lo, std::clamp(last, lo, out)};
}

// Zeroes columns [0, ow_lo) and [ow_hi, width) of rows [oh_lo, oh_hi) of a column row: those
// a tap's shifted plane wraps around a row edge. Column by column: a few elements per row, which
// per-row fills would spend in memset calls.
template <class T>
void zero_wrapped_columns(T* row, int64_t width, int64_t oh_lo, int64_t oh_hi, int64_t ow_lo,
                          int64_t ow_hi) {
  const auto zero_column = [&](int64_t ow) {
    for (int64_t oh = oh_lo; oh < oh_hi; ++oh) row[oh * width + ow] = T(0);
  };
  for (int64_t ow = 0; ow < ow_lo; ++ow) zero_column(ow);
  for (int64_t ow = ow_hi; ow < width; ++ow) zero_column(ow);
}

// One column row of a stride-1 'same' convolution (see im2col): positions p in rows
// [oh_lo, oh_hi) read plane[p + shift], clipped to the plane; everything else, and the columns
// outside [ow_lo, ow_hi) of each row, is zero.
template <class Src, class Dst>
void im2col_shifted_row(const Src* plane, const ConvGeometry& g, int64_t shift, int64_t oh_lo,
                        int64_t oh_hi, int64_t ow_lo, int64_t ow_hi, Dst* row) {
  const int64_t width = g.out_w;
  const int64_t plane_size = g.in_h * g.in_w;
  const int64_t first = std::min(g.positions(), std::max(oh_lo * width, -shift));
  const int64_t last = std::max(first, std::min(oh_hi * width, plane_size - shift));
  std::fill(row, row + first, Dst(0));
  if (first < last) {  // else plane + first + shift may point outside the plane
    if constexpr (std::is_same_v<Src, Dst>) {
      std::copy(plane + first + shift, plane + last + shift, row + first);  // memmove: wide stores
    } else {
      for (int64_t p = first; p < last; ++p) row[p] = convert<Dst>(plane[p + shift]);
    }
  }
  std::fill(row + last, row + g.positions(), Dst(0));
  zero_wrapped_columns(row, width, oh_lo, oh_hi, ow_lo, ow_hi);
}

// Writes the column rows of channels [c_begin, c_end). `image` addresses channel 0, row 0,
// column 0 and is read with element strides (sc, sh, sw), so any layout works; taps in the
// padding read as zero. The loops run channels innermost so the clipping ranges, which depend
// only on the tap, are computed once per tap.
template <class Src, class Dst>
void im2col(const Src* image, int64_t sc, int64_t sh, int64_t sw, const ConvGeometry& g,
            int64_t c_begin, int64_t c_end, Dst* col) {
  const int64_t positions = g.positions();
  const bool unit_steps = g.stride_w == 1 && sw == 1;
  // Stride 1 over row-major planes with as many window columns as image columns ('same'
  // padding): a column row is the plane shifted by the tap, so it is copied in one run and
  // only the columns that wrapped around a row edge are zeroed afterwards.
  const bool shifted_planes = unit_steps && g.stride_h == 1 && sh == g.in_w && g.out_w == g.in_w;
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    const int64_t off_h = i * g.dilation_h - g.pad_top;
    const auto [oh_lo, oh_hi] = inside_positions(off_h, g.stride_h, g.in_h, g.out_h);
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t off_w = j * g.dilation_w - g.pad_left;
      const auto [ow_lo, ow_hi] = inside_positions(off_w, g.stride_w, g.in_w, g.out_w);
      for (int64_t c = c_begin; c < c_end; ++c) {
        Dst* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * positions;
        if (shifted_planes) {
          im2col_shifted_row(image + c * sc, g, off_h * g.in_w + off_w, oh_lo, oh_hi, ow_lo, ow_hi,
                             row);
          continue;
        }
        std::fill(row, row + oh_lo * g.out_w, Dst(0));
        std::fill(row + oh_hi * g.out_w, row + positions, Dst(0));
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          Dst* dst = row + oh * g.out_w;
          const Src* src = image + c * sc + (oh * g.stride_h + off_h) * sh;
          for (int64_t ow = 0; ow < ow_lo; ++ow) dst[ow] = Dst(0);
          for (int64_t ow = ow_hi; ow < g.out_w; ++ow) dst[ow] = Dst(0);
          if (unit_steps) {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow] = convert<Dst>(src[ow + off_w]);
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
              dst[ow] = convert<Dst>(src[(ow * g.stride_w + off_w) * sw]);
            }
          }
        }
      }
    }
  }
}

// One column row of a stride-1 'same' convolution added back onto its plane (the transpose of
// im2col_shifted_row): positions p in rows [oh_lo, oh_hi) add onto plane[p + shift]. The columns
// outside [ow_lo, ow_hi) of those rows wrapped around a row edge: they are zeroed in `row` first,
// so one contiguous add over the plane leaves the neighbouring row's edge unchanged.
template <class T>
void col2im_shifted_row(T* row, const ConvGeometry& g, int64_t shift, int64_t oh_lo, int64_t oh_hi,
                        int64_t ow_lo, int64_t ow_hi, T* plane) {
  const int64_t width = g.out_w;
  zero_wrapped_columns(row, width, oh_lo, oh_hi, ow_lo, ow_hi);
  const int64_t first = std::min(g.positions(), std::max(oh_lo * width, -shift));
  const int64_t last = std::min(oh_hi * width, g.in_h * g.in_w - shift);
  if (first >= last) return;  // else plane + first + shift may point outside the plane
  // The add of the widest instruction set the CPU has (this file is compiled for the baseline).
  const vec::ArrayFn add =
      vec::table().binary[static_cast<int>(vec::Binary::Add)][static_cast<int>(dtype_v<T>)];
  T* dst = plane + first + shift;
  const void* operands[] = {dst, row + first};
  add(operands, dst, last - first, vec::Params{});
}

// Adds the column rows of channels [c_begin, c_end) onto a contiguous image (planes of
// in_h x in_w). Distinct channels touch distinct planes, so channel ranges can run in parallel.
// `col` is scratch: stride-1 'same' convolutions zero its wrapped columns (col2im_shifted_row).
// Each image element receives its taps' sums in tap order on every path.
template <class T>
void col2im(T* col, const ConvGeometry& g, int64_t c_begin, int64_t c_end, T* image) {
  const int64_t positions = g.positions();
  const bool shifted_planes = g.stride_h == 1 && g.stride_w == 1 && g.out_w == g.in_w;
  for (int64_t c = c_begin; c < c_end; ++c) {
    T* plane = image + c * g.in_h * g.in_w;
    for (int64_t i = 0; i < g.kernel_h; ++i) {
      const int64_t off_h = i * g.dilation_h - g.pad_top;
      const auto [oh_lo, oh_hi] = inside_positions(off_h, g.stride_h, g.in_h, g.out_h);
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        T* row = col + ((c * g.kernel_h + i) * g.kernel_w + j) * positions;
        const int64_t off_w = j * g.dilation_w - g.pad_left;
        const auto [ow_lo, ow_hi] = inside_positions(off_w, g.stride_w, g.in_w, g.out_w);
        if (shifted_planes) {
          col2im_shifted_row(row, g, off_h * g.in_w + off_w, oh_lo, oh_hi, ow_lo, ow_hi, plane);
          continue;
        }
        for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
          const T* src = row + oh * g.out_w;
          T* dst = plane + (oh * g.stride_h + off_h) * g.in_w;
          if (g.stride_w == 1) {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow + off_w] += src[ow];
          } else {
            for (int64_t ow = ow_lo; ow < ow_hi; ++ow) dst[ow * g.stride_w + off_w] += src[ow];
          }
        }
      }
    }
  }
}

}  // namespace tenflowers::cpu
