#pragma once
// Fused optimizer updates on the GPU: plain structs only (see optimizer.cpp for the host side).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "src/backends/common/optimizer_rules.hpp"
#include "tenflowers/core/dtype.hpp"

namespace tenflowers::cuda {

enum class OptimizerRule : uint8_t {
  Sgd,
  SgdMomentum,
  SgdMomentumNesterov,
  SgdMomentumFirst,
  SgdMomentumNesterovFirst,
  Adam,
  AdamAmsgrad,
  Rmsprop,
  RmspropMomentum,
  RmspropCentered,
  RmspropCenteredMomentum,
  Adagrad,
};

// Updates state[0..count) (param, then slots; contiguous, in place) from grad (contiguous), all
// of dtype `type`, over `numel` elements.
// With `step` (the f64 step state, device memory), the step-dependent hyperparameters come from
// it (rules::with_step_state).
struct OptimizerArgs {
  void* state[4];
  const void* grad;
  int64_t numel;
  OptimizerHyper hyper;
  const double* step = nullptr;
  cudaStream_t stream;
};
const char* launch_optimizer(OptimizerRule rule, DType type, const OptimizerArgs& args);

// next = the step state advanced from `state` with the learning rate *lr (rules::
// advance_step_state); next may be state. All f64 device memory.
const char* launch_optimizer_step(double* next, const double* state, const double* lr, double beta1,
                                  double beta2, cudaStream_t stream);

}  // namespace tenflowers::cuda
