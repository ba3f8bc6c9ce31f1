// Checks for the fused optimizer updates: each op runs out of place on random (strided)
// inputs and in place on contiguous copies (as optimizers run it), and every output is compared
// with torch.optim's formulas evaluated per element in float64 here. Every structural flag
// (momentum, Nesterov, amsgrad, centered, ...) is covered; numeric attributes are random. Each
// op also runs with `step_on_device` (the capturable optimizers' form): the step-dependent
// values then come from an f64 step state input, and their attributes are poisoned with NaN.
#include <cmath>
#include <limits>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const DType kFloatTypes[] = {DType::F32, DType::F64, DType::F16, DType::BF16};
const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
constexpr double kInf = std::numeric_limits<double>::infinity();

// One element's state {param, slots...} updated from its gradient.
using ElementRule = std::function<void(std::vector<double>& state, double grad)>;

struct SlotRange {
  double lo, hi;
};

std::vector<int64_t> random_shape(Rng& rng) {
  std::vector<int64_t> shape(static_cast<size_t>(rng.integer(0, 3)));
  for (auto& d : shape) d = rng.integer(1, 5);
  return shape;
}

// The gradient every op starts from: clipping by value, the norm-clipping scale, L2 decay.
double prepared(double g, double p, const Attrs& a) {
  const double c = a.get_float("clip_value");
  return std::min(std::max(g, -c), c) * a.get_float("grad_scale") + a.get_float("weight_decay") * p;
}

// Random values for the attributes every op takes.
Attrs common_attrs(Rng& rng) {
  return Attrs{{"learning_rate", rng.uniform(0.05, 0.5)},
               {"weight_decay", rng.integer(0, 1) ? rng.uniform(0.0, 0.2) : 0.0},
               {"clip_value", rng.integer(0, 1) ? rng.uniform(0.2, 1.0) : kInf},
               {"grad_scale", rng.integer(0, 1) ? rng.uniform(0.3, 1.0) : 1.0}};
}

// The attributes and extra input that make an update read `attrs`' step-dependent values from a
// step state {t, learning_rate, bias_correction1, bias_correction2} instead.
Attrs step_on_device_attrs(const Attrs& attrs) {
  Attrs a = attrs;
  const double lr = attrs.get_float("learning_rate");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  a.set("step_on_device", true).set("learning_rate", nan);
  if (attrs.has("bias_correction1")) {
    a.set("bias_correction1", nan).set("bias_correction2", nan);
    a.set("decoupled_weight_decay", attrs.get_float("decoupled_weight_decay") / lr);
  }
  return a;
}
Tensor step_state_for(const Attrs& attrs, Device device) {
  return Tensor::from_vec<double>(
      {7.0, attrs.get_float("learning_rate"), attrs.get_float_or("bias_correction1", 1.0),
       attrs.get_float_or("bias_correction2", 1.0)},
      {4}, device);
}

void expect_update_matches(const std::string& op_name, Rng& rng, Device device,
                           const std::vector<int64_t>& shape, DType dtype, const Attrs& rule_attrs,
                           const std::vector<SlotRange>& slots, const ElementRule& rule,
                           bool step_on_device = false) {
  const OpDef& op = registry().get(op_name);
  const Attrs attrs = step_on_device ? step_on_device_attrs(rule_attrs) : rule_attrs;
  SCOPED_TRACE(op_name + " " + std::string(dtype_name(dtype)) + format_dims(shape) + " {" +
               attrs.str() + "}");
  const auto layout = [&] { return kLayouts[rng.integer(0, 2)]; };
  std::vector<Tensor> inputs{random_tensor(rng, shape, dtype, -1.0, 1.0, layout()).to(device),
                             random_tensor(rng, shape, dtype, -2.0, 2.0, layout()).to(device)};
  for (const SlotRange& r : slots) {
    inputs.push_back(random_tensor(rng, shape, dtype, r.lo, r.hi, layout()).to(device));
  }

  // The reference: the rule applied to every element of float64 copies of the inputs.
  std::vector<Ref> refs;
  for (const Tensor& t : inputs) refs.push_back(to_ref(t));
  std::vector<Ref> expected(slots.size() + 1, Ref(shape));
  std::vector<double> state(slots.size() + 1);
  for (size_t e = 0; e < static_cast<size_t>(refs[0].numel()); ++e) {
    state[0] = refs[0].data[e];
    for (size_t k = 1; k < state.size(); ++k) state[k] = refs[k + 1].data[e];
    rule(state, refs[1].data[e]);
    for (size_t k = 0; k < state.size(); ++k) expected[k].data[e] = state[k];
  }

  const Tensor step_state = step_state_for(rule_attrs, device);
  if (step_on_device) inputs.push_back(step_state);
  const std::vector<Tensor> out = dispatch(op, inputs, attrs);
  ASSERT_EQ(out.size(), expected.size());
  for (size_t k = 0; k < out.size(); ++k) {
    EXPECT_CLOSE_TO_REF(out[k], expected[k], tolerance_for(dtype)) << "output " << k;
  }

  // In place on contiguous state tensors, as Optimizer::apply_gradients runs it.
  std::vector<Tensor> state_tensors{inputs[0].copy()};
  for (size_t k = 2; k < slots.size() + 2; ++k) state_tensors.push_back(inputs[k].copy());
  std::vector<Tensor> in_place{state_tensors[0], inputs[1]};
  in_place.insert(in_place.end(), state_tensors.begin() + 1, state_tensors.end());
  if (step_on_device) in_place.push_back(step_state);
  dispatch_into(op, in_place, attrs, state_tensors);
  for (size_t k = 0; k < state_tensors.size(); ++k) {
    EXPECT_CLOSE_TO_REF(state_tensors[k], expected[k], tolerance_for(dtype)) << "in place " << k;
  }
}

// Random shapes and every float dtype, one large contiguous case for the parallel loop, and
// the input checks every update op shares.
void check_update(const std::string& op_name, Rng& rng, Device device, const Attrs& attrs,
                  const std::vector<SlotRange>& slots, const ElementRule& rule) {
  for (DType dtype : kFloatTypes) {
    for (int rep = 0; rep < 2; ++rep) {
      expect_update_matches(op_name, rng, device, random_shape(rng), dtype, attrs, slots, rule);
    }
  }
  expect_update_matches(op_name, rng, device, {129, 301}, DType::F32, attrs, slots, rule);
  for (DType dtype : kFloatTypes) {
    expect_update_matches(op_name, rng, device, random_shape(rng), dtype, attrs, slots, rule, true);
  }

  const OpDef& op = registry().get(op_name);
  const Tensor p = zeros({2, 3}, DType::F32, device);
  std::vector<Tensor> ok{p, p};
  for (size_t k = 0; k < slots.size(); ++k) ok.push_back(p);
  std::vector<Tensor> bad = ok;
  bad[1] = zeros({3}, DType::F32, device);  // broadcastable, still rejected
  EXPECT_THROW(dispatch(op, bad, attrs), ShapeError);
  bad = ok;
  bad.back() = zeros({2, 3}, DType::F64, device);
  EXPECT_THROW(dispatch(op, bad, attrs), DTypeError);
  bad = ok;
  bad.push_back(p);
  EXPECT_THROW(dispatch(op, bad, attrs), InvalidArgument);
  std::vector<Tensor> ints(ok.size(), zeros({2, 3}, DType::I32, device));
  EXPECT_THROW(dispatch(op, ints, attrs), DTypeError);
  // In place, the gradient must not alias the state it updates.
  std::vector<Tensor> state{zeros({2, 3}, DType::F32, device)};
  for (size_t k = 0; k < slots.size(); ++k) state.push_back(zeros({2, 3}, DType::F32, device));
  std::vector<Tensor> aliased{state[0], state[0]};
  aliased.insert(aliased.end(), state.begin() + 1, state.end());
  EXPECT_THROW(dispatch_into(op, aliased, attrs, state), InvalidArgument);
  // The step state: present exactly when step_on_device is set, f64 of shape [4].
  const Attrs device_attrs = step_on_device_attrs(attrs);
  EXPECT_THROW(dispatch(op, ok, device_attrs), InvalidArgument);
  bad = ok;
  bad.push_back(zeros({4}, DType::F32, device));
  EXPECT_THROW(dispatch(op, bad, device_attrs), DTypeError);
  bad.back() = zeros({3}, DType::F64, device);
  EXPECT_THROW(dispatch(op, bad, device_attrs), ShapeError);
}

// optimizer_step against the formula: t += 1, lr, 1 - beta1^t, 1 - beta2^t.
void check_optimizer_step(Rng& rng, Device device) {
  const OpDef& op = registry().get("optimizer_step");
  for (int rep = 0; rep < 3; ++rep) {
    const double t = static_cast<double>(rng.integer(0, 50));
    const double lr = rng.uniform(1e-4, 1.0);
    const double beta1 = rep == 0 ? 0.0 : rng.uniform(0.5, 0.99);
    const double beta2 = rep == 0 ? 0.0 : rng.uniform(0.9, 0.9999);
    const Attrs attrs{{"beta1", beta1}, {"beta2", beta2}};
    SCOPED_TRACE("t=" + std::to_string(t) + " {" + attrs.str() + "}");
    const std::vector<double> expected{t + 1.0, lr, 1.0 - std::pow(beta1, t + 1.0),
                                       1.0 - std::pow(beta2, t + 1.0)};
    const Tensor state = Tensor::from_vec<double>({t, 0.5, 0.25, 0.125}, {4}, device);
    const Tensor rate = Tensor::from_scalar(lr, device);
    const auto close = [&](const Tensor& got) {
      const std::vector<double> v = got.to_vector<double>();
      ASSERT_EQ(v.size(), expected.size());
      for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], expected[i], 1e-14) << i;
    };
    close(dispatch1(op, {state, rate}, attrs));
    EXPECT_EQ(state.to_vector<double>()[0], t);  // out of place leaves the input
    Tensor in_place = state.copy();
    dispatch_into(op, {in_place, rate}, attrs, in_place);
    close(in_place);
  }
  const Tensor rate = Tensor::from_scalar(0.1, device);
  const Attrs attrs{{"beta1", 0.9}, {"beta2", 0.999}};
  EXPECT_THROW(dispatch1(op, {zeros({4}, DType::F32, device), rate}, attrs), DTypeError);
  EXPECT_THROW(dispatch1(op, {zeros({5}, DType::F64, device), rate}, attrs), ShapeError);
  EXPECT_THROW(
      dispatch1(op, {zeros({4}, DType::F64, device), zeros({2}, DType::F64, device)}, attrs),
      InvalidArgument);
}

void check_sgd(Rng& rng, Device device) {
  for (int variant = 0; variant < 5; ++variant) {
    // 0: plain; 1-4: momentum with (nesterov, initialize) in every combination.
    const bool momentum = variant > 0;
    const bool nesterov = variant == 2 || variant == 4;
    const bool initialize = variant >= 3;
    Attrs a = common_attrs(rng);
    a.set("momentum", momentum ? rng.uniform(0.5, 0.95) : 0.0)
        .set("dampening", rng.integer(0, 1) ? rng.uniform(0.0, 0.5) : 0.0)
        .set("nesterov", nesterov)
        .set("initialize", initialize);
    std::vector<SlotRange> slots;
    if (momentum) slots.push_back({-1.0, 1.0});
    check_update("sgd_update", rng, device, a, slots, [&a](std::vector<double>& s, double grad) {
      const double g = prepared(grad, s[0], a);
      const double lr = a.get_float("learning_rate");
      const double mu = a.get_float("momentum");
      if (mu == 0.0) {
        s[0] -= lr * g;
        return;
      }
      s[1] = a.get_bool("initialize") ? g : mu * s[1] + (1.0 - a.get_float("dampening")) * g;
      s[0] -= lr * (a.get_bool("nesterov") ? g + mu * s[1] : s[1]);
    });
  }
}

void check_adam(Rng& rng, Device device) {
  for (bool amsgrad : {false, true}) {
    for (bool decoupled : {false, true}) {
      Attrs a = common_attrs(rng);
      const double beta1 = rng.uniform(0.5, 0.95);
      const double beta2 = rng.uniform(0.9, 0.999);
      const double t = static_cast<double>(rng.integer(1, 20));
      a.set("beta1", beta1)
          .set("beta2", beta2)
          .set("epsilon", rng.uniform(1e-3, 1e-1))
          .set("amsgrad", amsgrad)
          .set("bias_correction1", 1.0 - std::pow(beta1, t))
          .set("bias_correction2", 1.0 - std::pow(beta2, t))
          .set("decoupled_weight_decay", decoupled ? rng.uniform(0.0, 0.05) : 0.0);
      std::vector<SlotRange> slots{{-1.0, 1.0}, {0.1, 1.0}};
      if (amsgrad) slots.push_back({0.1, 1.0});
      check_update("adam_update", rng, device, a, slots, [&a](std::vector<double>& s, double grad) {
        const double g = prepared(grad, s[0], a);
        const double b1 = a.get_float("beta1");
        const double b2 = a.get_float("beta2");
        s[1] = b1 * s[1] + (1.0 - b1) * g;
        s[2] = b2 * s[2] + (1.0 - b2) * g * g;
        double v_hat = s[2];
        if (a.get_bool("amsgrad")) v_hat = s[3] = std::max(s[3], s[2]);
        const double denom =
            std::sqrt(v_hat) / std::sqrt(a.get_float("bias_correction2")) + a.get_float("epsilon");
        s[0] = s[0] * (1.0 - a.get_float("decoupled_weight_decay")) -
               a.get_float("learning_rate") / a.get_float("bias_correction1") * s[1] / denom;
      });
    }
  }
}

void check_rmsprop(Rng& rng, Device device) {
  for (bool centered : {false, true}) {
    for (bool momentum : {false, true}) {
      Attrs a = common_attrs(rng);
      a.set("rho", rng.uniform(0.8, 0.99))
          .set("epsilon", rng.uniform(1e-3, 1e-1))
          .set("momentum", momentum ? rng.uniform(0.5, 0.9) : 0.0)
          .set("centered", centered);
      // square_avg >= grad_avg^2, so the centered variance stays positive.
      std::vector<SlotRange> slots{{0.5, 1.0}};
      if (centered) slots.push_back({-0.5, 0.5});
      if (momentum) slots.push_back({-1.0, 1.0});
      check_update("rmsprop_update", rng, device, a, slots,
                   [&a](std::vector<double>& s, double grad) {
                     const double g = prepared(grad, s[0], a);
                     const double rho = a.get_float("rho");
                     s[1] = rho * s[1] + (1.0 - rho) * g * g;
                     double variance = s[1];
                     size_t next = 2;
                     if (a.get_bool("centered")) {
                       s[2] = rho * s[2] + (1.0 - rho) * g;
                       variance -= s[2] * s[2];
                       next = 3;
                     }
                     const double step = g / (std::sqrt(variance) + a.get_float("epsilon"));
                     const double lr = a.get_float("learning_rate");
                     if (a.get_float("momentum") != 0.0) {
                       s[next] = a.get_float("momentum") * s[next] + step;
                       s[0] -= lr * s[next];
                     } else {
                       s[0] -= lr * step;
                     }
                   });
    }
  }
}

void check_adagrad(Rng& rng, Device device) {
  Attrs a = common_attrs(rng);
  a.set("epsilon", rng.uniform(1e-3, 1e-1));
  check_update(
      "adagrad_update", rng, device, a, {{0.1, 2.0}}, [&a](std::vector<double>& s, double grad) {
        const double g = prepared(grad, s[0], a);
        s[1] += g * g;
        s[0] -= a.get_float("learning_rate") * g / (std::sqrt(s[1]) + a.get_float("epsilon"));
      });
}

}  // namespace

void register_optimizer_checks(CheckRegistry& r) {
  r.add({"sgd_update"}, check_sgd);
  r.add({"adam_update"}, check_adam);
  r.add({"rmsprop_update"}, check_rmsprop);
  r.add({"adagrad_update"}, check_adagrad);
  r.add({"optimizer_step"}, check_optimizer_step);
}

}  // namespace tenflowers::testing
