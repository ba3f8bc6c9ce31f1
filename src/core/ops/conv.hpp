#pragma once
// Attributes of the convolution and pooling ops, read and validated in one place for their shape
// rules (ops/conv.cpp), the public functions (api/conv.cpp) and the kernels. Spatial lists run
// (h, w); "pads" follows ONNX: (top, left, bottom, right), so 'same' padding can be uneven.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/error.hpp"

namespace tenflowers::conv {

struct Pads2d {
  int64_t top = 0, left = 0, bottom = 0, right = 0;
  std::vector<int64_t> list() const { return {top, left, bottom, right}; }
};

// conv2d and conv_transpose2d: stride, pads, dilation, groups (and output_padding for the
// transposed op). The kernel extents come from the weight's shape.
struct ConvParams2d {
  int64_t stride_h = 1, stride_w = 1;
  Pads2d pads;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t output_padding_h = 0, output_padding_w = 0;
};

// max_pool2d and avg_pool2d.
struct PoolParams2d {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  Pads2d pads;
};

inline const std::vector<int64_t>& read_list(const Attrs& attrs, const char* op, const char* name,
                                             size_t count) {
  const std::vector<int64_t>& values = attrs.get_ints(name);
  TF_CHECK(values.size() == count, InvalidArgument, op, ": ", name, " needs ", count,
           " values, got ", format_dims(values));
  return values;
}

inline std::pair<int64_t, int64_t> read_positive_pair(const Attrs& attrs, const char* op,
                                                      const char* name) {
  const std::vector<int64_t>& v = read_list(attrs, op, name, 2);
  TF_CHECK(v[0] > 0 && v[1] > 0, InvalidArgument, op, ": ", name, " must be positive, got ",
           format_dims(v));
  return {v[0], v[1]};
}

inline Pads2d read_pads(const Attrs& attrs, const char* op) {
  const std::vector<int64_t>& v = read_list(attrs, op, "pads", 4);
  TF_CHECK(std::all_of(v.begin(), v.end(), [](int64_t p) { return p >= 0; }), InvalidArgument, op,
           ": padding must be non-negative, got pads (top, left, bottom, right) ", format_dims(v));
  return {v[0], v[1], v[2], v[3]};
}

inline ConvParams2d read_conv_params(const Attrs& attrs, const char* op, bool transposed) {
  ConvParams2d p;
  std::tie(p.stride_h, p.stride_w) = read_positive_pair(attrs, op, "stride");
  p.pads = read_pads(attrs, op);
  std::tie(p.dilation_h, p.dilation_w) = read_positive_pair(attrs, op, "dilation");
  p.groups = attrs.get_int("groups");
  TF_CHECK(p.groups > 0, InvalidArgument, op, ": groups must be positive, got ", p.groups);
  if (transposed) {
    const std::vector<int64_t>& op_pad = read_list(attrs, op, "output_padding", 2);
    p.output_padding_h = op_pad[0];
    p.output_padding_w = op_pad[1];
    // As in PyTorch: extra output rows must not reach a position a stride step would.
    TF_CHECK(op_pad[0] >= 0 && op_pad[1] >= 0, InvalidArgument, op,
             ": output_padding must be non-negative, got ", format_dims(op_pad));
    TF_CHECK((op_pad[0] < p.stride_h || op_pad[0] < p.dilation_h) &&
                 (op_pad[1] < p.stride_w || op_pad[1] < p.dilation_w),
             InvalidArgument, op, ": output_padding ", format_dims(op_pad),
             " must be smaller than either the stride (", p.stride_h, ", ", p.stride_w,
             ") or the dilation (", p.dilation_h, ", ", p.dilation_w, ") on each axis");
  }
  return p;
}

inline PoolParams2d read_pool_params(const Attrs& attrs, const char* op) {
  PoolParams2d p;
  std::tie(p.kernel_h, p.kernel_w) = read_positive_pair(attrs, op, "kernel");
  std::tie(p.stride_h, p.stride_w) = read_positive_pair(attrs, op, "stride");
  p.pads = read_pads(attrs, op);
  // As in PyTorch: a window never lies wholly in the padding.
  TF_CHECK(std::max(p.pads.top, p.pads.bottom) <= p.kernel_h / 2 &&
               std::max(p.pads.left, p.pads.right) <= p.kernel_w / 2,
           InvalidArgument, op, ": padding ", format_dims(p.pads.list()),
           " (top, left, bottom, right) must be at most half the kernel (", p.kernel_h, ", ",
           p.kernel_w, ")");
  return p;
}

// Number of sliding-window positions along one axis; 0 when the dilated kernel does not fit.
inline int64_t window_positions(int64_t in, int64_t pad_total, int64_t kernel, int64_t stride,
                                int64_t dilation) {
  const int64_t span = in + pad_total - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

// TensorFlow's 'same' padding for one axis: out = ceil(in / stride), the odd pixel at the end.
inline std::pair<int64_t, int64_t> same_padding(int64_t in, int64_t kernel, int64_t stride,
                                                int64_t dilation) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + (kernel - 1) * dilation + 1 - in, 0);
  return {total / 2, total - total / 2};
}

}  // namespace tenflowers::conv
