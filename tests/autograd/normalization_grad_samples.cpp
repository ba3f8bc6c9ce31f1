// Gradient samples for layer_norm (one and two normalized axes, every combination of gamma and
// beta; cotangents reach its mean and rstd outputs too) and layer_norm_backward, whose mean and
// rstd are inputs of their own here (any values: its formula is defined for all of them).
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

struct Case {
  std::vector<int64_t> shape;
  int64_t axis;
};

// The normalized axes' shape and the statistics' shape of a case.
std::vector<int64_t> normalized_of(const Case& c) {
  const auto rank = static_cast<int64_t>(c.shape.size());
  const int64_t axis = c.axis < 0 ? c.axis + rank : c.axis;
  return std::vector<int64_t>(c.shape.begin() + axis, c.shape.end());
}

std::vector<int64_t> stats_of(const Case& c) {
  std::vector<int64_t> s = c.shape;
  const auto rank = static_cast<int64_t>(s.size());
  for (int64_t d = c.axis < 0 ? c.axis + rank : c.axis; d < rank; ++d) s[d] = 1;
  return s;
}

const Case kCases[] = {{{5}, 0}, {{3, 4}, -1}, {{2, 3, 4}, 1}, {{2, 3, 4}, -1}};

std::vector<OpSample> layer_norm_samples(Rng& rng) {
  std::vector<OpSample> samples;
  for (int combo = 0; combo < 4; ++combo) {
    const Case& c = kCases[combo];
    const bool scale = combo % 2 == 0, center = combo < 2;
    std::vector<Tensor> inputs{random_input(rng, c.shape)};
    if (scale) inputs.push_back(random_input(rng, normalized_of(c)));
    if (center) inputs.push_back(random_input(rng, normalized_of(c)));
    samples.push_back(OpSample{
        inputs, Attrs{{"axis", c.axis}, {"epsilon", 1e-3}, {"scale", scale}, {"center", center}}});
  }
  return samples;
}

std::vector<OpSample> layer_norm_backward_samples(Rng& rng) {
  std::vector<OpSample> samples;
  for (int combo = 0; combo < 4; ++combo) {
    const Case& c = kCases[3 - combo];
    const bool scale = combo % 2 == 0, param_grads = combo < 2;
    std::vector<Tensor> inputs{random_input(rng, c.shape), random_input(rng, c.shape),
                               random_input(rng, stats_of(c), -1, 1),
                               random_input(rng, stats_of(c), 0.5, 2)};
    if (scale) inputs.push_back(random_input(rng, normalized_of(c)));
    samples.push_back(
        OpSample{inputs, Attrs{{"axis", c.axis}, {"scale", scale}, {"param_grads", param_grads}}});
  }
  return samples;
}

}  // namespace

void register_normalization_grad_samples(SampleRegistry& r) {
  r.add("layer_norm", layer_norm_samples);
  r.add("layer_norm_backward", layer_norm_backward_samples);
}

}  // namespace tenflowers::testing
