// The fused optimizer updates on the GPU: one thread per element applies a rule of
// optimizer_rules.hpp (shared with the CPU) to the element's param and slots.
#include "src/backends/cuda/kernels/device_types.cuh"
#include "src/backends/cuda/kernels/elementwise.cuh"
#include "src/backends/cuda/kernels/optimizer_launch.hpp"

namespace tenflowers::cuda {
namespace {

using namespace rules;

template <class T, class Rule>
__global__ void __launch_bounds__(kThreads) optimizer_kernel(OptimizerArgs args) {
  using C = compute_of<T>;
  constexpr size_t K = Rule::kState;
  const Rule rule(args.step ? with_step_state(args.hyper, args.step) : args.hyper);
  const T* grad = static_cast<const T*>(args.grad);
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < args.numel; i += step) {
    C x[K];
#pragma unroll
    for (size_t k = 0; k < K; ++k) x[k] = widen(static_cast<const T*>(args.state[k])[i]);
    rule(x, widen(grad[i]));
#pragma unroll
    for (size_t k = 0; k < K; ++k) static_cast<T*>(args.state[k])[i] = narrow<T>(x[k]);
  }
}

template <template <class> class RuleOf>
const char* run(DType type, const OptimizerArgs& args, const char* name) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    if (args.numel > 0) {
      optimizer_kernel<T, RuleOf<compute_of<T>>>
          <<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    }
    return name;
  });
}

template <bool kMomentum, bool kNesterov, bool kFirst>
struct Sgd {
  template <class C>
  using type = SgdRule<C, kMomentum, kNesterov, kFirst>;
};
template <bool kAmsgrad>
struct Adam {
  template <class C>
  using type = AdamRule<C, kAmsgrad>;
};
template <bool kCentered, bool kMomentum>
struct Rmsprop {
  template <class C>
  using type = RmspropRule<C, kCentered, kMomentum>;
};
template <class C>
using Adagrad = AdagradRule<C>;

__global__ void optimizer_step_kernel(double* next, const double* state, const double* lr,
                                      double beta1, double beta2) {
  double s[kStepStateSize];
  for (int i = 0; i < kStepStateSize; ++i) s[i] = state[i];
  advance_step_state(s, *lr, beta1, beta2);
  for (int i = 0; i < kStepStateSize; ++i) next[i] = s[i];
}

}  // namespace

const char* launch_optimizer_step(double* next, const double* state, const double* lr, double beta1,
                                  double beta2, cudaStream_t stream) {
  optimizer_step_kernel<<<1, 1, 0, stream>>>(next, state, lr, beta1, beta2);
  return "optimizer_step";
}

const char* launch_optimizer(OptimizerRule rule, DType type, const OptimizerArgs& a) {
  using R = OptimizerRule;
  switch (rule) {
    case R::Sgd:
      return run<Sgd<false, false, false>::type>(type, a, "sgd_update");
    case R::SgdMomentum:
      return run<Sgd<true, false, false>::type>(type, a, "sgd_update");
    case R::SgdMomentumNesterov:
      return run<Sgd<true, true, false>::type>(type, a, "sgd_update");
    case R::SgdMomentumFirst:
      return run<Sgd<true, false, true>::type>(type, a, "sgd_update");
    case R::SgdMomentumNesterovFirst:
      return run<Sgd<true, true, true>::type>(type, a, "sgd_update");
    case R::Adam:
      return run<Adam<false>::type>(type, a, "adam_update");
    case R::AdamAmsgrad:
      return run<Adam<true>::type>(type, a, "adam_update");
    case R::Rmsprop:
      return run<Rmsprop<false, false>::type>(type, a, "rmsprop_update");
    case R::RmspropMomentum:
      return run<Rmsprop<false, true>::type>(type, a, "rmsprop_update");
    case R::RmspropCentered:
      return run<Rmsprop<true, false>::type>(type, a, "rmsprop_update");
    case R::RmspropCenteredMomentum:
      return run<Rmsprop<true, true>::type>(type, a, "rmsprop_update");
    case R::Adagrad:
      return run<Adagrad>(type, a, "adagrad_update");
  }
  return nullptr;
}

}  // namespace tenflowers::cuda
