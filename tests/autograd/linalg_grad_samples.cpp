// Gradient samples for matmul (every NumPy operand-rank case, broadcast batches) and the
// softmax family (several axes, negative ones included).
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

Layout random_layout(Rng& rng) {
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  return layouts[rng.integer(0, 2)];
}

Tensor input(Rng& rng, std::vector<int64_t> shape) {
  return random_tensor(rng, std::move(shape), DType::F64, -2, 2, random_layout(rng));
}

// One sample per pair of operand shapes, each with fresh random inputs and layouts.
SampleFn matmul_samples(std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes) {
  return [shapes](Rng& rng) {
    std::vector<OpSample> samples;
    for (const auto& [a, b] : shapes)
      samples.push_back(OpSample{{input(rng, a), input(rng, b)}, {}});
    return samples;
  };
}

// Inputs of several ranks, softmax taken over each axis once (positive or negative index).
SampleFn softmax_samples() {
  return [](Rng& rng) {
    std::vector<OpSample> samples;
    samples.push_back(OpSample{{input(rng, {})}, Attrs{{"axis", int64_t{-1}}}});
    samples.push_back(OpSample{{input(rng, {5})}, Attrs{{"axis", int64_t{0}}}});
    for (int64_t axis = -2; axis < 2; ++axis) {
      samples.push_back(OpSample{{input(rng, {3, 4})}, Attrs{{"axis", axis}}});
    }
    for (int64_t axis = 0; axis < 3; ++axis) {
      const int64_t signed_axis = rng.integer(0, 1) ? axis : axis - 3;
      samples.push_back(OpSample{{input(rng, {2, 3, 4})}, Attrs{{"axis", signed_axis}}});
    }
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
  r.add("softmax", softmax_samples());
  r.add("log_softmax", softmax_samples());
}

}  // namespace tenflowers::testing
