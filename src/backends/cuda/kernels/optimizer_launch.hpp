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
struct OptimizerArgs {
  void* state[4];
  const void* grad;
  int64_t numel;
  OptimizerHyper hyper;
  cudaStream_t stream;
};
const char* launch_optimizer(OptimizerRule rule, DType type, const OptimizerArgs& args);

}  // namespace tenflowers::cuda
