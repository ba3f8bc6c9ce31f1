// Fused optimizer updates on the CPU: one pass over the elements reads param, grad and slots
// and writes param and slots (in place when the outputs are the inputs, as dispatch_into gives
// them), applying a rule of src/backends/common/optimizer_rules.hpp to each element. 16-bit
// floats compute in float.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "src/backends/common/optimizer_host.hpp"
#include "src/backends/common/optimizer_rules.hpp"
#include "src/backends/cpu/loops.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/dispatch.hpp"

namespace tenflowers::cpu {
namespace {

using rules::AdagradRule;
using rules::AdamRule;
using rules::RmspropRule;
using rules::SgdRule;

// out = in, elementwise, for an out-of-place call (dispatch rather than dispatch_into).
template <class T>
void copy_into(const Tensor& out, const Tensor& in) {
  auto it = make_iter<2>(out.shape(), {&out, &in});
  parallel_rows(it, [](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) std::memcpy(p[0] + i * s[0], p[1] + i * s[1], sizeof(T));
  });
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
  check_optimizer_operands(ctx, K);
  for (size_t k = 0; k < K; ++k) {
    const Tensor& in = ctx.inputs[optimizer_state_input(k)];
    if (!is_same_tensor(in, ctx.outputs[k])) copy_into<T>(ctx.outputs[k], in);
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
        C x[K];
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
      C state[K];
      std::copy_n(x.begin(), K, state);
      rule(state, x[K]);
      for (size_t k = 0; k < K; ++k) {
        const T v = convert<T>(state[k]);
        std::memcpy(p[k] + i * s[k], &v, sizeof(T));
      }
    }
  });
}

// The attributes' hyperparameters, with the step state's values under `step_on_device`.
OptimizerHyper hyper_of(const KernelContext& ctx) {
  const OptimizerHyper h = hyper_from(ctx.attrs);
  if (!ctx.attrs.get_bool_or("step_on_device", false)) return h;
  HooksPaused paused;
  const Tensor state = ctx.inputs.back().contiguous();
  return rules::with_step_state(h, static_cast<const double*>(state.data_ptr()));
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
      run_rule<scalar_t>(ctx, SgdRule<C, false, false, false>(hyper_of(ctx)));
      return;
    }
    with_flag(a.get_bool("nesterov"), [&](auto nesterov) {
      with_flag(a.get_bool("initialize"), [&](auto initialize) {
        run_rule<scalar_t>(ctx, SgdRule<C, true, nesterov.value, initialize.value>(hyper_of(ctx)));
      });
    });
  });
}

void adam_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "adam_update", [&] {
    with_flag(ctx.attrs.get_bool("amsgrad"), [&](auto amsgrad) {
      run_rule<scalar_t>(ctx, AdamRule<compute_t<scalar_t>, amsgrad.value>(hyper_of(ctx)));
    });
  });
}

void rmsprop_kernel(KernelContext& ctx) {
  const Attrs& a = ctx.attrs;
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "rmsprop_update", [&] {
    with_flag(a.get_bool("centered"), [&](auto centered) {
      with_flag(a.get_float("momentum") != 0.0, [&](auto momentum) {
        run_rule<scalar_t>(
            ctx, RmspropRule<compute_t<scalar_t>, centered.value, momentum.value>(hyper_of(ctx)));
      });
    });
  });
}

void adagrad_kernel(KernelContext& ctx) {
  TF_DISPATCH_FLOATING(ctx.inputs[0].dtype(), "adagrad_update", [&] {
    run_rule<scalar_t>(ctx, AdagradRule<compute_t<scalar_t>>(hyper_of(ctx)));
  });
}

void optimizer_step_kernel(KernelContext& ctx) {
  HooksPaused paused;
  const Tensor state = ctx.inputs[0].contiguous();
  const Tensor lr = ctx.inputs[1].contiguous();
  double next[rules::kStepStateSize];
  std::memcpy(next, state.data_ptr(), sizeof(next));
  rules::advance_step_state(next, *static_cast<const double*>(lr.data_ptr()),
                            ctx.attrs.get_float("beta1"), ctx.attrs.get_float("beta2"));
  std::memcpy(ctx.outputs[0].data_ptr(), next, sizeof(next));  // outputs are contiguous
}

}  // namespace

void register_cpu_optimizer_kernels(OpRegistry& r) {
  r.add_kernel("optimizer_step", DeviceType::CPU, optimizer_step_kernel, dtype_mask({DType::F64}));
  r.add_kernel("sgd_update", DeviceType::CPU, sgd_kernel, kFloatDTypes);
  r.add_kernel("adam_update", DeviceType::CPU, adam_kernel, kFloatDTypes);
  r.add_kernel("rmsprop_update", DeviceType::CPU, rmsprop_kernel, kFloatDTypes);
  r.add_kernel("adagrad_update", DeviceType::CPU, adagrad_kernel, kFloatDTypes);
}

}  // namespace tenflowers::cpu
