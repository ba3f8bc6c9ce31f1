// Checks for the indexing ops: results compared with naive float64 loops over Ref arrays, on
// random shapes, axes, layouts (x, index, src and mask independently) and random valid indices,
// negative ones included where the op allows them. Pure data movement must be exact.
#include <cmath>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const DType kDataDTypes[] = {DType::Bool, DType::U8,   DType::I8,  DType::I32, DType::I64,
                             DType::F16,  DType::BF16, DType::F32, DType::F64};
const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
constexpr Tolerance kExact{0.0, 0.0};
constexpr int kCasesPerDType = 3;

std::vector<int64_t> random_shape(Rng& rng, int64_t rank, int64_t min_extent = 1,
                                  int64_t max_extent = 5) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(min_extent, max_extent);
  return shape;
}

Layout random_layout(Rng& rng) {
  return kLayouts[rng.integer(0, 2)];
}

// Values that every dtype holds exactly (u8 has no negatives).
Tensor random_data(Rng& rng, const std::vector<int64_t>& shape, DType dtype, Device device) {
  const double lo = dtype == DType::U8 ? 0.0 : -5.0;
  return random_tensor(rng, shape, dtype, lo, 5.0, random_layout(rng)).to(device);
}

// i32 or i64 indices in [-extent, extent) (or [0, extent) without negatives).
Tensor random_index(Rng& rng, const std::vector<int64_t>& shape, int64_t extent,
                    bool allow_negative, Device device) {
  const DType dtype = rng.integer(0, 1) ? DType::I64 : DType::I32;
  const double lo = allow_negative ? static_cast<double>(-extent) : 0.0;
  return random_tensor(rng, shape, dtype, lo, static_cast<double>(extent - 1), random_layout(rng))
      .to(device);
}

int64_t wrap(double index, int64_t extent) {
  const auto i = static_cast<int64_t>(index);
  return i < 0 ? i + extent : i;
}

// Shape of the index for gather/scatter: at most x's extent off the axis, any extent on it.
std::vector<int64_t> index_shape_for(Rng& rng, const std::vector<int64_t>& x_shape, size_t axis) {
  std::vector<int64_t> shape(x_shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    shape[d] = d == axis ? rng.integer(1, 6) : rng.integer(1, x_shape[d]);
  }
  return shape;
}

// A shape that broadcasts to `shape`: some leading axes dropped, some extents set to 1.
std::vector<int64_t> broadcast_partner(Rng& rng, const std::vector<int64_t>& shape) {
  const auto drop = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(shape.size())));
  std::vector<int64_t> out(shape.begin() + static_cast<std::ptrdiff_t>(drop), shape.end());
  for (auto& d : out)
    if (rng.integer(0, 2) == 0) d = 1;
  return out;
}

// Unit roundoff of a floating dtype.
double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::F16:
      return std::ldexp(1.0, -11);
    case DType::BF16:
      return std::ldexp(1.0, -8);
    case DType::F32:
      return std::ldexp(1.0, -24);
    default:
      return std::ldexp(1.0, -53);
  }
}

// Elementwise |actual - expected| <= bound[i].
::testing::AssertionResult within_bounds(const Tensor& actual, const Ref& expected,
                                         const std::vector<double>& bound) {
  if (actual.shape().vec() != expected.shape) {
    return ::testing::AssertionFailure() << "shape " << actual.shape() << " differs from expected "
                                         << format_dims(expected.shape);
  }
  const std::vector<double> got = actual.to_vector<double>();
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - expected.data[i]) <= bound[i])) {
      return ::testing::AssertionFailure()
             << "at flat index " << i << ": got " << got[i] << ", expected " << expected.data[i]
             << " within " << bound[i] << " (dtype " << dtype_name(actual.dtype()) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

void check_gather(Rng& rng, Device device) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const int64_t rank = rng.integer(1, 4);
      const std::vector<int64_t> x_shape = random_shape(rng, rank);
      const int64_t axis_arg = rng.integer(-rank, rank - 1);
      const auto axis = static_cast<size_t>(axis_arg < 0 ? axis_arg + rank : axis_arg);
      const int64_t extent = x_shape[axis];
      Tensor x = random_data(rng, x_shape, dtype, device);
      Tensor index = random_index(rng, index_shape_for(rng, x_shape, axis), extent, true, device);
      const Ref xr = to_ref(x), ir = to_ref(index);
      Ref expected(ir.shape);
      for_each_index(ir.shape, [&](const std::vector<int64_t>& pos) {
        std::vector<int64_t> from = pos;
        from[axis] = wrap(ir.at(pos), extent);
        expected.at(pos) = xr.at(from);
      });
      EXPECT_CLOSE_TO_REF(gather(x, axis_arg, index), expected, kExact);
    }
  }
}

// scatter (accumulate = false) and scatter_add against a row-major loop over index positions:
// among duplicates that is index order along the axis, the order both ops promise.
void check_scatter_impl(Rng& rng, Device device, bool accumulate) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const int64_t rank = rng.integer(1, 4);
      const std::vector<int64_t> x_shape = random_shape(rng, rank);
      const int64_t axis_arg = rng.integer(-rank, rank - 1);
      const auto axis = static_cast<size_t>(axis_arg < 0 ? axis_arg + rank : axis_arg);
      const int64_t extent = x_shape[axis];
      const std::vector<int64_t> index_shape = index_shape_for(rng, x_shape, axis);
      std::vector<int64_t> src_shape = index_shape;
      for (auto& d : src_shape) d += rng.integer(0, 2);  // src may be larger than index
      Tensor x = random_data(rng, x_shape, dtype, device);
      Tensor index = random_index(rng, index_shape, extent, true, device);
      Tensor src = random_data(rng, src_shape, dtype, device);
      const Ref ir = to_ref(index), sr = to_ref(src);
      Ref expected = to_ref(x);
      // Rounding-error bound of sequential additions: gamma_n * sum of magnitudes per element.
      std::vector<double> magnitude(expected.data.size()), adds(expected.data.size(), 0.0);
      for (size_t i = 0; i < magnitude.size(); ++i) magnitude[i] = std::abs(expected.data[i]);
      const std::vector<int64_t> out_strides = expected.strides();
      for_each_index(index_shape, [&](const std::vector<int64_t>& pos) {
        std::vector<int64_t> to = pos;
        to[axis] = wrap(ir.at(pos), extent);
        size_t flat = 0;
        for (size_t d = 0; d < to.size(); ++d) flat += static_cast<size_t>(to[d] * out_strides[d]);
        const double v = sr.at(pos);
        if (!accumulate) {
          expected.data[flat] = v;
        } else if (dtype == DType::Bool) {
          expected.data[flat] = (expected.data[flat] != 0.0 || v != 0.0) ? 1.0 : 0.0;
        } else {
          expected.data[flat] += v;
          magnitude[flat] += std::abs(v);
          adds[flat] += 1.0;
        }
      });
      Tensor y =
          accumulate ? scatter_add(x, axis_arg, index, src) : scatter(x, axis_arg, index, src);
      std::vector<double> bound(expected.data.size(), 0.0);
      if (accumulate && is_floating(dtype)) {
        for (size_t i = 0; i < bound.size(); ++i) {
          const double n = adds[i];
          auto gamma = [n](double u) { return n * u / (1.0 - n * u); };
          bound[i] =
              (gamma(unit_roundoff(dtype)) + gamma(unit_roundoff(DType::F64))) * magnitude[i];
        }
      }
      EXPECT_TRUE(within_bounds(y, expected, bound));
    }
  }
}

void check_scatter(Rng& rng, Device device) {
  check_scatter_impl(rng, device, false);
}

void check_scatter_add(Rng& rng, Device device) {
  check_scatter_impl(rng, device, true);
}

void check_take(Rng& rng, Device device) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const std::vector<int64_t> x_shape = random_shape(rng, rng.integer(0, 4));
      Tensor x = random_data(rng, x_shape, dtype, device);
      const int64_t n = x.numel();
      Tensor index = random_index(rng, random_shape(rng, rng.integer(0, 3), 0, 4), n, true, device);
      const Ref xr = to_ref(x), ir = to_ref(index);
      Ref expected(ir.shape);
      for (size_t i = 0; i < ir.data.size(); ++i) {
        expected.data[i] = xr.data[static_cast<size_t>(wrap(ir.data[i], n))];
      }
      EXPECT_CLOSE_TO_REF(take(x, index), expected, kExact);
    }
  }
}

void check_index_select(Rng& rng, Device device) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const int64_t rank = rng.integer(1, 4);
      const std::vector<int64_t> x_shape = random_shape(rng, rank);
      const int64_t axis_arg = rng.integer(-rank, rank - 1);
      const auto axis = static_cast<size_t>(axis_arg < 0 ? axis_arg + rank : axis_arg);
      const int64_t extent = x_shape[axis];
      Tensor x = random_data(rng, x_shape, dtype, device);
      // Mostly 1-d indices (empty ones included), sometimes 0-d.
      const std::vector<int64_t> index_shape =
          rng.integer(0, 3) == 0 ? std::vector<int64_t>{} : random_shape(rng, 1, 0, 7);
      Tensor index = random_index(rng, index_shape, extent, true, device);
      const Ref xr = to_ref(x), ir = to_ref(index);
      std::vector<int64_t> out_shape = x_shape;
      out_shape[axis] = static_cast<int64_t>(ir.data.size());
      Ref expected(out_shape);
      for_each_index(out_shape, [&](const std::vector<int64_t>& pos) {
        std::vector<int64_t> from = pos;
        from[axis] = wrap(ir.data[static_cast<size_t>(pos[axis])], extent);
        expected.at(pos) = xr.at(from);
      });
      EXPECT_CLOSE_TO_REF(index_select(x, axis_arg, index), expected, kExact);
    }
  }
}

void check_one_hot(Rng& rng, Device device) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const int64_t depth = rng.integer(1, 6);
      Tensor indices =
          random_index(rng, random_shape(rng, rng.integer(0, 3), 0, 4), depth, false, device);
      const Ref ir = to_ref(indices);
      std::vector<int64_t> out_shape = ir.shape;
      out_shape.push_back(depth);
      Ref expected(out_shape);
      for (size_t i = 0; i < ir.data.size(); ++i) {
        for (int64_t k = 0; k < depth; ++k) {
          expected.data[i * static_cast<size_t>(depth) + static_cast<size_t>(k)] =
              static_cast<int64_t>(ir.data[i]) == k ? 1.0 : 0.0;
        }
      }
      Tensor y = one_hot(indices, depth, dtype);
      EXPECT_EQ(y.dtype(), dtype);
      EXPECT_CLOSE_TO_REF(y, expected, kExact);
    }
  }
}

void check_masked_fill(Rng& rng, Device device) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const std::vector<int64_t> x_shape = random_shape(rng, rng.integer(0, 4));
      Tensor x = random_data(rng, x_shape, dtype, device);
      Tensor mask =
          random_tensor(rng, broadcast_partner(rng, x_shape), DType::Bool, 0, 1, random_layout(rng))
              .to(device);
      // The fill value converts to x's dtype: truncation for integers, != 0 for bool.
      const double value = rng.uniform(dtype == DType::U8 ? 0.0 : -4.0, 4.0);
      double stored = value;
      if (dtype == DType::Bool) {
        stored = value != 0.0 ? 1.0 : 0.0;
      } else if (is_integral(dtype)) {
        stored = std::trunc(value);
      }
      const Ref xr = to_ref(x), mr = to_ref(mask);
      Ref expected(x_shape);
      for_each_index(x_shape, [&](const std::vector<int64_t>& pos) {
        expected.at(pos) = mr.at(pos) != 0.0 ? stored : xr.at(pos);
      });
      // Only the fill value is rounded (to 16-bit floats); kept elements must be exact.
      EXPECT_CLOSE_TO_REF(masked_fill(x, mask, value), expected, tolerance_for(dtype));
    }
  }
}

void check_masked_select(Rng& rng, Device device) {
  for (DType dtype : kDataDTypes) {
    for (int c = 0; c < kCasesPerDType; ++c) {
      const std::vector<int64_t> full = random_shape(rng, rng.integer(0, 4));
      const std::vector<int64_t> x_shape = broadcast_partner(rng, full);
      const std::vector<int64_t> mask_shape = broadcast_partner(rng, full);
      Tensor x = random_data(rng, x_shape, dtype, device);
      Tensor mask =
          random_tensor(rng, mask_shape, DType::Bool, 0, 1, random_layout(rng)).to(device);
      const Ref xr = to_ref(x), mr = to_ref(mask);
      std::vector<double> selected;
      for_each_index(broadcast(x_shape, mask_shape), [&](const std::vector<int64_t>& pos) {
        if (mr.at(pos) != 0.0) selected.push_back(xr.at(pos));
      });
      const auto count = static_cast<int64_t>(selected.size());
      EXPECT_CLOSE_TO_REF(masked_select(x, mask), Ref({count}, selected), kExact);
    }
  }
}

}  // namespace

void register_index_checks(CheckRegistry& r) {
  r.add({"gather"}, check_gather);
  r.add({"scatter"}, check_scatter);
  r.add({"scatter_add"}, check_scatter_add);
  r.add({"take"}, check_take);
  r.add({"index_select"}, check_index_select);
  r.add({"one_hot"}, check_one_hot);
  r.add({"masked_fill"}, check_masked_fill);
  r.add({"masked_select"}, check_masked_select);
}

}  // namespace tenflowers::testing
