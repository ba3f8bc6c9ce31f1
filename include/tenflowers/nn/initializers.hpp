#pragma once
// Weight initializers (Keras' set). Each draws from the global generator unless given a seed,
// so manual_seed() makes model construction reproducible.
#include <cstdint>
#include <optional>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::nn {

// Fan-in and fan-out of a weight, given by the layer that owns it (the layout decides them).
struct Fans {
  int64_t in = 1;
  int64_t out = 1;
};

class Initializer {
 public:
  enum class Kind {
    Zeros,
    Ones,
    Constant,
    Uniform,
    Normal,
    TruncatedNormal,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    Orthogonal
  };

  static Initializer zeros() { return Initializer(Kind::Zeros); }
  static Initializer ones() { return Initializer(Kind::Ones); }
  static Initializer constant(double value);
  static Initializer uniform(double low = -0.05, double high = 0.05);
  static Initializer normal(double mean = 0.0, double stddev = 0.05);
  static Initializer truncated_normal(double mean = 0.0, double stddev = 0.05);
  // Glorot/Xavier: limit sqrt(6 / (fan_in + fan_out)); normal: truncated, stddev
  // sqrt(2 / (fan_in + fan_out)) / 0.8796 (Keras' correction for the truncation).
  static Initializer glorot_uniform() { return Initializer(Kind::GlorotUniform); }
  static Initializer glorot_normal() { return Initializer(Kind::GlorotNormal); }
  // He/Kaiming: limit sqrt(6 / fan_in); normal: truncated, stddev sqrt(2 / fan_in) / 0.8796.
  static Initializer he_uniform() { return Initializer(Kind::HeUniform); }
  static Initializer he_normal() { return Initializer(Kind::HeNormal); }
  // Rows of the weight seen as a [shape[0], rest] matrix are orthonormal (or its columns, when it
  // is wide), scaled by gain.
  static Initializer orthogonal(double gain = 1.0);

  Initializer with_seed(uint64_t seed) const;
  Kind kind() const { return kind_; }

  Tensor operator()(const Dims& shape, DType dtype, Fans fans) const;

 private:
  explicit Initializer(Kind kind) : kind_(kind) {}
  Kind kind_;
  double a_ = 0.0, b_ = 0.0;
  std::optional<uint64_t> seed_;
};

}  // namespace tenflowers::nn
