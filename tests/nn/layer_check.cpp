#include "tests/nn/layer_check.hpp"

#include <gtest/gtest.h>

#include "tenflowers/autograd/gradient_tape.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::testing {
namespace {

// The step and tolerance of the op-level gradient harness (tests/support/gradcheck.cpp).
constexpr double kStep = 1e-6;
const Tolerance kFdTolerance{1e-5, 1e-6};

double objective(nn::Layer& layer, const std::vector<Tensor>& inputs, const Tensor& cotangent) {
  return sum(layer.call(inputs) * cotangent).item<double>();
}

// Central differences of f with respect to every element of `values` (f64, contiguous), which
// f reads through `set` after each change.
Tensor numeric_gradient(Tensor values, const std::function<void(const Tensor&)>& set,
                        const std::function<double()>& f) {
  Ref grad(values.shape().vec());
  for (int64_t i = 0; i < values.numel(); ++i) {
    Tensor plus = values.copy(), minus = values.copy();
    plus.data<double>()[i] += kStep;
    minus.data<double>()[i] -= kStep;
    set(plus);
    const double fp = f();
    set(minus);
    const double fm = f();
    grad.data[static_cast<size_t>(i)] = (fp - fm) / (2 * kStep);
  }
  set(values);
  return from_ref(grad, DType::F64);
}

}  // namespace

void expect_layer_gradients_match(nn::Layer& layer, const std::vector<Tensor>& inputs,
                                  const std::vector<bool>& differentiable, Rng& rng) {
  std::vector<Tensor> xs;
  for (const Tensor& x : inputs) xs.push_back(x.contiguous());
  const Tensor probe = layer.call(xs);  // builds the layer
  const Tensor cotangent = random_tensor(rng, probe.shape().vec(), DType::F64);

  std::vector<Variable> vars = layer.trainable_variables();
  std::vector<Tensor> sources;
  std::vector<Tensor> analytic;
  {
    GradientTape tape;
    for (size_t i = 0; i < xs.size(); ++i) {
      if (differentiable[i]) tape.watch(xs[i]);
    }
    const Tensor y = sum(layer.call(xs) * cotangent);
    for (size_t i = 0; i < xs.size(); ++i) {
      if (differentiable[i]) sources.push_back(xs[i]);
    }
    for (const Variable& v : vars) sources.push_back(v.value());
    analytic = tape.gradient({y}, sources, {}, Unconnected::Zero);
  }
  size_t k = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!differentiable[i]) continue;
    std::vector<Tensor> trial = xs;
    const Tensor numeric = numeric_gradient(
        xs[i], [&](const Tensor& v) { trial[i] = v; },
        [&] { return objective(layer, trial, cotangent); });
    EXPECT_CLOSE_TO_REF(analytic[k], to_ref(numeric), kFdTolerance)
        << "gradient of layer '" << layer.name() << "' with respect to input " << i;
    ++k;
  }
  for (Variable& v : vars) {
    const Tensor original = v.handle().copy();
    const Tensor numeric = numeric_gradient(
        original, [&](const Tensor& value) { v.assign(value); },
        [&] { return objective(layer, xs, cotangent); });
    EXPECT_CLOSE_TO_REF(analytic[k], to_ref(numeric), kFdTolerance)
        << "gradient of layer '" << layer.name() << "' with respect to weight " << v.name();
    ++k;
  }
}

}  // namespace tenflowers::testing
