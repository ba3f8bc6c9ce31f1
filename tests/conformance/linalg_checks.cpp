// Checks for matmul, softmax and log_softmax against float64 loops on reference arrays. Float
// tolerances are per element, from rounding-error bounds of the computation: a dot product of
// length K in unit roundoff u is within (K + 2) u sum|a||b| of the exact value.
#include <cmath>
#include <limits>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

// ---- matmul ------------------------------------------------------------------------------

// NumPy matmul on reference arrays, with sum|a||b| per output element for the error bound.
void reference_matmul(const Ref& a, const Ref& b, Ref& out, Ref& magnitude) {
  std::vector<int64_t> as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  Ref a2(as, a.data), b2(bs, b.data);  // non-const: at() gives references to walk from
  const int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  const std::vector<int64_t> batch = broadcast(std::vector<int64_t>(as.begin(), as.end() - 2),
                                               std::vector<int64_t>(bs.begin(), bs.end() - 2));
  std::vector<int64_t> full = batch;
  full.push_back(m);
  full.push_back(n);
  Ref sums(full), mags(full);
  const int64_t a_step = 1, b_step = n;  // row-major: along a row of a, down a column of b
  for_each_index(full, [&](const std::vector<int64_t>& index) {
    std::vector<int64_t> ai = index, bi = index;
    ai.back() = 0;
    bi[bi.size() - 2] = 0;
    const double* a_row = &a2.at(ai);
    const double* b_col = &b2.at(bi);
    double sum = 0, mag = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const double p = a_row[kk * a_step] * b_col[kk * b_step];
      sum += p;
      mag += std::abs(p);
    }
    sums.at(index) = sum;
    mags.at(index) = mag;
  });
  // Drop the axes added for 1-d operands.
  std::vector<int64_t> shape = batch;
  if (a.shape.size() > 1) shape.push_back(m);
  if (b.shape.size() > 1) shape.push_back(n);
  out = Ref(shape, sums.data);
  magnitude = Ref(shape, mags.data);
}

// Operand layouts: the harness's three, the last two axes swapped (BLAS transpose flag) and a
// batch broadcast through expand (stride-0 batch axis).
enum class MatLayout { Contiguous, Transposed, Strided, SwappedLastTwo, ExpandedBatch };

Tensor matmul_operand(Rng& rng, std::vector<int64_t> shape, DType dtype, MatLayout layout,
                      Device device) {
  const double lo = is_integral(dtype) ? -5 : -1, hi = is_integral(dtype) ? 5 : 1;
  const size_t r = shape.size();
  switch (layout) {
    case MatLayout::Contiguous:
    case MatLayout::Transposed:
    case MatLayout::Strided: {
      const Layout l = layout == MatLayout::Contiguous   ? Layout::Contiguous
                       : layout == MatLayout::Transposed ? Layout::Transposed
                                                         : Layout::Strided;
      return random_tensor(rng, shape, dtype, lo, hi, l).to(device);
    }
    case MatLayout::SwappedLastTwo:
      if (r < 2) break;
      std::swap(shape[r - 1], shape[r - 2]);
      return random_tensor(rng, shape, dtype, lo, hi).to(device).transpose(-1, -2);
    case MatLayout::ExpandedBatch: {
      if (r < 3) break;
      std::vector<int64_t> one = shape;
      one[0] = 1;
      return random_tensor(rng, one, dtype, lo, hi).to(device).expand(Dims(shape));
    }
  }
  return random_tensor(rng, shape, dtype, lo, hi).to(device);
}

struct MatmulCase {
  std::vector<int64_t> a, b;
};

std::vector<MatmulCase> matmul_cases(Rng& rng) {
  auto d = [&](int64_t hi = 24) { return rng.integer(1, hi); };
  const int64_t m = d(), k = d(), n = d(), batch = d(4);
  return {
      {{m, k}, {k, n}},
      {{k}, {k, n}},
      {{m, k}, {k}},
      {{k}, {k}},
      {{2, 1, 3, 4}, {5, 4, 6}},  // batch broadcast both ways
      {{batch, 1, m, k}, {1, d(3), k, n}},
      {{batch, m, k}, {k, n}},  // one gemm over stacked rows when contiguous
      {{m, k}, {batch, k, n}},
      {{k}, {batch, k, n}},
      {{batch, m, k}, {k}},
      {{batch, m, k}, {batch, k, 1}},
      {{2, 70, 65}, {2, 65, 72}},  // large enough that batch entries run one after another
      {{3, 260}, {260, 300}},      // several tiles of the integer loop
  };
}

void check_matmul(Rng& rng, Device device) {
  const DType dtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::I64};
  const MatLayout layouts[] = {MatLayout::Contiguous, MatLayout::Transposed, MatLayout::Strided,
                               MatLayout::SwappedLastTwo, MatLayout::ExpandedBatch};
  for (DType dtype : dtypes) {
    for (const MatmulCase& c : matmul_cases(rng)) {
      for (MatLayout la : layouts) {
        const MatLayout lb = layouts[rng.integer(0, 4)];
        Tensor a = matmul_operand(rng, c.a, dtype, la, device);
        Tensor b = matmul_operand(rng, c.b, dtype, lb, device);
        Tensor out = matmul(a, b);
        EXPECT_EQ(out.dtype(), dtype);
        Ref expected, magnitude;
        reference_matmul(to_ref(a), to_ref(b), expected, magnitude);
        const double k = static_cast<double>(c.a.back());
        std::vector<double> bound(expected.data.size(), 0.0);
        if (is_floating(dtype)) {
          for (size_t i = 0; i < bound.size(); ++i) {
            bound[i] = (k + 2) * compute_roundoff(dtype) * magnitude.data[i] +
                       output_roundoff(dtype) * std::abs(expected.data[i]) + tiny_error(dtype);
          }
        }
        expect_within(out, expected, bound, "matmul " + describe(a) + " @ " + describe(b));
      }
    }
  }
}

// ---- softmax / log_softmax -----------------------------------------------------------------

// Softmax in float64 along `axis`, with per-element error bounds for a result computed in
// roundoff u: x - max is rounded (relative u |x - max| after exp), the sum of L terms carries
// L u, exp, log, divide and the final rounding a few u more.
void reference_softmax(const Ref& x, int64_t axis, bool log, DType in_dtype, DType out_dtype,
                       Ref& out, std::vector<double>& bound) {
  std::vector<int64_t> shape = x.shape.empty() ? std::vector<int64_t>{1} : x.shape;
  const Ref xs(shape, x.data);
  const auto a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(shape.size()) : axis);
  const int64_t length = shape[a];
  const double u = compute_roundoff(in_dtype == DType::F64 ? DType::F64 : DType::F32);
  const double uo = output_roundoff(out_dtype);
  Ref result(shape);
  std::vector<double> bounds(result.data.size());
  std::vector<int64_t> lane_shape = shape;
  lane_shape[a] = 1;
  for_each_index(lane_shape, [&](const std::vector<int64_t>& lane) {
    std::vector<int64_t> index = lane;
    double top = -std::numeric_limits<double>::infinity();
    for (index[a] = 0; index[a] < length; ++index[a]) top = std::max(top, xs.at(index));
    double sum = 0;
    for (index[a] = 0; index[a] < length; ++index[a]) sum += std::exp(xs.at(index) - top);
    const double log_sum = std::log(sum);
    const auto terms = static_cast<double>(length) + 4;
    for (index[a] = 0; index[a] < length; ++index[a]) {
      const double shifted = xs.at(index) - top;
      const int64_t flat = [&] {
        int64_t f = 0;
        for (size_t d = 0; d < shape.size(); ++d) f = f * shape[d] + index[d];
        return f;
      }();
      double& y = result.data[static_cast<size_t>(flat)];
      double& e = bounds[static_cast<size_t>(flat)];
      if (log) {
        y = shifted - log_sum;
        e = 2 * (std::abs(shifted) + std::abs(log_sum) + terms) * u + uo * std::abs(y);
      } else {
        y = std::exp(shifted) / sum;
        // Exponentials below the compute type's normal range lose up to two half-spacings.
        const double underflow = 2 * tiny_error(in_dtype == DType::F64 ? DType::F64 : DType::F32);
        e = 2 * (std::abs(shifted) + terms) * u * y + uo * y + tiny_error(out_dtype) + underflow;
      }
    }
  });
  out = Ref(x.shape, result.data);
  bound = std::move(bounds);
}

void check_softmax_family(Rng& rng, Device device, bool log) {
  const DType dtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32, DType::U8};
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  struct Range {
    double lo, hi;
  };
  // Unit scale, large magnitudes far apart, and large magnitudes close together: a softmax
  // without the max shift overflows on the last two.
  const Range ranges[] = {{-3, 3}, {-1000, 1000}, {995, 1005}};
  for (DType dtype : dtypes) {
    for (Layout layout : layouts) {
      for (Range range : ranges) {
        if (dtype == DType::U8 && range.lo < 0) continue;
        const double lo = dtype == DType::U8 ? 0 : range.lo;
        const double hi = dtype == DType::U8 ? 255 : range.hi;
        std::vector<std::vector<int64_t>> shapes;
        const int64_t rank = rng.integer(0, 4);
        std::vector<int64_t> shape(static_cast<size_t>(rank));
        for (auto& e : shape) e = rng.integer(1, 7);
        shapes.push_back(shape);
        shapes.push_back({rng.integer(1, 3), rng.integer(500, 1100)});   // long rows
        shapes.push_back({2, rng.integer(2, 9), rng.integer(65, 140)});  // column blocks
        for (const auto& s : shapes) {
          const int64_t r = static_cast<int64_t>(s.size());
          const int64_t axis = r == 0 ? rng.integer(-1, 0) : rng.integer(-r, r - 1);
          Tensor x = random_tensor(rng, s, dtype, lo, hi, layout).to(device);
          Tensor y = log ? log_softmax(x, axis) : softmax(x, axis);
          const DType out_dtype = is_floating(dtype) ? dtype : DType::F32;
          EXPECT_EQ(y.dtype(), out_dtype);
          Ref expected;
          std::vector<double> bound;
          reference_softmax(to_ref(x), axis, log, dtype, out_dtype, expected, bound);
          expect_within(y, expected, bound,
                        std::string(log ? "log_softmax " : "softmax ") + describe(x) + " axis " +
                            std::to_string(axis));
        }
      }
    }
  }
}

}  // namespace

void register_linalg_checks(CheckRegistry& r) {
  r.add({"matmul"}, check_matmul);
  r.add({"softmax"}, [](Rng& rng, Device device) { check_softmax_family(rng, device, false); });
  r.add({"log_softmax"}, [](Rng& rng, Device device) { check_softmax_family(rng, device, true); });
}

}  // namespace tenflowers::testing
