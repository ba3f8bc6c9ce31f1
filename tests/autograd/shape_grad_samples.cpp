// Gradient samples for the joining and rearranging ops with kernels: concat, pad, sort, topk,
// cumsum and cumprod.
#include <algorithm>

#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

std::vector<int64_t> small_shape(Rng& rng, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(1, 4);
  return shape;
}

// Values at least 0.1 apart in a random order, so that no finite-difference step reorders them
// (sort and topk are not differentiable at ties). Laid out like random_tensor's layouts.
Tensor distinct_input(Rng& rng, const std::vector<int64_t>& shape) {
  const Layout layout = random_layout(rng);
  std::vector<int64_t> stored = shape;
  if (layout == Layout::Transposed) std::reverse(stored.begin(), stored.end());
  if (layout == Layout::Strided && !stored.empty()) stored.back() *= 2;
  Ref values(stored);
  for (size_t i = 0; i < values.data.size(); ++i) {
    values.data[i] = 0.2 * static_cast<double>(i) + rng.uniform(0.0, 0.1) - 2.0;
  }
  std::shuffle(values.data.begin(), values.data.end(), rng.engine());
  Tensor t = from_ref(values, DType::F64);
  if (layout == Layout::Transposed) {
    Dims reversed_axes;
    for (int64_t a = t.rank() - 1; a >= 0; --a) reversed_axes.push_back(a);
    return t.permute(reversed_axes);
  }
  if (layout == Layout::Strided && t.rank() > 0) return t.slice(-1, {}, {}, 2);
  return t;
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

void register_shape_grad_samples(SampleRegistry& r) {
  r.add("concat", repeat(4, [](Rng& rng) {
          const int64_t axis = rng.integer(-2, 1);
          std::vector<int64_t> shape = small_shape(rng, 2);
          std::vector<Tensor> parts;
          const int64_t count = rng.integer(1, 3);
          for (int64_t i = 0; i < count; ++i) {
            shape[static_cast<size_t>(axis < 0 ? axis + 2 : axis)] = rng.integer(1, 3);
            parts.push_back(random_input(rng, shape));
          }
          return OpSample{parts, Attrs{{"axis", axis}}};
        }));
  r.add("pad", repeat(6, [](Rng& rng) {
          const bool reflect = rng.integer(0, 1) == 1;
          std::vector<int64_t> shape{rng.integer(2, 4), rng.integer(3, 4)};
          std::vector<int64_t> pads;
          for (int64_t extent : shape) {
            for (int side = 0; side < 2; ++side) {
              pads.push_back(reflect ? rng.integer(0, extent - 1) : rng.integer(-1, 2));
            }
          }
          return OpSample{{random_input(rng, shape)},
                          Attrs{{"pads", pads},
                                {"mode", std::string(reflect ? "reflect" : "constant")},
                                {"value", rng.uniform(-1, 1)}}};
        }));
  r.add("sort", repeat(4, [](Rng& rng) {
          return OpSample{
              {distinct_input(rng, small_shape(rng, 2))},
              Attrs{{"axis", rng.integer(-2, 1)}, {"descending", rng.integer(0, 1) == 1}}};
        }));
  r.add("topk", repeat(4, [](Rng& rng) {
          Tensor x = distinct_input(rng, {rng.integer(2, 4), rng.integer(2, 4)});
          const int64_t axis = rng.integer(-2, 1);
          return OpSample{{x},
                          Attrs{{"k", rng.integer(1, x.size(axis))},
                                {"axis", axis},
                                {"largest", rng.integer(0, 1) == 1}}};
        }));
  r.add("cumsum", repeat(3, [](Rng& rng) {
          return OpSample{{random_input(rng, small_shape(rng, 3))},
                          Attrs{{"axis", rng.integer(-3, 2)}}};
        }));
  // Away from zero, where the rule divides by x; both signs.
  r.add("cumprod", repeat(4, [](Rng& rng) {
          const double lo = rng.integer(0, 1) ? 0.5 : -1.5;
          return OpSample{{random_input(rng, small_shape(rng, 3), lo, lo + 1.0)},
                          Attrs{{"axis", rng.integer(-3, 2)}}};
        }));
}

}  // namespace tenflowers::testing
