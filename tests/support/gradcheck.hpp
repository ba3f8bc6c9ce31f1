#pragma once
// Gradient conformance: every differentiable op's reverse-mode gradient and forward-mode JVP
// are compared with central finite differences in float64, on sample calls that each op family
// provides (fresh random inputs of several shapes, broadcast and strided views included).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/support/reference.hpp"

namespace tenflowers::testing {

// One call of an op: its inputs (float inputs are cast to f64 by the checker) and attributes.
struct OpSample {
  std::vector<Tensor> inputs;
  Attrs attrs;
};
using SampleFn = std::function<std::vector<OpSample>(Rng& rng)>;

class SampleRegistry {
 public:
  void add(const std::string& op, SampleFn samples);
  const std::map<std::string, SampleFn>& samples() const { return samples_; }

 private:
  std::map<std::string, SampleFn> samples_;
};

SampleRegistry& gradient_samples();  // every family registered

// One per op family, in tests/autograd/<family>_grad_samples.cpp.
void register_view_grad_samples(SampleRegistry& r);
void register_unary_grad_samples(SampleRegistry& r);
void register_binary_grad_samples(SampleRegistry& r);
void register_reduction_grad_samples(SampleRegistry& r);
void register_linalg_grad_samples(SampleRegistry& r);
void register_conv_grad_samples(SampleRegistry& r);
void register_index_grad_samples(SampleRegistry& r);
void register_shape_grad_samples(SampleRegistry& r);
void register_fused_grad_samples(SampleRegistry& r);
void register_normalization_grad_samples(SampleRegistry& r);
void register_batch_norm_grad_samples(SampleRegistry& r);

// Checks the op's gradient (vector-Jacobian product with a random cotangent) and JVP (with a
// random tangent) against central differences on `device`.
void check_gradients(const OpDef& op, const OpSample& sample, Rng& rng, Device device);

// One of the layouts random_tensor makes, drawn at random.
Layout random_layout(Rng& rng);
// An f64 input of a gradient sample: values in [lo, hi], in a random layout.
Tensor random_input(Rng& rng, std::vector<int64_t> shape, double lo = -2, double hi = 2);

}  // namespace tenflowers::testing
