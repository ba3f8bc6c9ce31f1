// Gradient samples for the indexing ops. Indices are random over the whole valid range,
// negative ones included, so duplicates occur (scatter's last write wins; scatter_add and the
// gradients of gather, take and index_select accumulate them).
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

// Indices in [-extent, extent), i32 or i64, in a random layout.
Tensor index_tensor(Rng& rng, std::vector<int64_t> shape, int64_t extent) {
  const DType dtype = rng.integer(0, 1) ? DType::I64 : DType::I32;
  return random_tensor(rng, std::move(shape), dtype, static_cast<double>(-extent),
                       static_cast<double>(extent - 1), random_layout(rng));
}

std::vector<int64_t> small_shape(Rng& rng, int64_t rank) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(1, 4);
  return shape;
}

// An index shape for gather/scatter along `axis` of x: at most x's extents off the axis.
std::vector<int64_t> index_shape_within(Rng& rng, const std::vector<int64_t>& x, int64_t axis) {
  std::vector<int64_t> shape = x;
  for (size_t d = 0; d < shape.size(); ++d) {
    shape[d] = static_cast<int64_t>(d) == axis ? rng.integer(1, 4) : rng.integer(1, x[d]);
  }
  return shape;
}

SampleFn repeat(int rounds, std::function<OpSample(Rng&)> make) {
  return [rounds, make](Rng& rng) {
    std::vector<OpSample> samples;
    for (int i = 0; i < rounds; ++i) samples.push_back(make(rng));
    return samples;
  };
}

// scatter and scatter_add: src at least as large as index, sometimes larger.
OpSample scatter_sample(Rng& rng) {
  const int64_t rank = rng.integer(1, 3);
  const std::vector<int64_t> x_shape = small_shape(rng, rank);
  const int64_t axis = rng.integer(0, rank - 1);
  const std::vector<int64_t> index_shape = index_shape_within(rng, x_shape, axis);
  std::vector<int64_t> src_shape = index_shape;
  for (auto& d : src_shape) d += rng.integer(0, 1);
  const int64_t attr_axis = rng.integer(0, 1) ? axis : axis - rank;
  return OpSample{
      {random_input(rng, x_shape), index_tensor(rng, index_shape, x_shape[size_t(axis)]),
       random_input(rng, src_shape)},
      Attrs{{"axis", attr_axis}}};
}

}  // namespace

void register_index_grad_samples(SampleRegistry& r) {
  r.add("gather", repeat(4, [](Rng& rng) {
          const int64_t rank = rng.integer(1, 3);
          const std::vector<int64_t> x_shape = small_shape(rng, rank);
          const int64_t axis = rng.integer(0, rank - 1);
          const std::vector<int64_t> index_shape = index_shape_within(rng, x_shape, axis);
          const int64_t attr_axis = rng.integer(0, 1) ? axis : axis - rank;
          return OpSample{
              {random_input(rng, x_shape), index_tensor(rng, index_shape, x_shape[size_t(axis)])},
              Attrs{{"axis", attr_axis}}};
        }));
  r.add("scatter", repeat(4, scatter_sample));
  r.add("scatter_add", repeat(4, scatter_sample));
  r.add(
      "take", repeat(3, [](Rng& rng) {
        Tensor x = random_input(rng, small_shape(rng, rng.integer(0, 2)));
        return OpSample{{x, index_tensor(rng, small_shape(rng, rng.integer(0, 2)), x.numel())}, {}};
      }));
  r.add("index_select", repeat(4, [](Rng& rng) {
          Tensor x = random_input(rng, small_shape(rng, 3));
          const int64_t axis = rng.integer(-3, 2);
          const int64_t extent = x.size(axis);
          std::vector<int64_t> index_shape;
          if (rng.integer(0, 2) > 0) index_shape.push_back(rng.integer(1, 4));
          return OpSample{{x, index_tensor(rng, index_shape, extent)}, Attrs{{"axis", axis}}};
        }));
  r.add("masked_fill", repeat(3, [](Rng& rng) {
          const std::vector<int64_t> masks[] = {{3, 4}, {4}, {3, 1}};
          return OpSample{
              {random_input(rng, {3, 4}),
               random_tensor(rng, masks[rng.integer(0, 2)], DType::Bool, 0, 1, random_layout(rng))},
              Attrs{{"value", rng.uniform(-2, 2)}}};
        }));
  r.add("masked_select", repeat(4, [](Rng& rng) {
          // x broadcast by the mask (its gradient sums), the mask broadcast by x, or equal shapes.
          const std::vector<int64_t> shapes[][2] = {
              {{3, 1}, {3, 4}}, {{3, 4}, {4}}, {{2, 3}, {2, 3}}, {{4}, {2, 1}}};
          const auto& pair = shapes[rng.integer(0, 3)];
          return OpSample{{random_input(rng, pair[0]),
                           random_tensor(rng, pair[1], DType::Bool, 0, 1, random_layout(rng))},
                          {}};
        }));
}

}  // namespace tenflowers::testing
