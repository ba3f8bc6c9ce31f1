#include "src/core/ops/register.hpp"

namespace tenflowers {

void register_binary_ops(OpRegistry& r) {
  (void)r;
}

}  // namespace tenflowers
