// allclose: a host-side comparison on float64 copies, so it works for any dtypes and devices and
// needs no other op family.
#include <cmath>

#include "tenflowers/core/ops.hpp"

namespace tenflowers {
namespace {

// Element strides of a row-major `source` shape broadcast to `shape` (0 on broadcast axes).
Dims broadcast_element_strides(const Dims& source, const Dims& shape) {
  const Dims contiguous = contiguous_strides(source);
  Dims out(shape.size(), 0);
  const size_t lead = shape.size() - source.size();
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] != 1) out[i + lead] = contiguous[i];
  }
  return out;
}

bool close(double a, double b, double rtol, double atol, bool equal_nan) {
  if (std::isnan(a) || std::isnan(b)) return equal_nan && std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;  // infinities match only themselves
  return std::abs(a - b) <= atol + rtol * std::abs(b);
}

}  // namespace

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  TF_CHECK(rtol >= 0.0 && atol >= 0.0, InvalidArgument,
           "allclose: tolerances must be >= 0, got rtol ", rtol, " and atol ", atol);
  const Dims shape = broadcast_shapes(a.shape(), b.shape());
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  if (shape.numel() == 0) return true;
  const Dims sa = broadcast_element_strides(a.shape(), shape);
  const Dims sb = broadcast_element_strides(b.shape(), shape);
  // Odometer over the broadcast shape, tracking both source offsets.
  Dims index(shape.size(), 0);
  int64_t oa = 0, ob = 0;
  for (int64_t n = shape.numel(); n > 0; --n) {
    if (!close(va[static_cast<size_t>(oa)], vb[static_cast<size_t>(ob)], rtol, atol, equal_nan)) {
      return false;
    }
    for (size_t d = shape.size(); d-- > 0;) {
      oa += sa[d];
      ob += sb[d];
      if (++index[d] < shape[d]) break;
      oa -= sa[d] * shape[d];
      ob -= sb[d] * shape[d];
      index[d] = 0;
    }
  }
  return true;
}

}  // namespace tenflowers
