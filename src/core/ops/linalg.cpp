#include "src/core/ops/register.hpp"

namespace tenflowers {

void register_linalg_ops(OpRegistry& r) {
  (void)r;
}

}  // namespace tenflowers
