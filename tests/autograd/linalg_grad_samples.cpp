// Gradient samples for matmul (every NumPy operand-rank case, broadcast batches) and the
// softmax family with its gradient ops (several axes, negative ones included).
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

// One sample per pair of operand shapes, each with fresh random inputs and layouts.
SampleFn matmul_samples(std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes) {
  return [shapes](Rng& rng) {
    std::vector<OpSample> samples;
    for (const auto& [a, b] : shapes)
      samples.push_back(OpSample{{random_input(rng, a), random_input(rng, b)}, {}});
    return samples;
  };
}

// `arity` inputs of one shape (the gradient ops take y and dy), over several ranks, the op
// taken along each axis once (positive or negative index).
SampleFn softmax_samples(int arity) {
  return [arity](Rng& rng) {
    std::vector<OpSample> samples;
    auto add = [&](const std::vector<int64_t>& shape, int64_t axis) {
      std::vector<Tensor> inputs;
      for (int k = 0; k < arity; ++k) inputs.push_back(random_input(rng, shape));
      samples.push_back(OpSample{inputs, Attrs{{"axis", axis}}});
    };
    add({}, -1);
    add({5}, 0);
    for (int64_t axis = -2; axis < 2; ++axis) add({3, 4}, axis);
    for (int64_t axis = 0; axis < 3; ++axis) add({2, 3, 4}, rng.integer(0, 1) ? axis : axis - 3);
    return samples;
  };
}

}  // namespace

void register_linalg_grad_samples(SampleRegistry& r) {
  r.add("matmul", matmul_samples({
                      {{3, 4}, {4, 2}},           // matrix @ matrix
                      {{4}, {4, 3}},              // vector @ matrix
                      {{3, 4}, {4}},              // matrix @ vector
                      {{5}, {5}},                 // dot product
                      {{2, 1, 2, 3}, {3, 3, 2}},  // broadcast batches on both sides
                      {{2, 3, 2}, {2, 4}},        // batched @ matrix
                      {{3}, {2, 3, 2}},           // vector @ batched
                      {{2, 2, 3}, {3}},           // batched @ vector
                  }));
  r.add("softmax", softmax_samples(1));
  r.add("log_softmax", softmax_samples(1));
  r.add("softmax_grad", softmax_samples(2));
  r.add("log_softmax_grad", softmax_samples(2));
}

}  // namespace tenflowers::testing
