#include "src/core/ops/register.hpp"

namespace tenflowers {

void register_core_ops(OpRegistry& r) {
  register_view_ops(r);
  register_copy_ops(r);
  register_creation_ops(r);
  register_unary_ops(r);
  register_binary_ops(r);
  register_reduction_ops(r);
  register_linalg_ops(r);
  register_linear_ops(r);
  register_conv_ops(r);
  register_index_ops(r);
  register_shape_ops(r);
  register_optimizer_ops(r);
  register_fused_ops(r);
  register_normalization_ops(r);
  register_batch_norm_ops(r);
}

}  // namespace tenflowers
