// Gradient samples for the convolutions, the pools and their gradient ops: tiny f64 images with
// strides, padding, dilation, groups and uneven leftovers; max-pool inputs have distinct values
// so no window ties within the finite-difference step.
#include <algorithm>
#include <numeric>

#include "src/core/ops/conv.hpp"
#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

// Values 0.1 apart in random order: every window has a clear maximum.
Tensor distinct_input(Rng& rng, const std::vector<int64_t>& shape) {
  std::vector<double> values(static_cast<size_t>(Dims(shape).numel()));
  std::iota(values.begin(), values.end(), 0.0);
  for (size_t i = values.size(); i > 1; --i) {
    std::swap(values[i - 1],
              values[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(i) - 1))]);
  }
  for (double& v : values) v = 0.1 * v - 1.0;
  return Tensor::from_vec(values, Dims(shape));
}

// Samples of one op with `rounds` random inputs each built by make(rng).
SampleFn repeat(int rounds, std::function<OpSample(Rng&)> make) {
  return [rounds, make](Rng& rng) {
    std::vector<OpSample> samples;
    for (int i = 0; i < rounds; ++i) samples.push_back(make(rng));
    return samples;
  };
}

struct ConvSetup {
  int64_t groups, group_in, group_out, kernel, stride, dilation, pad;
};

ConvSetup random_setup(Rng& rng) {
  ConvSetup s;
  s.groups = rng.integer(1, 2);
  s.group_in = s.groups == 2 ? 1 : 2;
  s.group_out = rng.integer(1, 2);
  s.kernel = rng.integer(2, 3);
  s.stride = rng.integer(1, 2);
  s.dilation = s.kernel == 2 ? rng.integer(1, 2) : 1;
  s.pad = rng.integer(0, 1);
  return s;
}

Attrs conv_attrs(const ConvSetup& s) {
  return Attrs{{"stride", std::vector<int64_t>{s.stride, s.stride}},
               {"pads", std::vector<int64_t>{s.pad, s.pad, s.pad, s.pad}},
               {"dilation", std::vector<int64_t>{s.dilation, s.dilation}},
               {"groups", s.groups}};
}

int64_t positions(int64_t in, const ConvSetup& s) {
  return conv::window_positions(in, 2 * s.pad, s.kernel, s.stride, s.dilation);
}

OpSample conv2d_sample(Rng& rng) {
  const ConvSetup s = random_setup(rng);
  const int64_t in = 4;
  std::vector<Tensor> inputs{
      random_input(rng, {2, s.groups * s.group_in, in, in}),
      random_input(rng, {s.groups * s.group_out, s.group_in, s.kernel, s.kernel})};
  if (rng.integer(0, 1)) inputs.push_back(random_input(rng, {s.groups * s.group_out}));
  return OpSample{inputs, conv_attrs(s)};
}

OpSample conv_transpose2d_sample(Rng& rng) {
  const ConvSetup s = random_setup(rng);
  const int64_t in = 3;
  Attrs attrs = conv_attrs(s);
  // The largest output_padding allowed: at least the stride when the dilation is larger.
  attrs.set("output_padding", std::vector<int64_t>{std::max(s.stride, s.dilation) - 1, 0});
  std::vector<Tensor> inputs{
      random_input(rng, {2, s.groups * s.group_in, in, in}),
      random_input(rng, {s.groups * s.group_in, s.group_out, s.kernel, s.kernel})};
  if (rng.integer(0, 1)) inputs.push_back(random_input(rng, {s.groups * s.group_out}));
  return OpSample{inputs, attrs};
}

OpSample conv2d_weight_grad_sample(Rng& rng) {
  const ConvSetup s = random_setup(rng);
  const int64_t in = 4;
  // Now and then dy covers fewer rows than fit, as conv_transpose2d's gradient produces.
  const int64_t rows = std::max<int64_t>(1, positions(in, s) - rng.integer(0, 1));
  Attrs attrs = conv_attrs(s);
  attrs.set("weight_shape",
            std::vector<int64_t>{s.groups * s.group_out, s.group_in, s.kernel, s.kernel});
  return OpSample{{random_input(rng, {2, s.groups * s.group_in, in, in}),
                   random_input(rng, {2, s.groups * s.group_out, rows, positions(in, s)})},
                  attrs};
}

struct PoolSetup {
  Attrs attrs;
  std::vector<int64_t> in_shape, out_shape;
};

PoolSetup random_pool(Rng& rng) {
  const int64_t kernel = rng.integer(2, 3);
  const int64_t stride = rng.integer(1, 2);
  const int64_t pad = rng.integer(0, kernel / 2);
  const int64_t in_h = rng.integer(3, 4), in_w = 4;
  const int64_t out_h = conv::window_positions(in_h, 2 * pad, kernel, stride, 1);
  const int64_t out_w = conv::window_positions(in_w, 2 * pad, kernel, stride, 1);
  return {Attrs{{"kernel", std::vector<int64_t>{kernel, kernel}},
                {"stride", std::vector<int64_t>{stride, stride}},
                {"pads", std::vector<int64_t>{pad, pad, pad, pad}}},
          {2, 2, in_h, in_w},
          {2, 2, out_h, out_w}};
}

}  // namespace

void register_conv_grad_samples(SampleRegistry& r) {
  r.add("conv2d", repeat(4, conv2d_sample));
  r.add("conv_transpose2d", repeat(4, conv_transpose2d_sample));
  r.add("conv2d_weight_grad", repeat(3, conv2d_weight_grad_sample));
  r.add("max_pool2d", repeat(3, [](Rng& rng) {
          PoolSetup p = random_pool(rng);
          return OpSample{{distinct_input(rng, p.in_shape)}, p.attrs};
        }));
  r.add(
      "max_pool2d_grad", repeat(2, [](Rng& rng) {
        PoolSetup p = random_pool(rng);
        return OpSample{{distinct_input(rng, p.in_shape), random_input(rng, p.out_shape)}, p.attrs};
      }));
  r.add(
      "max_pool2d_gather", repeat(2, [](Rng& rng) {
        PoolSetup p = random_pool(rng);
        return OpSample{{distinct_input(rng, p.in_shape), random_input(rng, p.in_shape)}, p.attrs};
      }));
  r.add("avg_pool2d", repeat(3, [](Rng& rng) {
          PoolSetup p = random_pool(rng);
          p.attrs.set("count_include_pad", rng.integer(0, 1) == 1);
          return OpSample{{random_input(rng, p.in_shape)}, p.attrs};
        }));
  r.add("avg_pool2d_grad", repeat(2, [](Rng& rng) {
          PoolSetup p = random_pool(rng);
          p.attrs.set("count_include_pad", rng.integer(0, 1) == 1);
          p.attrs.set("input_size", std::vector<int64_t>{p.in_shape[2], p.in_shape[3]});
          return OpSample{{random_input(rng, p.out_shape)}, p.attrs};
        }));
}

}  // namespace tenflowers::testing
