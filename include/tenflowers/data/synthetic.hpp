#pragma once
// Synthetic datasets for tests, examples and benchmarks, in the manner of scikit-learn's
// make_blobs / make_regression and the classic two-spirals problem. Each is a pure function of
// its arguments: the same seed gives the same tensors (they are built from the Philox random
// ops with seeds derived from `seed`).
#include <cstdint>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::data {

struct Classification {
  Tensor features;  // [samples, features]
  Tensor labels;    // i64 [samples], in [0, classes)
  Tensor centers;   // [classes, features] (blobs only)
};

struct Regression {
  Tensor features;  // [samples, features], standard normal
  Tensor targets;   // [samples] = features @ weights + bias + noise * N(0, 1)
  Tensor weights;   // [features], standard normal
  Tensor bias;      // 0-d, standard normal
};

// Gaussian blobs: class centers uniform in [-center_box, center_box]^features, each sample its
// center plus N(0, cluster_std^2) per feature. Classes are balanced (sample i of a random
// permutation gets class i mod classes). samples >= 0, features >= 1, classes >= 1,
// cluster_std >= 0, center_box > 0 (InvalidArgument otherwise); dtype floating.
Classification make_blobs(int64_t samples, int64_t features, int64_t classes, uint64_t seed,
                          double cluster_std = 1.0, double center_box = 10.0,
                          DType dtype = DType::F32);

// Linear regression data. samples >= 0, features >= 1, noise >= 0; dtype floating.
Regression make_regression(int64_t samples, int64_t features, uint64_t seed, double noise = 0.1,
                           DType dtype = DType::F32);

// Two interleaved spirals in the plane, classes 0 and 1 (samples / 2 each; the odd one in class
// 0): angle t = turns * 2 pi * sqrt(u) for u uniform, class 0 at t (cos t, sin t) / (2 pi),
// class 1 the same point mirrored through the origin, plus N(0, noise^2) per coordinate.
// samples >= 0, turns > 0, noise >= 0; dtype floating. No centers.
Classification make_spirals(int64_t samples, uint64_t seed, double noise = 0.1, double turns = 1.5,
                            DType dtype = DType::F32);

}  // namespace tenflowers::data
