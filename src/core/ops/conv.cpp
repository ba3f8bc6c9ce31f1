#include "src/core/ops/register.hpp"

namespace tenflowers {

void register_conv_ops(OpRegistry& r) {
  (void)r;
}

}  // namespace tenflowers
