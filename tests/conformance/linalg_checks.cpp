// Checks for matmul, softmax, log_softmax and their gradient ops against float64 loops on
// reference arrays. Float tolerances are per element, from rounding-error bounds of the
// computation: a dot product of length K in unit roundoff u is within (K + 2) u sum|a||b| of
// the exact value.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

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
      {{3, 70, 65}, {3, 65, 72}},      // BLAS per entry, whole entries per thread (f32)
      {{2, 130, 160}, {2, 160, 210}},  // entries large enough to thread inside each one
      {{3, 260}, {260, 300}},          // several tiles of the integer loop
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

// ---- linear ------------------------------------------------------------------------------

// activation(x @ w + b) against the reference product: the product's bound, and the rounding of
// the product and of the sum with the bias (relu moves no value further from the exact one than
// its input does).
void check_linear(Rng& rng, Device device) {
  auto d = [&](int64_t hi = 40) { return rng.integer(1, hi); };
  const DType dtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
  for (DType dtype : dtypes) {
    const int64_t in = d(), out = d();
    const std::vector<std::vector<int64_t>> x_shapes = {{d(), in}, {d(4), d(), in}, {in}};
    for (const std::vector<int64_t>& xs : x_shapes) {
      for (const char* activation : {"linear", "relu"}) {
        const bool with_bias = rng.integer(0, 1) == 1;
        const MatLayout lx = rng.integer(0, 1) ? MatLayout::Contiguous : MatLayout::Strided;
        const MatLayout lw = rng.integer(0, 1) ? MatLayout::Contiguous : MatLayout::SwappedLastTwo;
        Tensor x = matmul_operand(rng, xs, dtype, lx, device);
        Tensor w = matmul_operand(rng, {in, out}, dtype, lw, device);
        Tensor b =
            with_bias ? matmul_operand(rng, {out}, dtype, MatLayout::Contiguous, device) : Tensor();
        Tensor y = linear(x, w, b, activation);
        EXPECT_EQ(y.dtype(), dtype);
        Ref expected, magnitude;
        reference_matmul(to_ref(x), to_ref(w), expected, magnitude);
        const Ref bias = with_bias ? to_ref(b) : Ref();
        std::vector<double> bound(expected.data.size());
        for (size_t i = 0; i < bound.size(); ++i) {
          double& e = expected.data[i];
          const double product = e;
          if (with_bias) e += bias.data[i % static_cast<size_t>(out)];
          if (std::string(activation) == "relu") e = std::max(e, 0.0);
          // A device may store the product in the output dtype before adding the bias.
          bound[i] = (static_cast<double>(in) + 2) * compute_roundoff(dtype) * magnitude.data[i] +
                     output_roundoff(dtype) * (std::abs(product) + std::abs(e)) + tiny_error(dtype);
        }
        expect_within(y, expected, bound,
                      std::string("linear (") + activation + ") " + describe(x) + " @ " +
                          describe(w) + (with_bias ? " + " + describe(b) : std::string()));
      }
    }
  }
}

// ---- softmax family ------------------------------------------------------------------------

// Calls f(flat row-major indices of a lane's elements, in order along `axis`) for every lane of
// `shape`; a 0-d shape is one lane of one element.
void for_each_lane(std::vector<int64_t> shape, int64_t axis,
                   const std::function<void(const std::vector<size_t>&)>& f) {
  if (shape.empty()) shape = {1};
  const auto a = static_cast<size_t>(axis < 0 ? axis + static_cast<int64_t>(shape.size()) : axis);
  std::vector<int64_t> lane_shape = shape;
  lane_shape[a] = 1;
  std::vector<size_t> flat(static_cast<size_t>(shape[a]));
  for_each_index(lane_shape, [&](const std::vector<int64_t>& lane) {
    std::vector<int64_t> index = lane;
    for (index[a] = 0; index[a] < shape[a]; ++index[a]) {
      int64_t i = 0;
      for (size_t d = 0; d < shape.size(); ++d) i = i * shape[d] + index[d];
      flat[static_cast<size_t>(index[a])] = static_cast<size_t>(i);
    }
    f(flat);
  });
}

// Softmax in float64 along `axis`, with per-element error bounds for a result computed in
// roundoff u: x - max is rounded (relative u |x - max| after exp), the sum of L terms carries
// L u, exp, log, divide and the final rounding a few u more.
void reference_softmax(const Ref& x, int64_t axis, bool log, DType in_dtype, DType out_dtype,
                       Ref& out, std::vector<double>& bound) {
  const double u = compute_roundoff(in_dtype == DType::F64 ? DType::F64 : DType::F32);
  const double uo = output_roundoff(out_dtype);
  out = Ref(x.shape);
  bound.assign(x.data.size(), 0.0);
  for_each_lane(x.shape, axis, [&](const std::vector<size_t>& lane) {
    double top = -std::numeric_limits<double>::infinity();
    for (size_t i : lane) top = std::max(top, x.data[i]);
    double sum = 0;
    for (size_t i : lane) sum += std::exp(x.data[i] - top);
    const double log_sum = std::log(sum);
    const auto terms = static_cast<double>(lane.size()) + 4;
    for (size_t i : lane) {
      const double shifted = x.data[i] - top;
      double& y = out.data[i];
      if (log) {
        y = shifted - log_sum;
        bound[i] = 2 * (std::abs(shifted) + std::abs(log_sum) + terms) * u + uo * std::abs(y);
      } else {
        y = std::exp(shifted) / sum;
        // Exponentials below the compute type's normal range lose up to two half-spacings.
        const double underflow = 2 * tiny_error(in_dtype == DType::F64 ? DType::F64 : DType::F32);
        bound[i] =
            2 * (std::abs(shifted) + terms) * u * y + uo * y + tiny_error(out_dtype) + underflow;
      }
    }
  });
}

// softmax_grad(y, dy) = y (dy - S), S = sum(dy y), or log_softmax_grad(y, dy) = dy - e S with
// e = exp(y), S = sum(dy), in float64 with per-element error bounds for a result computed in
// roundoff u: the lane's sum of L terms is within (L + 2) u sum|term| of S, the exponential
// within a few u, the subtraction and product add a rounding each, then the output rounds.
void reference_softmax_grad(const Ref& y, const Ref& dy, int64_t axis, bool log, DType dtype,
                            Ref& out, std::vector<double>& bound) {
  const double u = compute_roundoff(dtype);
  const double uo = output_roundoff(dtype);
  out = Ref(y.shape);
  bound.assign(y.data.size(), 0.0);
  for_each_lane(y.shape, axis, [&](const std::vector<size_t>& lane) {
    double sum = 0, magnitude = 0;
    for (size_t i : lane) {
      const double term = log ? dy.data[i] : dy.data[i] * y.data[i];
      sum += term;
      magnitude += std::abs(term);
    }
    const double sum_error = (static_cast<double>(lane.size()) + 2) * u * magnitude;
    for (size_t i : lane) {
      double& dx = out.data[i];
      if (log) {
        const double e = std::exp(y.data[i]);
        dx = dy.data[i] - e * sum;
        bound[i] = e * (sum_error + 6 * u * std::abs(sum)) + 2 * u * std::abs(dy.data[i]);
      } else {
        dx = y.data[i] * (dy.data[i] - sum);
        bound[i] =
            std::abs(y.data[i]) * (sum_error + 2 * u * (std::abs(dy.data[i]) + std::abs(sum)));
      }
      bound[i] += uo * std::abs(dx) + tiny_error(dtype);
    }
  });
}

// A random shape of rank 0 to 4, long rows (the GPU's register rows up to 1024 elements and
// its lane kernel past them), many short rows, and columns wider than the CPU's column block.
std::vector<std::vector<int64_t>> softmax_shapes(Rng& rng) {
  std::vector<int64_t> shape(static_cast<size_t>(rng.integer(0, 4)));
  for (auto& e : shape) e = rng.integer(1, 7);
  return {shape,
          {rng.integer(1, 3), rng.integer(500, 1100)},
          {rng.integer(30, 70), rng.integer(1, 40)},
          {2, rng.integer(2, 9), rng.integer(65, 140)}};
}

int64_t random_axis(Rng& rng, const std::vector<int64_t>& shape) {
  const auto r = static_cast<int64_t>(shape.size());
  return r == 0 ? rng.integer(-1, 0) : rng.integer(-r, r - 1);
}

std::string axis_text(int64_t axis) {
  return " axis " + std::to_string(axis);
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
        for (const auto& s : softmax_shapes(rng)) {
          const int64_t axis = random_axis(rng, s);
          Tensor x = random_tensor(rng, s, dtype, lo, hi, layout).to(device);
          Tensor y = log ? log_softmax(x, axis) : softmax(x, axis);
          const DType out_dtype = is_floating(dtype) ? dtype : DType::F32;
          EXPECT_EQ(y.dtype(), out_dtype);
          Ref expected;
          std::vector<double> bound;
          reference_softmax(to_ref(x), axis, log, dtype, out_dtype, expected, bound);
          expect_within(
              y, expected, bound,
              std::string(log ? "log_softmax " : "softmax ") + describe(x) + axis_text(axis));
        }
      }
    }
  }
}

// y is probability-like for softmax_grad and log-probability-like for log_softmax_grad; each
// input takes its own layout.
void check_softmax_grad(Rng& rng, Device device, bool log) {
  const OpDef& op = registry().get(log ? "log_softmax_grad" : "softmax_grad");
  const DType dtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  for (DType dtype : dtypes) {
    for (Layout layout : layouts) {
      for (const auto& s : softmax_shapes(rng)) {
        const int64_t axis = random_axis(rng, s);
        const Tensor y =
            random_tensor(rng, s, dtype, log ? -6.0 : 0.0, log ? 0.0 : 1.0, layout).to(device);
        const Tensor dy =
            random_tensor(rng, s, dtype, -1.0, 1.0, layouts[rng.integer(0, 2)]).to(device);
        const Tensor dx = dispatch1(op, {y, dy}, Attrs{{"axis", axis}});
        EXPECT_EQ(dx.dtype(), dtype);
        Ref expected;
        std::vector<double> bound;
        reference_softmax_grad(to_ref(y), to_ref(dy), axis, log, dtype, expected, bound);
        expect_within(dx, expected, bound,
                      op.name + " " + describe(y) + ", " + describe(dy) + axis_text(axis));
      }
    }
  }
}

}  // namespace

void register_linalg_checks(CheckRegistry& r) {
  r.add({"matmul"}, check_matmul);
  r.add({"linear"}, check_linear);
  r.add({"softmax"}, [](Rng& rng, Device device) { check_softmax_family(rng, device, false); });
  r.add({"log_softmax"}, [](Rng& rng, Device device) { check_softmax_family(rng, device, true); });
  r.add({"softmax_grad"}, [](Rng& rng, Device device) { check_softmax_grad(rng, device, false); });
  r.add({"log_softmax_grad"},
        [](Rng& rng, Device device) { check_softmax_grad(rng, device, true); });
}

}  // namespace tenflowers::testing
