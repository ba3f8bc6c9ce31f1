// Gradient samples for views, copies and the as_strided pair.
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

std::vector<int64_t> small_shape(Rng& rng, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(1, 4);
  return shape;
}

// Samples of one op with `rounds` random inputs each built by make(rng).
SampleFn repeat(int rounds, std::function<OpSample(Rng&)> make) {
  return [rounds, make](Rng& rng) {
    std::vector<OpSample> samples;
    for (int i = 0; i < rounds; ++i) samples.push_back(make(rng));
    return samples;
  };
}

}  // namespace

void register_view_grad_samples(SampleRegistry& r) {
  r.add("reshape_view", repeat(3, [](Rng& rng) {
          Tensor x = random_tensor(rng, small_shape(rng, 3), DType::F64, -2, 2);
          return OpSample{{x}, Attrs{{"shape", std::vector<int64_t>{x.numel()}}}};
        }));
  r.add("permute", repeat(3, [](Rng& rng) {
          return OpSample{{random_input(rng, small_shape(rng, 3))},
                          Attrs{{"axes", std::vector<int64_t>{2, 0, 1}}}};
        }));
  r.add("slice", repeat(4, [](Rng& rng) {
          Tensor x = random_input(rng, {rng.integer(3, 6), rng.integer(1, 3)});
          const int64_t step = rng.integer(0, 1) ? rng.integer(1, 2) : -rng.integer(1, 2);
          return OpSample{{x},
                          Attrs{{"axis", int64_t{0}},
                                {"start", rng.integer(-2, 1)},
                                {"stop", rng.integer(-6, 6)},
                                {"step", step}}};
        }));
  r.add("split", repeat(3, [](Rng& rng) {
          Tensor x = random_input(rng, {rng.integer(2, 5), rng.integer(4, 7)});
          const int64_t first = rng.integer(0, 2);
          return OpSample{{x},
                          Attrs{{"axis", int64_t{-1}},
                                {"sizes", std::vector<int64_t>{first, 1, x.size(1) - first - 1}}}};
        }));
  r.add("select", repeat(3, [](Rng& rng) {
          Tensor x = random_input(rng, small_shape(rng, 3));
          const int64_t axis = rng.integer(0, 2);
          return OpSample{{x},
                          Attrs{{"axis", axis}, {"index", -1 - rng.integer(0, x.size(axis) - 1)}}};
        }));
  r.add("expand", repeat(3, [](Rng& rng) {
          return OpSample{{random_input(rng, {3, 1})},
                          Attrs{{"shape", std::vector<int64_t>{2, 3, 4}}}};
        }));
  r.add("squeeze", repeat(2, [](Rng& rng) {
          return OpSample{{random_input(rng, {2, 1, 3})}, Attrs{{"axes", std::vector<int64_t>{1}}}};
        }));
  r.add("unsqueeze", repeat(2, [](Rng& rng) {
          return OpSample{{random_input(rng, small_shape(rng, 2))},
                          Attrs{{"axis", rng.integer(-3, 2)}}};
        }));
  r.add("diagonal", repeat(3, [](Rng& rng) {
          return OpSample{
              {random_input(rng, {rng.integer(2, 4), rng.integer(2, 4), 2})},
              Attrs{{"offset", rng.integer(-1, 1)}, {"axis0", int64_t{0}}, {"axis1", int64_t{1}}}};
        }));
  r.add("as_strided", repeat(2, [](Rng& rng) {
          // Every second column of a 4x6 matrix, as a 4x3 window.
          return OpSample{{random_input(rng, {4, 6})},
                          Attrs{{"shape", std::vector<int64_t>{4, 3}},
                                {"strides", std::vector<int64_t>{6, 2}},
                                {"offset", rng.integer(0, 1)}}};
        }));
  r.add("as_strided_scatter", repeat(2, [](Rng& rng) {
          return OpSample{{random_input(rng, {3, 2})},
                          Attrs{{"base_shape", std::vector<int64_t>{4, 5}},
                                {"strides", std::vector<int64_t>{5, 2}},
                                {"offset", rng.integer(0, 5)}}};
        }));
  r.add("copy", repeat(2, [](Rng& rng) {
          return OpSample{{random_input(rng, small_shape(rng, 2))}, {}};
        }));
  r.add("cast", repeat(2, [](Rng& rng) {
          return OpSample{{random_input(rng, small_shape(rng, 2))}, Attrs{{"dtype", DType::F64}}};
        }));
  r.add(
      "to_device", repeat(1, [](Rng& rng) {
        return OpSample{{random_input(rng, small_shape(rng, 2))}, Attrs{{"device", Device::cpu()}}};
      }));
}

}  // namespace tenflowers::testing
