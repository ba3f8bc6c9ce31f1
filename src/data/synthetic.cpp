// Synthetic datasets composed of registered ops (uniform, normal, permutation, index_select).
#include "tenflowers/data/synthetic.hpp"

#include <numbers>

#include "src/data/seed.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::data {
namespace {

// The seed of the k-th random tensor of a generator.
uint64_t part_seed(uint64_t seed, uint64_t k) {
  return detail::derive_seed(seed, detail::SeedStream::Synthetic, k);
}

void check_common(const char* who, int64_t samples, DType dtype) {
  TF_CHECK(samples >= 0, InvalidArgument, who, ": samples must be at least 0, got ", samples);
  TF_CHECK(is_floating(dtype), InvalidArgument, who, ": dtype must be floating, got ",
           dtype_name(dtype));
}

// Balanced labels 0, 1, ..., classes - 1, 0, 1, ... in a random order.
Tensor balanced_labels(int64_t samples, int64_t classes, uint64_t seed) {
  const Tensor cycle = mod(arange(samples), Tensor::from_scalar<int64_t>(classes));
  return index_select(cycle, 0, permutation(samples, seed));
}

}  // namespace

Classification make_blobs(int64_t samples, int64_t features, int64_t classes, uint64_t seed,
                          double cluster_std, double center_box, DType dtype) {
  check_common("make_blobs", samples, dtype);
  TF_CHECK(features >= 1 && classes >= 1, InvalidArgument,
           "make_blobs: features and classes must be at least 1, got ", features, " and ", classes);
  TF_CHECK(cluster_std >= 0 && center_box > 0, InvalidArgument,
           "make_blobs: cluster_std must be >= 0 and center_box > 0, got ", cluster_std, " and ",
           center_box);
  Classification out;
  out.centers = uniform({classes, features}, -center_box, center_box, dtype, part_seed(seed, 0));
  out.labels = balanced_labels(samples, classes, part_seed(seed, 1));
  const Tensor spread = normal({samples, features}, 0.0, cluster_std, dtype, part_seed(seed, 2));
  out.features = index_select(out.centers, 0, out.labels) + spread;
  return out;
}

Regression make_regression(int64_t samples, int64_t features, uint64_t seed, double noise,
                           DType dtype) {
  check_common("make_regression", samples, dtype);
  TF_CHECK(features >= 1, InvalidArgument, "make_regression: features must be at least 1, got ",
           features);
  TF_CHECK(noise >= 0, InvalidArgument, "make_regression: noise must be >= 0, got ", noise);
  Regression out;
  out.features = normal({samples, features}, 0.0, 1.0, dtype, part_seed(seed, 0));
  out.weights = normal({features}, 0.0, 1.0, dtype, part_seed(seed, 1));
  out.bias = normal({}, 0.0, 1.0, dtype, part_seed(seed, 2));
  const Tensor noise_term = normal({samples}, 0.0, noise, dtype, part_seed(seed, 3));
  out.targets = matmul(out.features, out.weights) + out.bias + noise_term;
  return out;
}

Classification make_spirals(int64_t samples, uint64_t seed, double noise, double turns,
                            DType dtype) {
  check_common("make_spirals", samples, dtype);
  TF_CHECK(turns > 0 && noise >= 0, InvalidArgument,
           "make_spirals: turns must be > 0 and noise >= 0, got ", turns, " and ", noise);
  constexpr double kTwoPi = 2 * std::numbers::pi;
  const Tensor angle =
      sqrt(uniform({samples}, 0.0, 1.0, dtype, part_seed(seed, 0))) * (turns * kTwoPi);
  const Tensor radius = angle / kTwoPi;
  Classification out;
  out.labels = balanced_labels(samples, 2, part_seed(seed, 1));
  // Class 1 mirrors class 0 through the origin: sign = 1 - 2 * label.
  const Tensor sign = 1.0 - 2.0 * out.labels.cast(dtype);
  const Tensor points = stack({radius * cos(angle) * sign, radius * sin(angle) * sign}, 1);
  out.features = points + normal({samples, 2}, 0.0, noise, dtype, part_seed(seed, 2));
  return out;
}

}  // namespace tenflowers::data
