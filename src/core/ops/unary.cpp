#include "src/core/ops/register.hpp"

namespace tenflowers {

void register_unary_ops(OpRegistry& r) {
  (void)r;
}

}  // namespace tenflowers
