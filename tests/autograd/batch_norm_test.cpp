// Higher-order derivatives through the fused batch_norm: Hessian-vector products (reverse over
// reverse and forward over reverse) against central differences of the first derivative, and
// second and third derivatives against those of the composite formula (mean, var, rsqrt, ...)
// that the fused op replaces. Runs on every device with the op's kernels.
#include <gtest/gtest.h>

#include "tests/support/reference.hpp"

namespace tenflowers::testing {
namespace {

struct Shape {
  std::vector<int64_t> shape;
  int64_t axis;
};

const Shape kShapes[] = {{{3, 2, 2, 3}, 1}, {{4, 3}, 1}, {{2, 3, 4}, -1}};

std::vector<Device> devices() {
  std::vector<Device> out{Device::cpu()};
  if (has_backend(DeviceType::CUDA)) out.push_back(Device::cuda(0));
  return out;
}

int64_t channels_of(const Shape& s) {
  const auto rank = static_cast<int64_t>(s.shape.size());
  return s.shape[static_cast<size_t>(s.axis < 0 ? s.axis + rank : s.axis)];
}

constexpr double kEpsilon = 1e-2;

// batch_norm's outputs from mean, var, rsqrt and broadcast arithmetic.
BatchNormResult composite(const Tensor& x, const Tensor& gamma, const Tensor& beta, int64_t axis) {
  const int64_t a = axis < 0 ? axis + x.rank() : axis;
  std::vector<int64_t> reduced;
  std::vector<int64_t> shape(static_cast<size_t>(x.rank()), 1);
  shape[static_cast<size_t>(a)] = x.size(a);
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (i != a) reduced.push_back(i);
  }
  const Tensor m = mean(x, reduced, true);
  const Tensor v = var(x, reduced, 0, true);
  const Tensor y =
      (x - m) * rsqrt(v + kEpsilon) * gamma.reshape(Dims(shape)) + beta.reshape(Dims(shape));
  return {y, m.reshape({x.size(a)}), v.reshape({x.size(a)})};
}

using Norm = std::function<BatchNormResult(const Tensor&, const Tensor&, const Tensor&)>;

// A scalar that depends nonlinearly on all three outputs, so that second derivatives reach every
// term of batch_norm's gradient rules: weighted sums of tanh(y), mean^2 and var * mean.
struct Loss {
  Tensor wy, wm, wv;
  Tensor operator()(const Norm& norm, const std::vector<Tensor>& p) const {
    const BatchNormResult r = norm(p[0], p[1], p[2]);
    return sum(wy * tanh(r.y)) + sum(wm * r.mean * r.mean) + sum(wv * r.var * r.mean);
  }
};

std::vector<Tensor> gradient_of(const Loss& loss, const Norm& norm,
                                const std::vector<Tensor>& params) {
  GradientTape tape;
  for (const Tensor& p : params) tape.watch(p);
  return tape.gradient({loss(norm, params)}, params);
}

// H d for the parameters' Hessian and direction d, by nested tapes.
std::vector<Tensor> hvp_of(const Loss& loss, const Norm& norm, const std::vector<Tensor>& params,
                           const std::vector<Tensor>& d) {
  GradientTape outer;
  for (const Tensor& p : params) outer.watch(p);
  const std::vector<Tensor> g = gradient_of(loss, norm, params);
  Tensor dot = sum(g[0] * d[0]);
  for (size_t i = 1; i < g.size(); ++i) dot = dot + sum(g[i] * d[i]);
  return outer.gradient({dot}, params);
}

struct Problem {
  std::vector<Tensor> params, direction;
  Loss loss;
  Norm fused, reference;
};

Problem make_problem(Rng& rng, const Shape& s, Device device) {
  const int64_t c = channels_of(s);
  auto draw = [&](std::vector<int64_t> shape, double lo, double hi) {
    return random_tensor(rng, std::move(shape), DType::F64, lo, hi).to(device);
  };
  Problem p;
  p.params = {draw(s.shape, -2, 2), draw({c}, 0.5, 2), draw({c}, -1, 1)};
  p.direction = {draw(s.shape, -1, 1), draw({c}, -1, 1), draw({c}, -1, 1)};
  p.loss = {draw(s.shape, -1, 1), draw({c}, -1, 1), draw({c}, -1, 1)};
  p.fused = [axis = s.axis](const Tensor& x, const Tensor& g, const Tensor& b) {
    return batch_norm(x, g, b, axis, kEpsilon);
  };
  p.reference = [axis = s.axis](const Tensor& x, const Tensor& g, const Tensor& b) {
    return composite(x, g, b, axis);
  };
  return p;
}

std::vector<Tensor> moved(const std::vector<Tensor>& params, const std::vector<Tensor>& d,
                          double step) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < params.size(); ++i) out.push_back(params[i] + d[i] * step);
  return out;
}

const Tolerance kClose{1e-9, 1e-10};

TEST(BatchNormHigherOrder, HessianVectorProductsMatchDifferencesOfTheGradient) {
  for (const Device device : devices()) {
    Rng rng = Rng::for_test();
    SCOPED_TRACE("device " + device.str() + ", seed " + std::to_string(rng.seed()));
    for (const Shape& s : kShapes) {
      SCOPED_TRACE("shape " + format_dims(s.shape) + " axis " + std::to_string(s.axis));
      const Problem p = make_problem(rng, s, device);
      const double h = 1e-5;
      const std::vector<Tensor> plus =
          gradient_of(p.loss, p.fused, moved(p.params, p.direction, h));
      const std::vector<Tensor> minus =
          gradient_of(p.loss, p.fused, moved(p.params, p.direction, -h));
      const std::vector<Tensor> product = hvp_of(p.loss, p.fused, p.params, p.direction);
      for (size_t i = 0; i < product.size(); ++i) {
        const Ref expected = to_ref((plus[i] - minus[i]) / (2 * h));
        EXPECT_CLOSE_TO_REF(product[i], expected, (Tolerance{1e-6, 1e-7})) << "parameter " << i;
      }
      // Forward over reverse (batch_norm_grad's JVP) gives the same product, here in x alone.
      const ScalarFn in_x = [&](const Tensor& x) {
        return p.loss(p.fused, {x, p.params[1], p.params[2]});
      };
      const Tensor forward = hvp_forward_over_reverse(in_x, p.params[0], p.direction[0]);
      EXPECT_CLOSE_TO_REF(forward, to_ref(hvp(in_x, p.params[0], p.direction[0])), kClose);
    }
  }
}

TEST(BatchNormHigherOrder, SecondAndThirdDerivativesMatchTheCompositeFormula) {
  for (const Device device : devices()) {
    Rng rng = Rng::for_test();
    SCOPED_TRACE("device " + device.str() + ", seed " + std::to_string(rng.seed()));
    for (const Shape& s : kShapes) {
      SCOPED_TRACE("shape " + format_dims(s.shape) + " axis " + std::to_string(s.axis));
      const Problem p = make_problem(rng, s, device);
      const std::vector<Tensor> fused = hvp_of(p.loss, p.fused, p.params, p.direction);
      const std::vector<Tensor> reference = hvp_of(p.loss, p.reference, p.params, p.direction);
      for (size_t i = 0; i < fused.size(); ++i) {
        EXPECT_CLOSE_TO_REF(fused[i], to_ref(reference[i]), kClose) << "parameter " << i;
      }
      // Third order: the gradient of <H d, d> in every parameter.
      auto third = [&](const Norm& norm) {
        GradientTape outer;
        for (const Tensor& t : p.params) outer.watch(t);
        const std::vector<Tensor> hd = hvp_of(p.loss, norm, p.params, p.direction);
        Tensor dot = sum(hd[0] * p.direction[0]);
        for (size_t i = 1; i < hd.size(); ++i) dot = dot + sum(hd[i] * p.direction[i]);
        return outer.gradient({dot}, p.params);
      };
      const std::vector<Tensor> fused3 = third(p.fused), reference3 = third(p.reference);
      for (size_t i = 0; i < fused3.size(); ++i) {
        EXPECT_CLOSE_TO_REF(fused3[i], to_ref(reference3[i]), kClose) << "parameter " << i;
      }
    }
  }
}

}  // namespace
}  // namespace tenflowers::testing
