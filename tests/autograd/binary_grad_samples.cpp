// Gradient samples for the elementwise ops of two or three inputs: broadcast shapes, strided
// layouts, mixed dtypes (an integer exponent), values kept away from ties and jumps.
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

// The values of a computed tensor `x` in a random layout (views over a reordered copy), so that
// derived inputs are strided too.
Tensor in_random_layout(Rng& rng, const Tensor& x) {
  switch (random_layout(rng)) {
    case Layout::Transposed: {
      if (x.rank() < 2) return x;
      std::vector<int64_t> reversed;
      for (int64_t axis = x.rank() - 1; axis >= 0; --axis) reversed.push_back(axis);
      return x.permute(Dims(reversed)).contiguous().permute(Dims(reversed));
    }
    case Layout::Strided: {
      std::vector<int64_t> doubled = x.shape().vec();
      doubled.push_back(2);
      return x.unsqueeze(-1).expand(Dims(doubled)).contiguous().select(-1, 0);
    }
    case Layout::Contiguous:
      break;
  }
  return x;
}

// Integers plus `offset` in [lo, hi): two such grids with offsets differing by 0.5 never tie.
Tensor on_grid(Rng& rng, std::vector<int64_t> shape, double offset, double lo = -3, double hi = 3) {
  return in_random_layout(rng,
                          floor(random_tensor(rng, std::move(shape), DType::F64, lo, hi)) + offset);
}

struct ShapePair {
  std::vector<int64_t> a, b;
};

// Equal shapes, two-sided broadcasting, a rank difference and a 0-d operand.
ShapePair shape_pair(Rng& rng) {
  const ShapePair pairs[] = {
      {{2, 3}, {2, 3}},    {{3, 1}, {4}}, {{4}, {3, 1}},
      {{2, 3, 2}, {3, 1}}, {{}, {2, 3}},  {{3, 2}, {}},
  };
  return pairs[rng.integer(0, 5)];
}

// Samples of one op with `rounds` random inputs each built by make(rng).
SampleFn repeat(int rounds, std::function<OpSample(Rng&)> make) {
  return [rounds, make](Rng& rng) {
    std::vector<OpSample> samples;
    for (int i = 0; i < rounds; ++i) samples.push_back(make(rng));
    return samples;
  };
}

OpSample smooth_pair(Rng& rng) {
  const ShapePair s = shape_pair(rng);
  return OpSample{{random_input(rng, s.a), random_input(rng, s.b)}, {}};
}

// b kept at least 0.5 away from 0.
OpSample nonzero_divisor(Rng& rng) {
  const ShapePair s = shape_pair(rng);
  return OpSample{{random_input(rng, s.a), on_grid(rng, s.b, 0.5)}, {}};
}

// Grids offset by 0.5 so that the operands never tie.
OpSample untied_pair(Rng& rng) {
  const ShapePair s = shape_pair(rng);
  const bool a_on_half = rng.integer(0, 1) == 1;
  return OpSample{
      {on_grid(rng, s.a, a_on_half ? 0.5 : 0.0), on_grid(rng, s.b, a_on_half ? 0.0 : 0.5)}, {}};
}

}  // namespace

void register_binary_grad_samples(SampleRegistry& r) {
  r.add("add", repeat(4, smooth_pair));
  r.add("sub", repeat(4, smooth_pair));
  r.add("mul", repeat(4, smooth_pair));
  r.add("div", repeat(4, nonzero_divisor));
  r.add("pow", [](Rng& rng) {
    std::vector<OpSample> samples;
    for (int i = 0; i < 3; ++i) {
      // A positive base, so that a^b is smooth in both operands.
      const ShapePair s = shape_pair(rng);
      samples.push_back({{random_input(rng, s.a, 0.5, 2), random_input(rng, s.b, -2, 2)}, {}});
    }
    // Any base with an integer exponent tensor (which gets no gradient).
    samples.push_back(
        {{random_input(rng, {3, 2}, -2, 2), random_tensor(rng, {2}, DType::I64, 0, 4)}, {}});
    // An integer base (no gradient) with a float exponent.
    samples.push_back({{random_tensor(rng, {4}, DType::I64, 1, 4), random_input(rng, {3, 1})}, {}});
    return samples;
  });
  r.add("maximum", repeat(4, untied_pair));
  r.add("minimum", repeat(4, untied_pair));
  // a = b q with q at least 0.2 away from an integer, so a / b is never near a jump of mod.
  r.add("mod", repeat(4, [](Rng& rng) {
          const Tensor b = on_grid(rng, {rng.integer(1, 3)}, 0.5, -2, 2);
          const Tensor fraction = random_tensor(rng, {3, b.size(0)}, DType::F64, 0.2, 0.8);
          const Tensor q = floor(random_tensor(rng, {3, b.size(0)}, DType::F64, -3, 3)) + fraction;
          return OpSample{{in_random_layout(rng, b * q), b}, {}};
        }));
  // y kept 0.5 away from 0: away from the branch cut along the negative x axis and the origin.
  r.add("atan2", repeat(4, [](Rng& rng) {
          const ShapePair s = shape_pair(rng);
          return OpSample{{on_grid(rng, s.a, 0.5), random_input(rng, s.b)}, {}};
        }));
  // x kept 0.5 away from ReLU's kink at 0, where the derivative in x jumps.
  r.add("relu_grad", repeat(4, [](Rng& rng) {
          const ShapePair s = shape_pair(rng);
          return OpSample{{on_grid(rng, s.a, 0.5), random_input(rng, s.b)}, {}};
        }));
  r.add("where", repeat(4, [](Rng& rng) {
          // Each operand broadcast in turn: (condition, a, b) shapes.
          const std::vector<int64_t> shapes[][3] = {{{3, 1}, {4}, {3, 4}},
                                                    {{3, 4}, {3, 1}, {}},
                                                    {{4}, {3, 4}, {3, 1}},
                                                    {{2, 3}, {2, 3}, {2, 3}}};
          const auto& s = shapes[rng.integer(0, 3)];
          return OpSample{{random_tensor(rng, s[0], DType::Bool), random_input(rng, s[1]),
                           random_input(rng, s[2])},
                          {}};
        }));
  // x on a quarter grid, never on the integer bounds.
  r.add("clamp", [](Rng& rng) {
    std::vector<OpSample> samples;
    const Attrs bounds[] = {Attrs{{"min", -1.0}, {"max", 1.0}}, Attrs{{"min", 0.0}},
                            Attrs{{"max", -1.0}}};
    for (const Attrs& attrs : bounds) {
      samples.push_back({{on_grid(rng, {rng.integer(1, 4), rng.integer(2, 4)}, 0.25)}, attrs});
    }
    return samples;
  });
}

}  // namespace tenflowers::testing
