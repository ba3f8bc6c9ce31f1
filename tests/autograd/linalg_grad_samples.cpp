// Gradient samples for matmul (every NumPy operand-rank case, broadcast batches) and the
// softmax family with its gradient ops (several axes, negative ones included).
#include <cmath>
#include <string>

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

// linear over several input ranks, with and without a bias. With relu, the bias keeps every
// pre-activation at least 0.1 from relu's kink, so that central differences see one side.
SampleFn linear_samples() {
  return [](Rng& rng) {
    std::vector<OpSample> samples;
    const std::vector<std::pair<std::vector<int64_t>, int64_t>> shapes = {
        {{3, 4}, 2}, {{2, 2, 3}, 4}, {{5}, 3}};
    for (const auto& [xs, out] : shapes) {
      for (const char* activation : {"linear", "relu"}) {
        const bool relu = std::string(activation) == "relu";
        const bool with_bias = relu || rng.integer(0, 1) == 1;
        Tensor x = random_input(rng, xs);
        Tensor w = random_input(rng, {xs.back(), out});
        std::vector<Tensor> inputs{x, w};
        if (with_bias) {
          const Tensor z = matmul(x, w).reshape({-1, out}).contiguous();
          const double* zs = z.data<double>();
          std::vector<double> bias(static_cast<size_t>(out));
          for (int64_t j = 0; j < out; ++j) {
            auto clear = [&](double b) {
              for (int64_t i = 0; i < z.size(0); ++i) {
                if (std::abs(zs[i * out + j] + b) < 0.1) return false;
              }
              return true;
            };
            do {
              bias[static_cast<size_t>(j)] = rng.uniform(-2, 2);
            } while (relu && !clear(bias[static_cast<size_t>(j)]));
          }
          inputs.push_back(Tensor::from_vec(bias, {out}));
        }
        samples.push_back(
            OpSample{inputs, Attrs{{"bias", with_bias}, {"activation", std::string(activation)}}});
      }
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
  r.add("linear", linear_samples());
  r.add("softmax", softmax_samples(1));
  r.add("log_softmax", softmax_samples(1));
  r.add("softmax_grad", softmax_samples(2));
  r.add("log_softmax_grad", softmax_samples(2));
}

}  // namespace tenflowers::testing
