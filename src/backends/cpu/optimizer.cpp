// Fused optimizer updates (formulas in src/core/ops/optimizer.cpp): one pass over the elements
// reads param, grad and slots and writes param and slots (in place when the outputs are the
// inputs, as dispatch_into gives them). Each rule updates one element's state x = {param,
// slots...} from its gradient; the flags that change the formula are template parameters so
// the contiguous loop has no branches and vectorizes. 16-bit floats compute in float.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "src/backends/cpu/loops.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

// clamp(g, -clip, clip) * scale + weight_decay * param: clipping by value, by norm (scale) and
// coupled L2 decay, in that order.
template <class C>
struct GradientPrep {
  C clip, scale, weight_decay;
  explicit GradientPrep(const Attrs& a)
      : clip(static_cast<C>(a.get_float("clip_value"))),
        scale(static_cast<C>(a.get_float("grad_scale"))),
        weight_decay(static_cast<C>(a.get_float("weight_decay"))) {}
  C operator()(C g, C param) const {
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
  explicit SgdRule(const Attrs& a)
      : prep(a),
        lr(static_cast<C>(a.get_float("learning_rate"))),
        momentum(static_cast<C>(a.get_float("momentum"))),
        keep(static_cast<C>(1.0 - a.get_float("dampening"))) {}
  void operator()(std::array<C, kState>& x, C grad) const {
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
  explicit AdamRule(const Attrs& a)
      : prep(a),
        beta1(static_cast<C>(a.get_float("beta1"))),
        beta2(static_cast<C>(a.get_float("beta2"))),
        step_size(static_cast<C>(a.get_float("learning_rate") / a.get_float("bias_correction1"))),
        inv_sqrt_bc2(static_cast<C>(1.0 / std::sqrt(a.get_float("bias_correction2")))),
        epsilon(static_cast<C>(a.get_float("epsilon"))),
        decay_keep(static_cast<C>(1.0 - a.get_float("decoupled_weight_decay"))) {}
  void operator()(std::array<C, kState>& x, C grad) const {
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
    x[0] = x[0] * decay_keep - step_size * m / (std::sqrt(v_hat) * inv_sqrt_bc2 + epsilon);
  }
};

template <class C, bool kCentered, bool kMomentum>
struct RmspropRule {
  static constexpr size_t kState = 2 + (kCentered ? 1 : 0) + (kMomentum ? 1 : 0);
  static constexpr size_t kBuffer = kCentered ? 3 : 2;
  GradientPrep<C> prep;
  C lr, rho, epsilon, momentum;
  explicit RmspropRule(const Attrs& a)
      : prep(a),
        lr(static_cast<C>(a.get_float("learning_rate"))),
        rho(static_cast<C>(a.get_float("rho"))),
        epsilon(static_cast<C>(a.get_float("epsilon"))),
        momentum(static_cast<C>(a.get_float("momentum"))) {}
  void operator()(std::array<C, kState>& x, C grad) const {
    const C g = prep(grad, x[0]);
    const C s = rho * x[1] + (C(1) - rho) * g * g;
    x[1] = s;
    C variance = s;
    if constexpr (kCentered) {
      const C a = rho * x[2] + (C(1) - rho) * g;
      x[2] = a;
      variance = s - a * a;
    }
    const C step = g / (std::sqrt(variance) + epsilon);
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
  explicit AdagradRule(const Attrs& a)
      : prep(a),
        lr(static_cast<C>(a.get_float("learning_rate"))),
        epsilon(static_cast<C>(a.get_float("epsilon"))) {}
  void operator()(std::array<C, kState>& x, C grad) const {
    const C g = prep(grad, x[0]);
    const C s = x[1] + g * g;
    x[1] = s;
    x[0] -= lr * g / (std::sqrt(s) + epsilon);
  }
};

// out = in, elementwise, for an out-of-place call (dispatch rather than dispatch_into).
template <class T>
void copy_into(const Tensor& out, const Tensor& in) {
  auto it = make_iter<2>(out.shape(), {&out, &in});
  parallel_rows(it, [](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(p[0] + i * s[0], p[1] + i * s[1], sizeof(T));
  });
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.data_ptr() == b.data_ptr() && a.is_contiguous() && b.is_contiguous();
}

// Runs `rule` over every element. The outputs (param and slots, contiguous) are updated in
// place: inputs that are not the outputs themselves are copied into them first; an input
// either is the output it updates or does not overlap any output. The grad may be strided.
// The contiguous loop has no `omp simd` pragma on purpose: GCC turns the state array into a
// per-lane array under it and gives up, while it vectorizes the plain loop (with a runtime
// check that the grad and the state tensors do not overlap).
template <class T, class Rule>
void run_rule(KernelContext& ctx, const Rule& rule) {
  using C = compute_t<T>;
  constexpr size_t K = Rule::kState;
  // Input of state k: param is input 0, slot k is input k + 1 (grad is input 1).
  const auto input_of = [](size_t k) { return k == 0 ? size_t{0} : k + 1; };
  for (size_t k = 0; k < K; ++k) {
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      const bool updates_k = i == input_of(k) && same_tensor(ctx.inputs[i], ctx.outputs[k]);
      TF_CHECK(updates_k || !ctx.inputs[i].shares_storage(ctx.outputs[k]), InvalidArgument,
               "input ", i, " shares memory with output ", k,
               " (expected each state input to be its own output or disjoint from all outputs)");
    }
    for (size_t j = 0; j < k; ++j) {
      TF_CHECK(!ctx.outputs[j].shares_storage(ctx.outputs[k]), InvalidArgument, "outputs ", j,
               " and ", k, " share memory");
    }
  }
  for (size_t k = 0; k < K; ++k) {
    const Tensor& in = ctx.inputs[input_of(k)];
    if (!same_tensor(in, ctx.outputs[k])) copy_into<T>(ctx.outputs[k], in);
  }
  std::array<const Tensor*, K + 1> operands;
  for (size_t k = 0; k < K; ++k) operands[k] = &ctx.outputs[k];
  operands[K] = &ctx.inputs[1];
  auto it = make_iter<K + 1>(ctx.outputs[0].shape(), operands);
  parallel_rows(it, [&](std::array<char*, K + 1> p, std::array<int64_t, K + 1> s, int64_t n) {
    const bool contiguous = std::all_of(
        s.begin(), s.end(), [](int64_t b) { return b == static_cast<int64_t>(sizeof(T)); });
    if (contiguous) {
      std::array<T*, K> state;
      for (size_t k = 0; k < K; ++k) state[k] = reinterpret_cast<T*>(p[k]);
      const T* g = reinterpret_cast<const T*>(p[K]);
      for (int64_t i = 0; i < n; ++i) {
        std::array<C, K> x;
        for (size_t k = 0; k < K; ++k) x[k] = convert<C>(state[k][i]);
        rule(x, convert<C>(g[i]));
        for (size_t k = 0; k < K; ++k) state[k][i] = convert<T>(x[k]);
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      std::array<C, K + 1> x;  // the state, then the gradient
      for (size_t k = 0; k <= K; ++k) {
        T v;
        std::memcpy(&v, p[k] + i * s[k], sizeof(T));
        x[k] = convert<C>(v);
      }
      std::array<C, K> state;
      std::copy_n(x.begin(), K, state.begin());
      rule(state, x[K]);
      for (size_t k = 0; k < K; ++k) {
        const T v = convert<T>(state[k]);
        std::memcpy(p[k] + i * s[k], &v, sizeof(T));
      }
    }
  });
}

// Calls f(std::bool_constant<b>{}) so a runtime flag selects a template instance.
template <class F>
void with_flag(bool b, F&& f) {
  if (b) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

void sgd_kernel(KernelContext& ctx) {
  const Attrs& a = ctx.attrs;
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "sgd_update", [&] {
    using C = compute_t<scalar_t>;
    if (a.get_float("momentum") == 0.0) {
      run_rule<scalar_t>(ctx, SgdRule<C, false, false, false>(a));
      return;
    }
    with_flag(a.get_bool("nesterov"), [&](auto nesterov) {
      with_flag(a.get_bool("initialize"), [&](auto initialize) {
        run_rule<scalar_t>(ctx, SgdRule<C, true, nesterov.value, initialize.value>(a));
      });
    });
  });
}

void adam_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "adam_update", [&] {
    with_flag(ctx.attrs.get_bool("amsgrad"), [&](auto amsgrad) {
      run_rule<scalar_t>(ctx, AdamRule<compute_t<scalar_t>, amsgrad.value>(ctx.attrs));
    });
  });
}

void rmsprop_kernel(KernelContext& ctx) {
  const Attrs& a = ctx.attrs;
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "rmsprop_update", [&] {
    with_flag(a.get_bool("centered"), [&](auto centered) {
      with_flag(a.get_float("momentum") != 0.0, [&](auto momentum) {
        run_rule<scalar_t>(ctx,
                           RmspropRule<compute_t<scalar_t>, centered.value, momentum.value>(a));
      });
    });
  });
}

void adagrad_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "adagrad_update", [&] {
    run_rule<scalar_t>(ctx, AdagradRule<compute_t<scalar_t>>(ctx.attrs));
  });
}

}  // namespace

void register_cpu_optimizer_kernels(OpRegistry& r) {
  r.add_kernel("sgd_update", DeviceType::CPU, sgd_kernel, kFloatDTypes);
  r.add_kernel("adam_update", DeviceType::CPU, adam_kernel, kFloatDTypes);
  r.add_kernel("rmsprop_update", DeviceType::CPU, rmsprop_kernel, kFloatDTypes);
  r.add_kernel("adagrad_update", DeviceType::CPU, adagrad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
