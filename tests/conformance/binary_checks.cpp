// Checks for the elementwise ops of two or three inputs: random broadcastable shapes, mixed
// layouts and dtype pairs (with their expected promotion written out here), compared with
// float64 references computed with <cmath>.
#include <cmath>
#include <functional>
#include <optional>

#include "tests/conformance/elementwise_checks.hpp"

namespace tenflowers::testing {
namespace {

using namespace elementwise;

struct DTypePair {
  DType a, b, promoted;
};

// NumPy/PyTorch promotion: bool < integers < floats, u8 with i8 gives i32, f16 with bf16 f32.
const DTypePair kPairs[] = {
    {DType::F32, DType::F32, DType::F32},  {DType::F64, DType::F64, DType::F64},
    {DType::F16, DType::F16, DType::F16},  {DType::BF16, DType::BF16, DType::BF16},
    {DType::I32, DType::I32, DType::I32},  {DType::I64, DType::I64, DType::I64},
    {DType::U8, DType::U8, DType::U8},     {DType::I8, DType::I8, DType::I8},
    {DType::U8, DType::I8, DType::I32},    {DType::I32, DType::F32, DType::F32},
    {DType::F16, DType::BF16, DType::F32}, {DType::I64, DType::F64, DType::F64},
    {DType::Bool, DType::I32, DType::I32}, {DType::F32, DType::F64, DType::F64},
    {DType::I8, DType::F16, DType::F16},   {DType::Bool, DType::Bool, DType::Bool},
    {DType::I32, DType::I64, DType::I64},  {DType::BF16, DType::F32, DType::F32},
};

enum class Result {
  Promoted,  // the promoted dtype (integers wrap around, bool results are truthy)
  Floating,  // the promoted dtype if floating, else f32
  Bool,
};

enum class Pairs { All, Numeric, Floating, Integral };

bool accepts(Pairs which, const DTypePair& p) {
  switch (which) {
    case Pairs::Numeric:
      return p.promoted != DType::Bool;
    case Pairs::Floating:
      return is_floating(p.promoted);
    case Pairs::Integral:
      return is_integral(p.promoted);
    default:
      return true;
  }
}

struct Range {
  double lo, hi;
};

struct BinaryCase {
  std::function<Tensor(const Tensor&, const Tensor&)> call;
  std::function<double(double, double)> reference;
  std::vector<std::pair<Range, Range>> domains;  // (a, b) input ranges, each tried
  Pairs pairs;
  Result result;
  double step = 0.0;  // > 0: floating inputs on a grid, so comparisons see ties
};

DType result_dtype(Result result, DType promoted) {
  switch (result) {
    case Result::Promoted:
      return promoted;
    case Result::Floating:
      return is_floating(promoted) ? promoted : DType::F32;
    default:
      return DType::Bool;
  }
}

// An unsigned operand cannot take values from an all-negative range.
bool representable(DType dtype, Range range) {
  return dtype != DType::U8 || range.hi > 1;
}

void run_case(Rng& rng, Device device, const BinaryCase& c) {
  for (const auto& [range_a, range_b] : c.domains) {
    for (const DTypePair& pair : kPairs) {
      if (!accepts(c.pairs, pair) || !representable(pair.a, range_a) ||
          !representable(pair.b, range_b)) {
        continue;
      }
      for (Layout layout : kLayouts) {
        const auto [shape_a, shape_b] = broadcast_pair(rng);
        const Layout layout_b = kLayouts[rng.integer(0, 2)];
        const Tensor a = make_tensor(
            random_values(rng, shape_a, pair.a, range_a.lo, range_a.hi, c.step), pair.a, layout);
        const Tensor b = make_tensor(
            random_values(rng, shape_b, pair.b, range_b.lo, range_b.hi, c.step), pair.b, layout_b);
        const Ref ra = to_ref(a), rb = to_ref(b);
        const Tensor y =
            c.call(to_device_keeping_layout(a, device), to_device_keeping_layout(b, device));
        const DType expected_dtype = result_dtype(c.result, pair.promoted);
        SCOPED_TRACE(describe(pair.a, layout) + format_dims(shape_a) + " with " +
                     describe(pair.b, layout_b) + format_dims(shape_b));
        EXPECT_EQ(y.dtype(), expected_dtype);
        Ref expected(broadcast(shape_a, shape_b));
        for_each_index(expected.shape, [&](const std::vector<int64_t>& index) {
          double v = c.reference(ra.at(index), rb.at(index));
          if (expected_dtype == DType::Bool) v = v != 0.0;
          expected.at(index) = wrap_to(expected_dtype, v);
        });
        EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(expected_dtype));
      }
    }
  }
}

OpCheck check(std::vector<BinaryCase> cases) {
  return [cases = std::move(cases)](Rng& rng, Device device) {
    for (const BinaryCase& c : cases) run_case(rng, device, c);
  };
}

double python_mod(double a, double b) {
  const double r = std::fmod(a, b);
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

// where(condition, a, b) with three independently broadcast shapes and a truthy condition of
// several dtypes.
void check_where(Rng& rng, Device device) {
  for (DType cond_dtype : {DType::Bool, DType::F32, DType::I32}) {
    for (const DTypePair& pair : kPairs) {
      const std::vector<int64_t> out = random_shape(rng, rng.integer(0, 4));
      std::vector<std::vector<int64_t>> shapes(3, out);
      for (auto& s : shapes) {
        for (auto& d : s) d = rng.integer(0, 2) == 0 ? 1 : d;
        s.erase(s.begin(), s.begin() + rng.integer(0, static_cast<int64_t>(s.size())));
      }
      const Tensor c = make_tensor(random_values(rng, shapes[0], cond_dtype, -1, 2, 1.0),
                                   cond_dtype, kLayouts[rng.integer(0, 2)]);
      const Tensor a = make_tensor(random_values(rng, shapes[1], pair.a, -10, 10), pair.a,
                                   kLayouts[rng.integer(0, 2)]);
      const Tensor b = make_tensor(random_values(rng, shapes[2], pair.b, -10, 10), pair.b,
                                   kLayouts[rng.integer(0, 2)]);
      const Ref rc = to_ref(c), ra = to_ref(a), rb = to_ref(b);
      const Tensor y =
          where(to_device_keeping_layout(c, device), to_device_keeping_layout(a, device),
                to_device_keeping_layout(b, device));
      SCOPED_TRACE(std::string(dtype_name(cond_dtype)) + format_dims(shapes[0]) + ", " +
                   std::string(dtype_name(pair.a)) + format_dims(shapes[1]) + ", " +
                   std::string(dtype_name(pair.b)) + format_dims(shapes[2]));
      EXPECT_EQ(y.dtype(), pair.promoted);
      Ref expected(broadcast_all(shapes));
      for_each_index(expected.shape, [&](const std::vector<int64_t>& index) {
        expected.at(index) = rc.at(index) != 0 ? ra.at(index) : rb.at(index);
      });
      EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(pair.promoted));
    }
  }
}

// clamp with scalar bounds: either bound may be missing; integer inputs keep their dtype for
// integral bounds and compute in f32 otherwise.
void check_clamp(Rng& rng, Device device) {
  const DType dtypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                          DType::I32, DType::I64, DType::U8,  DType::I8};
  for (DType dtype : dtypes) {
    for (Layout layout : kLayouts) {
      for (bool integral_bounds : {true, false}) {
        const double lo_value = rng.uniform(-6, 2), hi_value = rng.uniform(2, 8);
        std::optional<double> lo = integral_bounds ? std::round(lo_value) : lo_value;
        std::optional<double> hi = integral_bounds ? std::round(hi_value) : hi_value;
        const int64_t missing = rng.integer(0, 2);  // 0: none, 1: min, 2: max
        if (missing == 1) lo.reset();
        if (missing == 2) hi.reset();
        const Tensor x =
            make_tensor(random_values(rng, random_shape(rng, rng.integer(0, 4)), dtype, -10, 10),
                        dtype, layout);
        const Ref rx = to_ref(x);
        const Tensor y = to_device_keeping_layout(x, device).clamp(lo, hi);
        const DType expected_dtype = is_floating(dtype) || integral_bounds ? dtype : DType::F32;
        SCOPED_TRACE(describe(dtype, layout) + ", min " + (lo ? std::to_string(*lo) : "none") +
                     ", max " + (hi ? std::to_string(*hi) : "none"));
        EXPECT_EQ(y.dtype(), expected_dtype);
        Ref expected(rx.shape);
        for (size_t i = 0; i < rx.data.size(); ++i) {
          double v = rx.data[i];
          if (lo && v < *lo) v = *lo;
          if (hi && v > *hi) v = *hi;
          expected.data[i] = v;
        }
        EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(expected_dtype));
      }
    }
  }
}

}  // namespace

void register_binary_checks(CheckRegistry& r) {
  const std::vector<std::pair<Range, Range>> wide = {{{-10, 10}, {-10, 10}}};
  const std::vector<std::pair<Range, Range>> nonzero_divisor = {{{-10, 10}, {0.5, 4}},
                                                                {{-10, 10}, {-4, -0.5}}};
  r.add({"add"},
        check({{[](const Tensor& a, const Tensor& b) { return a + b; },
                [](double a, double b) { return a + b; }, wide, Pairs::All, Result::Promoted}}));
  r.add({"sub"}, check({{[](const Tensor& a, const Tensor& b) { return a - b; },
                         [](double a, double b) { return a - b; }, wide, Pairs::Numeric,
                         Result::Promoted}}));
  r.add({"mul"},
        check({{[](const Tensor& a, const Tensor& b) { return a * b; },
                [](double a, double b) { return a * b; }, wide, Pairs::All, Result::Promoted}}));
  r.add({"div"}, check({{[](const Tensor& a, const Tensor& b) { return a / b; },
                         [](double a, double b) { return a / b; }, nonzero_divisor, Pairs::All,
                         Result::Floating}}));
  r.add({"pow"}, check({{[](const Tensor& a, const Tensor& b) { return a.pow(b); },
                         [](double a, double b) { return std::pow(a, b); },
                         {{{0.1, 3}, {-3, 3}}},
                         Pairs::Floating,
                         Result::Promoted},
                        {[](const Tensor& a, const Tensor& b) { return pow(a, b); },
                         [](double a, double b) { return std::pow(a, b); },
                         {{{-4, 5}, {0, 4}}},
                         Pairs::Integral,
                         Result::Promoted}}));
  r.add({"maximum"}, check({{[](const Tensor& a, const Tensor& b) { return maximum(a, b); },
                             [](double a, double b) { return std::max(a, b); }, wide, Pairs::All,
                             Result::Promoted, 0.5}}));
  r.add({"minimum"}, check({{[](const Tensor& a, const Tensor& b) { return minimum(a, b); },
                             [](double a, double b) { return std::min(a, b); }, wide, Pairs::All,
                             Result::Promoted, 0.5}}));
  r.add({"mod"}, check({{[](const Tensor& a, const Tensor& b) { return mod(a, b); }, python_mod,
                         nonzero_divisor, Pairs::Numeric, Result::Promoted}}));
  r.add({"atan2"}, check({{[](const Tensor& a, const Tensor& b) { return atan2(a, b); },
                           [](double a, double b) { return std::atan2(a, b); },
                           {{{-3, 3}, {-3, 3}}},
                           Pairs::All,
                           Result::Floating}}));
  r.add({"relu_grad"}, check({{[](const Tensor& x, const Tensor& g) {
                                 return dispatch1(registry().get("relu_grad"), {x, g});
                               },
                               [](double x, double g) { return x > 0 ? g : 0.0; }, wide, Pairs::All,
                               Result::Floating}}));

  const std::vector<std::pair<Range, Range>> small = {{{-3, 3}, {-3, 3}}};
  auto comparison = [&](auto op, auto reference) {
    return check({{op, reference, small, Pairs::All, Result::Bool, 0.5}});
  };
  r.add({"eq"}, comparison([](const Tensor& a, const Tensor& b) { return a == b; },
                           [](double a, double b) { return a == b ? 1.0 : 0.0; }));
  r.add({"ne"}, comparison([](const Tensor& a, const Tensor& b) { return a != b; },
                           [](double a, double b) { return a != b ? 1.0 : 0.0; }));
  r.add({"lt"}, comparison([](const Tensor& a, const Tensor& b) { return a < b; },
                           [](double a, double b) { return a < b ? 1.0 : 0.0; }));
  r.add({"le"}, comparison([](const Tensor& a, const Tensor& b) { return a <= b; },
                           [](double a, double b) { return a <= b ? 1.0 : 0.0; }));
  r.add({"gt"}, comparison([](const Tensor& a, const Tensor& b) { return a > b; },
                           [](double a, double b) { return a > b ? 1.0 : 0.0; }));
  r.add({"ge"}, comparison([](const Tensor& a, const Tensor& b) { return a >= b; },
                           [](double a, double b) { return a >= b ? 1.0 : 0.0; }));
  auto logical = [&](auto op, auto reference) {
    return check({{op, reference, {{{-2, 2}, {-2, 2}}}, Pairs::All, Result::Bool, 1.0}});
  };
  r.add({"logical_and"}, logical([](const Tensor& a, const Tensor& b) { return a && b; },
                                 [](double a, double b) { return a != 0 && b != 0 ? 1.0 : 0.0; }));
  r.add({"logical_or"}, logical([](const Tensor& a, const Tensor& b) { return a || b; },
                                [](double a, double b) { return a != 0 || b != 0 ? 1.0 : 0.0; }));
  r.add({"logical_xor"},
        logical([](const Tensor& a, const Tensor& b) { return logical_xor(a, b); },
                [](double a, double b) { return (a != 0) != (b != 0) ? 1.0 : 0.0; }));
  r.add({"where"}, check_where);
  r.add({"clamp"}, check_clamp);
}

}  // namespace tenflowers::testing
