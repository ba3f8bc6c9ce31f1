#pragma once
// Test support: random inputs (contiguous, strided and broadcast views), float64 host copies
// of tensors, and comparison against an independently computed float64 reference.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <tenflowers/tenflowers.hpp>

namespace tenflowers::testing {

// A float64 host array in row-major order: what reference implementations compute on.
struct Ref {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Ref() = default;
  Ref(std::vector<int64_t> s, std::vector<double> d) : shape(std::move(s)), data(std::move(d)) {}
  explicit Ref(std::vector<int64_t> s) : shape(std::move(s)), data(numel(), 0.0) {}
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  std::vector<int64_t> strides() const;  // row-major
  // Element at a multi-index; with broadcasting when `index` has more axes than this array.
  double at(const std::vector<int64_t>& index) const;
  double& at(const std::vector<int64_t>& index);
};

Ref to_ref(const Tensor& t);  // any dtype, any layout, any device
Tensor from_ref(const Ref& r, DType dtype);

// Calls f(index) for every multi-index of `shape` in row-major order.
void for_each_index(const std::vector<int64_t>& shape,
                    const std::function<void(const std::vector<int64_t>&)>& f);

enum class Layout { Contiguous, Transposed, Strided };

// Random generator for a test, seeded from the test name and the environment variable
// TF_TEST_SEED (when set) so a failing case can be replayed; prints the seed on failure.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed), seed_(seed) {}
  static Rng for_test();  // seed from TF_TEST_SEED or the clock, recorded in the test output
  uint64_t seed() const { return seed_; }
  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  int64_t integer(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  uint64_t seed_;
};

// A tensor of `shape` with values uniform in [lo, hi) (integers for integer dtypes, 0/1 for
// bool), laid out as asked: Transposed stores it permuted (reversed axes) and returns the
// permuted-back view; Strided stores it inside a larger buffer and returns a step-2 slice view.
Tensor random_tensor(Rng& rng, std::vector<int64_t> shape, DType dtype, double lo = -1.0,
                     double hi = 1.0, Layout layout = Layout::Contiguous);

// `t` on `device` with its layout kept: the whole buffer it views is copied there and viewed
// with the same shape, strides and offset, so the device's kernels meet the same strided input.
// (to(device) makes a contiguous copy instead.)
Tensor to_device_keeping_layout(const Tensor& t, Device device);

// Default tolerances for comparing a result of `dtype` with a float64 reference.
struct Tolerance {
  double rtol, atol;
};
Tolerance tolerance_for(DType dtype);

// Asserts shape equality and |actual - expected| <= atol + rtol * |expected| elementwise
// (NaN matches NaN, infinities must match exactly). Reports the first mismatches.
::testing::AssertionResult close_to(const Tensor& actual, const Ref& expected, Tolerance tol);
#define EXPECT_CLOSE_TO_REF(actual, expected, tol) \
  EXPECT_TRUE(::tenflowers::testing::close_to(actual, expected, tol))

// Unit roundoff of the type results of `dtype` are computed in (f32 for the 16-bit floats), and
// of `dtype` itself; for bounds derived from the computation's rounding errors.
double compute_roundoff(DType dtype);
double output_roundoff(DType dtype);
// Half the spacing of the dtype's subnormals: the absolute error of rounding a tiny result.
double tiny_error(DType dtype);

// Asserts |actual - expected| <= bound elementwise (exact equality where the bound is 0) and
// reports the first mismatches, prefixed with `what`.
void expect_within(const Tensor& actual, const Ref& expected, const std::vector<double>& bound,
                   const std::string& what);
// "f32[2, 3]", with " strided" for a non-contiguous view: names an operand in failure messages.
std::string describe(const Tensor& t);

// NumPy broadcast of reference shapes.
std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace tenflowers::testing
