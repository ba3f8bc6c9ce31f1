// Checks for the one-input elementwise ops: random inputs of every supported dtype and layout
// (0-d included) against float64 references computed here with <cmath>.
#include <cmath>
#include <functional>
#include <limits>

#include "tests/conformance/elementwise_checks.hpp"

namespace tenflowers::testing {
namespace {

using namespace elementwise;

enum class Result {
  Same,      // the input dtype (integer results wrap around)
  Floating,  // the input dtype if floating, else f32
  Bool,
};

struct UnaryCase {
  std::function<Tensor(const Tensor&)> call;
  std::function<double(double)> reference;
  std::vector<std::pair<double, double>> domains;  // input ranges, each tried
  std::vector<DType> dtypes;
  Result result;
  double step = 0.0;  // > 0: inputs on a grid (zeros for logical_not)
};

const std::vector<DType> kFloats = {DType::F32, DType::F64, DType::F16, DType::BF16};
const std::vector<DType> kFloatsAndInts = {DType::F32, DType::F64, DType::F16, DType::BF16,
                                           DType::I32, DType::I64, DType::U8,  DType::I8};
const std::vector<DType> kAll = {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32,
                                 DType::I64, DType::U8,  DType::I8,  DType::Bool};
const std::vector<DType> kFloatMathInputs = {DType::F32,  DType::F64, DType::F16,
                                             DType::BF16, DType::I32, DType::I64};

DType result_dtype(Result result, DType input) {
  switch (result) {
    case Result::Same:
      return input;
    case Result::Floating:
      return is_floating(input) ? input : DType::F32;
    default:
      return DType::Bool;
  }
}

void run_case(Rng& rng, Device device, const UnaryCase& c) {
  for (const auto& [lo, hi] : c.domains) {
    for (DType dtype : c.dtypes) {
      for (Layout layout : kLayouts) {
        const std::vector<int64_t> shape = random_shape(rng, rng.integer(0, 4));
        const Tensor x =
            make_tensor(random_values(rng, shape, dtype, lo, hi, c.step), dtype, layout);
        const Ref in = to_ref(x);
        const Tensor y = c.call(to_device_keeping_layout(x, device));
        const DType expected_dtype = result_dtype(c.result, dtype);
        SCOPED_TRACE(describe(dtype, layout) + ", domain [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + ")");
        EXPECT_EQ(y.dtype(), expected_dtype);
        EXPECT_EQ(y.device(), device);
        Ref expected(in.shape);
        for (size_t i = 0; i < in.data.size(); ++i) {
          expected.data[i] = wrap_to(expected_dtype, c.reference(in.data[i]));
        }
        EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(expected_dtype));
      }
    }
  }
}

OpCheck check(UnaryCase c) {
  return [c = std::move(c)](Rng& rng, Device device) { run_case(rng, device, c); };
}

double sign_of(double x) {
  return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
}

double gelu_reference(double x) {
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}

double gelu_tanh_reference(double x) {
  const double inner = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + std::tanh(inner));
}

// isnan and isfinite need non-finite inputs: a share of the values become NaN or +-inf.
void check_classification(Rng& rng, Device device, bool is_nan_check) {
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  for (DType dtype : kAll) {
    for (Layout layout : kLayouts) {
      const std::vector<int64_t> shape = random_shape(rng, rng.integer(0, 4));
      Ref values = random_values(rng, shape, dtype, -3, 3);
      if (is_floating(dtype)) {
        for (double& v : values.data) {
          if (rng.integer(0, 2) == 0) v = specials[rng.integer(0, 2)];
        }
      }
      const Tensor x = to_device_keeping_layout(make_tensor(values, dtype, layout), device);
      const Ref in = to_ref(x);
      const Tensor y = is_nan_check ? isnan(x) : isfinite(x);
      SCOPED_TRACE(describe(dtype, layout));
      EXPECT_EQ(y.dtype(), DType::Bool);
      Ref expected(in.shape);
      for (size_t i = 0; i < in.data.size(); ++i) {
        expected.data[i] = is_nan_check ? std::isnan(in.data[i]) : std::isfinite(in.data[i]);
      }
      EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(DType::Bool));
    }
  }
}

}  // namespace

void register_unary_checks(CheckRegistry& r) {
  const std::vector<std::pair<double, double>> symmetric = {{-5, 5}};
  r.add({"neg"}, check({[](const Tensor& x) { return -x; }, [](double x) { return -x; }, symmetric,
                        kFloatsAndInts, Result::Same}));
  r.add({"abs"},
        check({[](const Tensor& x) { return x.abs(); }, [](double x) { return std::abs(x); },
               symmetric, kFloatsAndInts, Result::Same}));
  r.add({"sign"}, check({[](const Tensor& x) { return x.sign(); }, sign_of, symmetric,
                         kFloatsAndInts, Result::Same}));
  r.add({"square"}, check({[](const Tensor& x) { return x.square(); },
                           [](double x) { return x * x; },
                           {{-12, 12}},
                           kFloatsAndInts,
                           Result::Same}));
  r.add({"relu"},
        check({[](const Tensor& x) { return x.relu(); }, [](double x) { return x > 0 ? x : 0.0; },
               symmetric, kFloatsAndInts, Result::Same}));
  r.add({"floor"}, check({[](const Tensor& x) { return x.floor(); },
                          [](double x) { return std::floor(x); }, symmetric, kAll, Result::Same}));
  r.add({"ceil"}, check({[](const Tensor& x) { return x.ceil(); },
                         [](double x) { return std::ceil(x); }, symmetric, kAll, Result::Same}));
  r.add({"round"},
        check({[](const Tensor& x) { return x.round(); },
               [](double x) { return std::nearbyint(x); }, symmetric, kAll, Result::Same}));

  r.add({"exp"}, check({[](const Tensor& x) { return x.exp(); },
                        [](double x) { return std::exp(x); },
                        {{-8, 8}},
                        kFloatMathInputs,
                        Result::Floating}));
  r.add({"expm1"}, check({[](const Tensor& x) { return x.expm1(); },
                          [](double x) { return std::expm1(x); },
                          {{-3, 3}, {-1e-3, 1e-3}},
                          kFloatMathInputs,
                          Result::Floating}));
  r.add({"log"}, check({[](const Tensor& x) { return x.log(); },
                        [](double x) { return std::log(x); },
                        {{0.01, 20}},
                        kFloatMathInputs,
                        Result::Floating}));
  r.add({"log1p"}, check({[](const Tensor& x) { return x.log1p(); },
                          [](double x) { return std::log1p(x); },
                          {{-0.9, 20}, {-1e-3, 1e-3}},
                          kFloatMathInputs,
                          Result::Floating}));
  r.add({"sqrt"}, check({[](const Tensor& x) { return x.sqrt(); },
                         [](double x) { return std::sqrt(x); },
                         {{0, 20}},
                         kFloatMathInputs,
                         Result::Floating}));
  r.add({"rsqrt"}, check({[](const Tensor& x) { return x.rsqrt(); },
                          [](double x) { return 1.0 / std::sqrt(x); },
                          {{0.01, 20}},
                          kFloatMathInputs,
                          Result::Floating}));
  r.add({"reciprocal"}, check({[](const Tensor& x) { return x.reciprocal(); },
                               [](double x) { return 1.0 / x; },
                               {{0.1, 8}, {-8, -0.1}},
                               kFloatMathInputs,
                               Result::Floating}));
  r.add({"sin"}, check({[](const Tensor& x) { return x.sin(); },
                        [](double x) { return std::sin(x); },
                        {{-7, 7}},
                        kFloatMathInputs,
                        Result::Floating}));
  r.add({"cos"}, check({[](const Tensor& x) { return x.cos(); },
                        [](double x) { return std::cos(x); },
                        {{-7, 7}},
                        kFloatMathInputs,
                        Result::Floating}));
  r.add({"tan"}, check({[](const Tensor& x) { return x.tan(); },
                        [](double x) { return std::tan(x); },
                        {{-1.4, 1.4}},
                        kFloatMathInputs,
                        Result::Floating}));
  r.add({"tanh"}, check({[](const Tensor& x) { return x.tanh(); },
                         [](double x) { return std::tanh(x); },
                         {{-6, 6}, {-1e-3, 1e-3}},
                         kFloatMathInputs,
                         Result::Floating}));
  r.add({"sigmoid"}, check({[](const Tensor& x) { return x.sigmoid(); },
                            [](double x) { return 1.0 / (1.0 + std::exp(-x)); },
                            {{-12, 12}},
                            kFloatMathInputs,
                            Result::Floating}));
  r.add({"erf"}, check({[](const Tensor& x) { return x.erf(); },
                        [](double x) { return std::erf(x); },
                        {{-4, 4}, {-1e-3, 1e-3}},
                        kFloatMathInputs,
                        Result::Floating}));
  r.add({"silu"}, check({[](const Tensor& x) { return silu(x); },
                         [](double x) { return x / (1.0 + std::exp(-x)); },
                         {{-12, 12}},
                         kFloatMathInputs,
                         Result::Floating}));
  r.add({"leaky_relu"}, check({[](const Tensor& x) { return leaky_relu(x, 0.2); },
                               [](double x) { return x < 0 ? 0.2 * x : x; }, symmetric,
                               kFloatMathInputs, Result::Floating}));
  r.add({"elu"}, check({[](const Tensor& x) { return elu(x, 1.3); },
                        [](double x) { return x > 0 ? x : 1.3 * (std::exp(x) - 1.0); }, symmetric,
                        kFloatMathInputs, Result::Floating}));
  r.add({"gelu"}, [](Rng& rng, Device device) {
    run_case(rng, device,
             {[](const Tensor& x) { return gelu(x); },
              gelu_reference,
              {{-6, 6}},
              kFloatMathInputs,
              Result::Floating});
    run_case(rng, device,
             {[](const Tensor& x) { return gelu(x, true); },
              gelu_tanh_reference,
              {{-6, 6}},
              kFloatMathInputs,
              Result::Floating});
  });
  r.add({"softplus"},
        check({[](const Tensor& x) { return softplus(x, 1.5, 12.0); },
               [](double x) { return 1.5 * x > 12.0 ? x : std::log1p(std::exp(1.5 * x)) / 1.5; },
               {{-12, 12}},
               kFloatMathInputs,
               Result::Floating}));

  r.add({"logical_not"}, check({[](const Tensor& x) { return !x; },
                                [](double x) { return x == 0 ? 1.0 : 0.0; },
                                {{-2, 2}},
                                kAll,
                                Result::Bool,
                                1.0}));
  r.add({"isnan"}, [](Rng& rng, Device device) { check_classification(rng, device, true); });
  r.add({"isfinite"}, [](Rng& rng, Device device) { check_classification(rng, device, false); });
}

}  // namespace tenflowers::testing
