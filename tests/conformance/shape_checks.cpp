// Checks for concat, pad, sort, topk, cumsum and cumprod: each result is compared with a float64
// reference computed here by naive loops over Ref arrays (index arithmetic, std::stable_sort,
// running sums), on random shapes, axes, dtypes and layouts (transposed, step-2, reversed and
// broadcast views).
#include <algorithm>
#include <cmath>
#include <limits>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const DType kAllDTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64,
                            DType::I32, DType::I8,  DType::U8,  DType::Bool};

enum class Style { Contiguous, Transposed, Strided, Reversed, Broadcast };
const Style kStyles[] = {Style::Contiguous, Style::Transposed, Style::Strided, Style::Reversed,
                         Style::Broadcast};

std::vector<int64_t> random_shape(Rng& rng, int64_t rank, int64_t min_extent = 1,
                                  int64_t max_extent = 5) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(min_extent, max_extent);
  return shape;
}

// Random values representable in `dtype`. With `ties`, floats come from a small grid (many
// equal values, -0 among them) and about one in eleven is NaN.
Ref random_values(Rng& rng, const std::vector<int64_t>& shape, DType dtype, bool ties = false) {
  Ref r(shape);
  for (double& v : r.data) {
    if (dtype == DType::Bool) {
      v = static_cast<double>(rng.integer(0, 1));
    } else if (dtype == DType::U8) {
      v = static_cast<double>(rng.integer(0, 9));
    } else if (is_integral(dtype)) {
      v = static_cast<double>(rng.integer(-5, 5));
    } else if (ties) {
      // Zeros of both signs must tie too.
      const int64_t k = rng.integer(-5, 5);
      v = k == 5    ? std::numeric_limits<double>::quiet_NaN()
          : k == -5 ? -0.0
                    : static_cast<double>(k) / 2;
    } else {
      v = rng.uniform(-2, 2);
    }
  }
  return r;
}

// A tensor holding `values` (Broadcast repeats its first slice along axis 0) in the given
// layout. Tests take their reference from to_ref of the result, so layouts never change what is
// expected.
Tensor laid_out(const Ref& values, DType dtype, Style style, Device device) {
  const int64_t rank = values.rank();
  if (rank == 0 || values.numel() == 0 || style == Style::Contiguous)
    return from_ref(values, dtype).to(device);
  const size_t last = static_cast<size_t>(rank - 1);
  switch (style) {
    case Style::Transposed: {
      std::vector<int64_t> reversed(values.shape.rbegin(), values.shape.rend());
      Ref stored(reversed);
      for_each_index(values.shape, [&](const std::vector<int64_t>& i) {
        stored.at(std::vector<int64_t>(i.rbegin(), i.rend())) = values.at(i);
      });
      Dims axes;
      for (int64_t a = rank - 1; a >= 0; --a) axes.push_back(a);
      return from_ref(stored, dtype).to(device).permute(axes);
    }
    case Style::Strided: {
      std::vector<int64_t> wide = values.shape;
      wide[last] *= 2;
      Ref stored(wide);
      std::fill(stored.data.begin(), stored.data.end(), 77.0);
      for_each_index(values.shape, [&](const std::vector<int64_t>& i) {
        std::vector<int64_t> j = i;
        j[last] *= 2;
        stored.at(j) = values.at(i);
      });
      return from_ref(stored, dtype).to(device).slice(rank - 1, 0, {}, 2);
    }
    case Style::Reversed: {
      Ref stored(values.shape);
      for_each_index(values.shape, [&](const std::vector<int64_t>& i) {
        std::vector<int64_t> j = i;
        j[last] = values.shape[last] - 1 - i[last];
        stored.at(j) = values.at(i);
      });
      return from_ref(stored, dtype).to(device).slice(rank - 1, {}, {}, -1);
    }
    case Style::Broadcast: {
      std::vector<int64_t> first = values.shape;
      first[0] = 1;
      Ref stored(first);
      for_each_index(first, [&](const std::vector<int64_t>& i) { stored.at(i) = values.at(i); });
      return from_ref(stored, dtype).to(device).expand(Dims(values.shape));
    }
    case Style::Contiguous:
      break;
  }
  return from_ref(values, dtype).to(device);
}

Tensor random_input(Rng& rng, const std::vector<int64_t>& shape, DType dtype, Style style,
                    Device device, bool ties = false) {
  return laid_out(random_values(rng, shape, dtype, ties), dtype, style, device);
}

Style random_style(Rng& rng) {
  return kStyles[rng.integer(0, std::size(kStyles) - 1)];
}

constexpr Tolerance kExact{0, 0};

// The values of an integer or bool result must match exactly.
Tolerance exact_or(DType dtype) {
  return is_floating(dtype) ? tolerance_for(dtype) : kExact;
}

// ---- concat -----------------------------------------------------------------------------------

void check_concat_case(Rng& rng, Device device, const std::vector<int64_t>& base, int64_t axis,
                       const std::vector<DType>& dtypes, const std::vector<Style>& styles,
                       int64_t max_piece) {
  const size_t a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(base.size()) : axis);
  std::vector<Tensor> inputs;
  std::vector<Ref> refs;
  DType out_dtype = dtypes[0];
  for (size_t i = 0; i < dtypes.size(); ++i) {
    std::vector<int64_t> shape = base;
    shape[a] = rng.integer(0, max_piece);
    inputs.push_back(random_input(rng, shape, dtypes[i], styles[i], device));
    refs.push_back(to_ref(inputs.back()));
    out_dtype = promote_types(out_dtype, dtypes[i]);
  }
  std::vector<int64_t> shape = base;
  shape[a] = 0;
  std::vector<int64_t> starts;
  for (const Ref& r : refs) {
    starts.push_back(shape[a]);
    shape[a] += r.shape[a];
  }
  Ref expected(shape);
  for_each_index(shape, [&](const std::vector<int64_t>& out) {
    size_t k = refs.size() - 1;
    while (out[a] < starts[k]) --k;
    std::vector<int64_t> in = out;
    in[a] -= starts[k];
    expected.at(out) = refs[k].at(in);
  });
  Tensor y = concat(inputs, axis);
  EXPECT_EQ(y.dtype(), out_dtype);
  EXPECT_CLOSE_TO_REF(y, expected, exact_or(out_dtype));
}

void check_concat(Rng& rng, Device device) {
  for (DType dtype : kAllDTypes) {
    for (Style style : kStyles) {
      const int64_t rank = rng.integer(1, 4);
      const std::vector<int64_t> base = random_shape(rng, rank);
      const int64_t axis = rng.integer(-rank, rank - 1);
      const auto count = static_cast<size_t>(rng.integer(1, 4));
      // One case of a single dtype and layout (the block-copy path when contiguous), one mixed.
      check_concat_case(rng, device, base, axis, std::vector<DType>(count, dtype),
                        std::vector<Style>(count, style), 4);
      std::vector<DType> dtypes = {dtype};
      std::vector<Style> styles = {style};
      for (size_t i = 1; i < count + 1; ++i) {
        dtypes.push_back(kAllDTypes[rng.integer(0, std::size(kAllDTypes) - 1)]);
        styles.push_back(random_style(rng));
      }
      check_concat_case(rng, device, base, axis, dtypes, styles, 4);
    }
  }
  // Large enough to split the copy across threads, along an inner and the outer axis.
  check_concat_case(rng, device, {64, 1, 40}, 1, {DType::F32, DType::F32, DType::F32},
                    std::vector<Style>(3, Style::Contiguous), 60);
  check_concat_case(rng, device, {1, 300, 40}, 0, {DType::F64, DType::F64},
                    std::vector<Style>(2, Style::Contiguous), 40);
  check_concat_case(rng, device, {64, 1, 40}, 1, {DType::F32, DType::F16, DType::F32},
                    {Style::Transposed, Style::Contiguous, Style::Strided}, 60);
}

// ---- pad --------------------------------------------------------------------------------------

int64_t reflect(int64_t i, int64_t extent) {
  if (i < 0) return -i;
  if (i >= extent) return 2 * (extent - 1) - i;
  return i;
}

void check_pad(Rng& rng, Device device) {
  for (DType dtype : kAllDTypes) {
    for (Style style : kStyles) {
      for (const std::string mode : {"constant", "reflect"}) {
        const bool reflecting = mode == "reflect";
        const int64_t rank = rng.integer(0, 4);
        Tensor x = random_input(rng, random_shape(rng, rank), dtype, style, device);
        const Ref ref = to_ref(x);
        // Constant mode may crop with negative pads; reflect pads stay below the extent.
        std::vector<int64_t> pads;
        std::vector<int64_t> shape = ref.shape;
        for (size_t a = 0; a < shape.size(); ++a) {
          const int64_t extent = shape[a];
          int64_t before = reflecting ? rng.integer(0, extent - 1) : rng.integer(-1, 3);
          int64_t after = reflecting ? rng.integer(0, extent - 1) : rng.integer(-1, 3);
          if (extent + before + after < 0) before = after = 0;
          pads.push_back(before);
          pads.push_back(after);
          shape[a] = extent + before + after;
        }
        const double value = dtype == DType::Bool ? 1.0 : is_floating(dtype) ? 2.5 : 7.0;
        Tensor y = pad(x, pads, mode, value);
        EXPECT_EQ(y.dtype(), dtype);
        Ref expected(shape);
        for_each_index(shape, [&](const std::vector<int64_t>& out) {
          std::vector<int64_t> in(out.size());
          bool padding = false;
          for (size_t a = 0; a < out.size(); ++a) {
            in[a] = out[a] - pads[2 * a];
            if (in[a] < 0 || in[a] >= ref.shape[a]) {
              padding = true;
              in[a] = reflect(in[a], ref.shape[a]);
            }
          }
          expected.at(out) = padding && !reflecting ? value : ref.at(in);
        });
        EXPECT_CLOSE_TO_REF(y, expected, exact_or(dtype));
      }
    }
  }
}

// ---- sort and topk ----------------------------------------------------------------------------

// The reference order of one line: std::stable_sort with NaN above every number.
std::vector<int64_t> stable_order(const std::vector<double>& line, bool descending) {
  std::vector<int64_t> order(line.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  auto rank_above = [&](double a, double b) {  // a ranks strictly above b
    if (std::isnan(b)) return false;
    return std::isnan(a) || a > b;
  };
  std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
    const double a = line[static_cast<size_t>(i)], b = line[static_cast<size_t>(j)];
    return descending ? rank_above(a, b) : rank_above(b, a);
  });
  return order;
}

// Expected (values, indices) of the first `count` of each line's order along `axis`.
std::pair<Ref, Ref> ordered_reference(const Ref& x, int64_t axis, int64_t count, bool descending) {
  const size_t a = static_cast<size_t>(axis);
  std::vector<int64_t> shape = x.shape;
  std::vector<int64_t> lines_shape = x.shape;
  const int64_t length = x.rank() == 0 ? 1 : x.shape[a];
  if (x.rank() > 0) {
    shape[a] = count;
    lines_shape[a] = 1;
  }
  Ref values(shape), indices(shape);
  for_each_index(lines_shape, [&](const std::vector<int64_t>& start) {
    std::vector<double> line;
    std::vector<int64_t> at = start;
    for (int64_t i = 0; i < length; ++i) {
      if (x.rank() > 0) at[a] = i;
      line.push_back(x.at(at));
    }
    const std::vector<int64_t> order = stable_order(line, descending);
    for (int64_t i = 0; i < count; ++i) {
      if (x.rank() > 0) at[a] = i;
      values.at(at) = line[static_cast<size_t>(order[static_cast<size_t>(i)])];
      indices.at(at) = static_cast<double>(order[static_cast<size_t>(i)]);
    }
  });
  return {values, indices};
}

// Random inputs for sort and topk: every dtype and layout, ties and NaNs, then long lines and
// large inputs whose lines are sorted in parallel.
template <class Body>
void for_sort_inputs(Rng& rng, Device device, Body body) {
  for (DType dtype : kAllDTypes) {
    for (Style style : kStyles) {
      const int64_t rank = rng.integer(0, 3);
      Tensor x = random_input(rng, random_shape(rng, rank, 1, 7), dtype, style, device, true);
      body(x, rank == 0 ? rng.integer(-1, 0) : rng.integer(-rank, rank - 1));
    }
  }
  // Lines long enough for the radix sort, in every dtype.
  for (DType dtype : kAllDTypes) {
    body(random_input(rng, {3, 700}, dtype, random_style(rng), device, true), -1);
  }
  for (int64_t axis : {0, 1}) {
    body(random_input(rng, {300, 200}, DType::F32, Style::Transposed, device, true), axis);
    body(random_input(rng, {2000, 40}, DType::I32, Style::Contiguous, device), axis);
  }
}

void check_sort(Rng& rng, Device device) {
  for_sort_inputs(rng, device, [&](const Tensor& x, int64_t axis) {
    const bool descending = rng.integer(0, 1) == 1;
    const Ref ref = to_ref(x);
    const int64_t a = axis < 0 ? axis + std::max<int64_t>(1, x.rank()) : axis;
    const int64_t length = x.rank() == 0 ? 1 : ref.shape[static_cast<size_t>(a)];
    const auto [values, indices] = sort(x, axis, descending);
    EXPECT_EQ(values.dtype(), x.dtype());
    EXPECT_EQ(indices.dtype(), DType::I64);
    const auto [expected_values, expected_indices] = ordered_reference(ref, a, length, descending);
    EXPECT_CLOSE_TO_REF(values, expected_values, kExact);
    EXPECT_CLOSE_TO_REF(indices, expected_indices, kExact);
  });
}

void check_topk(Rng& rng, Device device) {
  for_sort_inputs(rng, device, [&](const Tensor& x, int64_t axis) {
    const bool largest = rng.integer(0, 1) == 1;
    const Ref ref = to_ref(x);
    const int64_t a = axis < 0 ? axis + std::max<int64_t>(1, x.rank()) : axis;
    const int64_t length = x.rank() == 0 ? 1 : ref.shape[static_cast<size_t>(a)];
    // Half the cases ask for a few elements (the one-pass selection), half for any count.
    const int64_t k = x.rank() == 0       ? 1
                      : rng.integer(0, 1) ? rng.integer(0, std::min<int64_t>(length, 40))
                                          : rng.integer(0, length);
    const auto [values, indices] = topk(x, k, axis, largest);
    EXPECT_EQ(values.dtype(), x.dtype());
    EXPECT_EQ(indices.dtype(), DType::I64);
    const auto [expected_values, expected_indices] = ordered_reference(ref, a, k, largest);
    EXPECT_CLOSE_TO_REF(values, expected_values, kExact);
    EXPECT_CLOSE_TO_REF(indices, expected_indices, kExact);
  });
}

// ---- cumsum and cumprod -----------------------------------------------------------------------

// Running sums or products along `axis` in float64 (integers stay exact: the inputs are small).
Ref scan_reference(const Ref& x, int64_t axis, bool product) {
  Ref out(x.shape);
  if (x.rank() == 0) {
    out.data = x.data;
    return out;
  }
  const size_t a = static_cast<size_t>(axis);
  std::vector<int64_t> lines_shape = x.shape;
  lines_shape[a] = 1;
  for_each_index(lines_shape, [&](const std::vector<int64_t>& start) {
    std::vector<int64_t> at = start;
    double acc = product ? 1.0 : 0.0;
    for (at[a] = 0; at[a] < x.shape[a]; ++at[a]) {
      acc = product ? acc * x.at(at) : acc + x.at(at);
      out.at(at) = acc;
    }
  });
  return out;
}

template <bool kProduct>
void check_scan(Rng& rng, Device device) {
  auto run = [&](const Tensor& x, int64_t axis) {
    const DType expected_dtype = is_floating(x.dtype()) ? x.dtype() : DType::I64;
    const Tensor y = kProduct ? cumprod(x, axis) : cumsum(x, axis);
    EXPECT_EQ(y.dtype(), expected_dtype);
    const int64_t a = axis < 0 ? axis + std::max<int64_t>(1, x.rank()) : axis;
    // Accumulation is in float (f16/bf16) or double: only the final rounding to the output
    // dtype remains, within that dtype's tolerance for these short lines.
    EXPECT_CLOSE_TO_REF(y, scan_reference(to_ref(x), a, kProduct), exact_or(expected_dtype));
  };
  for (DType dtype : kAllDTypes) {
    for (Style style : kStyles) {
      const int64_t rank = rng.integer(0, 4);
      Tensor x = random_input(rng, random_shape(rng, rank), dtype, style, device);
      run(x, rank == 0 ? rng.integer(-1, 0) : rng.integer(-rank, rank - 1));
    }
  }
  // Blocks of contiguous columns in parallel, and long strided lines in parallel.
  for (int64_t axis : {0, 1, 2}) {
    run(random_input(rng, {30, 20, 300}, DType::F32, Style::Contiguous, device), axis);
    run(random_input(rng, {30, 20, 300}, DType::F64, Style::Transposed, device), axis);
  }
}

}  // namespace

void register_shape_checks(CheckRegistry& r) {
  r.add({"concat"}, check_concat);
  r.add({"pad"}, check_pad);
  r.add({"sort"}, check_sort);
  r.add({"topk"}, check_topk);
  r.add({"cumsum"}, check_scan<false>);
  r.add({"cumprod"}, check_scan<true>);
}

}  // namespace tenflowers::testing
