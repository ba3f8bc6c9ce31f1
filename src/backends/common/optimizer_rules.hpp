#pragma once
// The optimizer update rules (formulas in src/core/ops/optimizer.cpp), shared by the CPU and
// CUDA kernels: each updates one element's state x = {param, slots...} from its gradient, in
// the compute type C; the flags that change the formula are template parameters, so loops over
// elements have no branches. Plain C++: no attributes, no tensors.
#include <cmath>
#include <cstddef>

#ifdef __CUDACC__
#define TF_HOST_DEVICE __host__ __device__
#else
#define TF_HOST_DEVICE
#endif

namespace tenflowers {

// Every optimizer op's hyperparameters (attributes of the same names); each rule reads its own.
struct OptimizerHyper {
  double learning_rate = 0, clip_value = 0, grad_scale = 1, weight_decay = 0;
  double momentum = 0, dampening = 0;                                       // sgd, rmsprop
  double beta1 = 0, beta2 = 0, bias_correction1 = 1, bias_correction2 = 1;  // adam
  double epsilon = 0, decoupled_weight_decay = 0, rho = 0;
};

namespace rules {

using std::pow;
using std::sqrt;  // the float overload on the host (device code has its own)

// A step state {t, learning_rate, bias_correction1, bias_correction2}, kept in device memory by
// capturable optimizers so that a replayed graph reads each step's values (optimizer_step).
inline constexpr int kStepStateSize = 4;

// optimizer_step: the next step's state from the previous one and this step's learning rate.
TF_HOST_DEVICE inline void advance_step_state(double* state, double learning_rate, double beta1,
                                              double beta2) {
  const double t = state[0] + 1.0;
  state[0] = t;
  state[1] = learning_rate;
  state[2] = 1.0 - pow(beta1, t);
  state[3] = 1.0 - pow(beta2, t);
}

// The hyperparameters of an update with `step_on_device`: the step-dependent ones come from the
// state, and the decoupled decay attribute is a rate, scaled by that learning rate.
TF_HOST_DEVICE inline OptimizerHyper with_step_state(OptimizerHyper h, const double* state) {
  h.learning_rate = state[1];
  h.bias_correction1 = state[2];
  h.bias_correction2 = state[3];
  h.decoupled_weight_decay *= state[1];
  return h;
}

// clamp(g, -clip, clip) * scale + weight_decay * param: clipping by value, by norm (scale) and
// coupled L2 decay, in that order.
template <class C>
struct GradientPrep {
  C clip, scale, weight_decay;
  TF_HOST_DEVICE explicit GradientPrep(const OptimizerHyper& h)
      : clip(static_cast<C>(h.clip_value)),
        scale(static_cast<C>(h.grad_scale)),
        weight_decay(static_cast<C>(h.weight_decay)) {}
  TF_HOST_DEVICE C operator()(C g, C param) const {
    // Value comparisons (not std::min/max, which return references) keep the loop
    // vectorizable; NaN passes through.
    const C above = g < -clip ? -clip : g;
    return (above > clip ? clip : above) * scale + weight_decay * param;
  }
};

template <class C, bool kMomentum, bool kNesterov, bool kInitialize>
struct SgdRule {
  static constexpr size_t kState = kMomentum ? 2 : 1;
  GradientPrep<C> prep;
  C lr, momentum, keep;  // keep = 1 - dampening
  TF_HOST_DEVICE explicit SgdRule(const OptimizerHyper& h)
      : prep(h),
        lr(static_cast<C>(h.learning_rate)),
        momentum(static_cast<C>(h.momentum)),
        keep(static_cast<C>(1.0 - h.dampening)) {}
  TF_HOST_DEVICE void operator()(C (&x)[kState], C grad) const {
    C g = prep(grad, x[0]);
    if constexpr (kMomentum) {
      const C b = kInitialize ? g : momentum * x[1] + keep * g;
      x[1] = b;
      g = kNesterov ? g + momentum * b : b;
    }
    x[0] -= lr * g;
  }
};

template <class C, bool kAmsgrad>
struct AdamRule {
  static constexpr size_t kState = kAmsgrad ? 4 : 3;
  GradientPrep<C> prep;
  C beta1, beta2, step_size, inv_sqrt_bc2, epsilon, decay_keep;
  TF_HOST_DEVICE explicit AdamRule(const OptimizerHyper& h)
      : prep(h),
        beta1(static_cast<C>(h.beta1)),
        beta2(static_cast<C>(h.beta2)),
        step_size(static_cast<C>(h.learning_rate / h.bias_correction1)),
        inv_sqrt_bc2(static_cast<C>(1.0 / sqrt(h.bias_correction2))),
        epsilon(static_cast<C>(h.epsilon)),
        decay_keep(static_cast<C>(1.0 - h.decoupled_weight_decay)) {}
  TF_HOST_DEVICE void operator()(C (&x)[kState], C grad) const {
    const C g = prep(grad, x[0]);
    const C m = beta1 * x[1] + (C(1) - beta1) * g;
    const C v = beta2 * x[2] + (C(1) - beta2) * g * g;
    x[1] = m;
    x[2] = v;
    C v_hat = v;
    if constexpr (kAmsgrad) {
      v_hat = x[3] > v ? x[3] : v;
      x[3] = v_hat;
    }
    x[0] = x[0] * decay_keep - step_size * m / (sqrt(v_hat) * inv_sqrt_bc2 + epsilon);
  }
};

template <class C, bool kCentered, bool kMomentum>
struct RmspropRule {
  static constexpr size_t kState = 2 + (kCentered ? 1 : 0) + (kMomentum ? 1 : 0);
  static constexpr size_t kBuffer = kCentered ? 3 : 2;
  GradientPrep<C> prep;
  C lr, rho, epsilon, momentum;
  TF_HOST_DEVICE explicit RmspropRule(const OptimizerHyper& h)
      : prep(h),
        lr(static_cast<C>(h.learning_rate)),
        rho(static_cast<C>(h.rho)),
        epsilon(static_cast<C>(h.epsilon)),
        momentum(static_cast<C>(h.momentum)) {}
  TF_HOST_DEVICE void operator()(C (&x)[kState], C grad) const {
    const C g = prep(grad, x[0]);
    const C s = rho * x[1] + (C(1) - rho) * g * g;
    x[1] = s;
    C variance = s;
    if constexpr (kCentered) {
      const C a = rho * x[2] + (C(1) - rho) * g;
      x[2] = a;
      variance = s - a * a;
    }
    const C step = g / (sqrt(variance) + epsilon);
    if constexpr (kMomentum) {
      const C b = momentum * x[kBuffer] + step;
      x[kBuffer] = b;
      x[0] -= lr * b;
    } else {
      x[0] -= lr * step;
    }
  }
};

template <class C>
struct AdagradRule {
  static constexpr size_t kState = 2;
  GradientPrep<C> prep;
  C lr, epsilon;
  TF_HOST_DEVICE explicit AdagradRule(const OptimizerHyper& h)
      : prep(h), lr(static_cast<C>(h.learning_rate)), epsilon(static_cast<C>(h.epsilon)) {}
  TF_HOST_DEVICE void operator()(C (&x)[kState], C grad) const {
    const C g = prep(grad, x[0]);
    const C s = x[1] + g * g;
    x[1] = s;
    x[0] -= lr * g / (sqrt(s) + epsilon);
  }
};

}  // namespace rules
}  // namespace tenflowers
