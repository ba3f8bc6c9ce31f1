// Gradient samples for batch_norm, batch_norm_inference and batch_norm_grad: small f64 inputs
// with NCHW, [N, C], channels-last and leading channel axes, in every layout. Every output gets
// a random cotangent, so the gradients flowing in through batch_norm's mean and var are checked
// too; batch_norm_grad's mean and var are free inputs (any values, var positive).
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

struct Shape {
  std::vector<int64_t> shape;
  int64_t axis;
};

const Shape kShapes[] = {{{2, 3, 2, 2}, 1}, {{5, 2}, 1}, {{2, 2, 3}, -1}, {{3, 4}, 0}};

int64_t channels_of(const Shape& s) {
  const auto rank = static_cast<int64_t>(s.shape.size());
  return s.shape[static_cast<size_t>(s.axis < 0 ? s.axis + rank : s.axis)];
}

Attrs attrs_of(Rng& rng, const Shape& s) {
  return Attrs{{"axis", s.axis}, {"epsilon", rng.uniform(1e-3, 1e-1)}};
}

// One sample per shape; `operands` makes the inputs after x.
SampleFn samples(std::function<std::vector<Tensor>(Rng&, const Shape&, int64_t)> operands) {
  return [operands](Rng& rng) {
    std::vector<OpSample> out;
    for (const Shape& s : kShapes) {
      std::vector<Tensor> inputs = operands(rng, s, channels_of(s));
      out.push_back(OpSample{inputs, attrs_of(rng, s)});
    }
    return out;
  };
}

}  // namespace

void register_batch_norm_grad_samples(SampleRegistry& r) {
  r.add("batch_norm", samples([](Rng& rng, const Shape& s, int64_t c) {
          return std::vector<Tensor>{random_input(rng, s.shape), random_input(rng, {c}),
                                     random_input(rng, {c})};
        }));
  r.add("batch_norm_inference", samples([](Rng& rng, const Shape& s, int64_t c) {
          return std::vector<Tensor>{random_input(rng, s.shape), random_input(rng, {c}),
                                     random_input(rng, {c}), random_input(rng, {c}, -1, 1),
                                     random_input(rng, {c}, 0.5, 2)};
        }));
  r.add("batch_norm_grad", samples([](Rng& rng, const Shape& s, int64_t c) {
          return std::vector<Tensor>{random_input(rng, s.shape), random_input(rng, s.shape, -1, 1),
                                     random_input(rng, {c}), random_input(rng, {c}, -0.5, 0.5),
                                     random_input(rng, {c}, 0.5, 2)};
        }));
}

}  // namespace tenflowers::testing
