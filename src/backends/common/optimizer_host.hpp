#pragma once
// Host code shared by every backend's optimizer kernels: the op's attributes as the rules'
// hyperparameters, and the checks on how its state tensors may alias.
#include "src/backends/common/optimizer_rules.hpp"
#include "tenflowers/core/attrs.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {

// The hyperparameters the op's attributes hold (each op has the ones its rule reads).
inline OptimizerHyper hyper_from(const Attrs& a) {
  OptimizerHyper h;
  h.learning_rate = a.get_float("learning_rate");
  h.clip_value = a.get_float("clip_value");
  h.grad_scale = a.get_float("grad_scale");
  h.weight_decay = a.get_float("weight_decay");
  h.momentum = a.get_float_or("momentum", 0.0);
  h.dampening = a.get_float_or("dampening", 0.0);
  h.beta1 = a.get_float_or("beta1", 0.0);
  h.beta2 = a.get_float_or("beta2", 0.0);
  h.bias_correction1 = a.get_float_or("bias_correction1", 1.0);
  h.bias_correction2 = a.get_float_or("bias_correction2", 1.0);
  h.epsilon = a.get_float_or("epsilon", 0.0);
  h.decoupled_weight_decay = a.get_float_or("decoupled_weight_decay", 0.0);
  h.rho = a.get_float_or("rho", 0.0);
  return h;
}

// The input holding state k: param is input 0, slot k is input k + 1 (grad is input 1).
inline size_t optimizer_state_input(size_t k) {
  return k == 0 ? 0 : k + 1;
}

inline bool is_same_tensor(const Tensor& a, const Tensor& b) {
  return a.data_ptr() == b.data_ptr() && a.is_contiguous() && b.is_contiguous();
}

// The outputs (param and slots) are updated in place: each state input either is the output it
// updates or does not overlap any output, and the outputs are disjoint.
inline void check_optimizer_operands(const KernelContext& ctx, size_t states) {
  for (size_t k = 0; k < states; ++k) {
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      const bool updates_k =
          i == optimizer_state_input(k) && is_same_tensor(ctx.inputs[i], ctx.outputs[k]);
      TF_CHECK(updates_k || !ctx.inputs[i].shares_storage(ctx.outputs[k]), InvalidArgument,
               "input ", i, " shares memory with output ", k,
               " (expected each state input to be its own output or disjoint from all outputs)");
    }
    for (size_t j = 0; j < k; ++j) {
      TF_CHECK(!ctx.outputs[j].shares_storage(ctx.outputs[k]), InvalidArgument, "outputs ", j,
               " and ", k, " share memory");
    }
  }
}

}  // namespace tenflowers
