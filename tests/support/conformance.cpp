#include "tests/support/conformance.hpp"

namespace tenflowers::testing {

void CheckRegistry::add(std::vector<std::string> ops, OpCheck check) {
  for (auto& op : ops) {
    if (!checks_.emplace(op, check).second) {
      throw std::logic_error("conformance check for '" + op + "' registered twice");
    }
  }
}

CheckRegistry& conformance_checks() {
  static CheckRegistry* instance = [] {
    auto* r = new CheckRegistry();
    register_view_checks(*r);
    register_creation_checks(*r);
    register_unary_checks(*r);
    register_binary_checks(*r);
    register_reduction_checks(*r);
    register_linalg_checks(*r);
    register_conv_checks(*r);
    register_index_checks(*r);
    register_shape_checks(*r);
    register_optimizer_checks(*r);
    register_fused_checks(*r);
    register_normalization_checks(*r);
    register_batch_norm_checks(*r);
    return r;
  }();
  return *instance;
}

}  // namespace tenflowers::testing
