#include "tenflowers/nn/initializers.hpp"

#include <cmath>
#include <vector>

#include "tenflowers/core/error.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::nn {
namespace {

// Stddev of a unit normal truncated to [-2, 2]: scaling by its inverse keeps the variance.
constexpr double kTruncatedStddev = 0.87962566103423978;

// A [rows, cols] matrix with orthonormal rows (rows <= cols) or columns, by modified
// Gram-Schmidt in double on a Gaussian matrix, signs fixed as QR with a positive R diagonal.
std::vector<double> orthonormal(int64_t rows, int64_t cols, const Tensor& gaussian) {
  const bool wide = rows < cols;
  const int64_t n = wide ? cols : rows;  // vector length
  const int64_t k = wide ? rows : cols;  // number of vectors
  const Tensor g = gaussian.cast(DType::F64).contiguous();
  const double* src = g.data<double>();
  // q[j] is the j-th vector (a row when wide, a column otherwise) of length n.
  std::vector<double> q(static_cast<size_t>(n * k));
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t i = 0; i < n; ++i) q[j * n + i] = wide ? src[j * cols + i] : src[i * cols + j];
  }
  for (int64_t j = 0; j < k; ++j) {
    double* v = &q[j * n];
    for (int64_t p = 0; p < j; ++p) {
      const double* u = &q[p * n];
      double dot = 0;
      for (int64_t i = 0; i < n; ++i) dot += u[i] * v[i];
      for (int64_t i = 0; i < n; ++i) v[i] -= dot * u[i];
    }
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += v[i] * v[i];
    norm = std::sqrt(norm);
    TF_CHECK(norm > 0, InternalError, "orthogonal initializer: degenerate random matrix");
    for (int64_t i = 0; i < n; ++i) v[i] /= norm;
  }
  std::vector<double> out(static_cast<size_t>(rows * cols));
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t i = 0; i < n; ++i) (wide ? out[j * cols + i] : out[i * cols + j]) = q[j * n + i];
  }
  return out;
}

}  // namespace

Initializer Initializer::constant(double value) {
  Initializer init(Kind::Constant);
  init.a_ = value;
  return init;
}

Initializer Initializer::uniform(double low, double high) {
  TF_CHECK(low < high, InvalidArgument, "uniform initializer: low (", low, ") must be below high (",
           high, ")");
  Initializer init(Kind::Uniform);
  init.a_ = low;
  init.b_ = high;
  return init;
}

Initializer Initializer::normal(double mean, double stddev) {
  TF_CHECK(stddev > 0, InvalidArgument, "normal initializer: stddev must be positive, got ",
           stddev);
  Initializer init(Kind::Normal);
  init.a_ = mean;
  init.b_ = stddev;
  return init;
}

Initializer Initializer::truncated_normal(double mean, double stddev) {
  Initializer init = normal(mean, stddev);
  init.kind_ = Kind::TruncatedNormal;
  return init;
}

Initializer Initializer::orthogonal(double gain) {
  Initializer init(Kind::Orthogonal);
  init.a_ = gain;
  return init;
}

Initializer Initializer::with_seed(uint64_t seed) const {
  Initializer init = *this;
  init.seed_ = seed;
  return init;
}

Tensor Initializer::operator()(const Dims& shape, DType dtype, Fans fans) const {
  TF_CHECK(
      is_floating(dtype) || kind_ == Kind::Zeros || kind_ == Kind::Ones || kind_ == Kind::Constant,
      DTypeError, "random initializers need a floating dtype, got ", dtype_name(dtype));
  TF_CHECK(fans.in > 0 && fans.out > 0, InvalidArgument, "initializer: fans must be positive, got ",
           fans.in, " and ", fans.out);
  const double fan_avg = 0.5 * static_cast<double>(fans.in + fans.out);
  const double fan_in = static_cast<double>(fans.in);
  switch (kind_) {
    case Kind::Zeros:
      return tenflowers::zeros(shape, dtype);
    case Kind::Ones:
      return tenflowers::ones(shape, dtype);
    case Kind::Constant:
      return tenflowers::full(shape, a_, dtype);
    case Kind::Uniform:
      return tenflowers::uniform(shape, a_, b_, dtype, seed_);
    case Kind::Normal:
      return tenflowers::normal(shape, a_, b_, dtype, seed_);
    case Kind::TruncatedNormal:
      return tenflowers::truncated_normal(shape, a_, b_, dtype, seed_);
    case Kind::GlorotUniform: {
      const double limit = std::sqrt(3.0 / fan_avg);
      return tenflowers::uniform(shape, -limit, limit, dtype, seed_);
    }
    case Kind::GlorotNormal:
      return tenflowers::truncated_normal(shape, 0.0, std::sqrt(1.0 / fan_avg) / kTruncatedStddev,
                                          dtype, seed_);
    case Kind::HeUniform: {
      const double limit = std::sqrt(6.0 / fan_in);
      return tenflowers::uniform(shape, -limit, limit, dtype, seed_);
    }
    case Kind::HeNormal:
      return tenflowers::truncated_normal(shape, 0.0, std::sqrt(2.0 / fan_in) / kTruncatedStddev,
                                          dtype, seed_);
    case Kind::Orthogonal: {
      TF_CHECK(shape.size() >= 2, ShapeError,
               "orthogonal initializer: needs a weight of rank 2 or more, got ", shape);
      const int64_t rows = shape[0];
      const int64_t cols = shape.numel() / rows;
      std::vector<double> q =
          orthonormal(rows, cols, tenflowers::normal({rows, cols}, 0, 1, DType::F64, seed_));
      for (double& v : q) v *= a_;
      return Tensor::from_vec(q, shape).cast(dtype);
    }
  }
  throw InternalError("unknown initializer kind");
}

}  // namespace tenflowers::nn
