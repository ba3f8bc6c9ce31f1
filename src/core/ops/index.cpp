#include "src/core/ops/register.hpp"

namespace tenflowers {

void register_index_ops(OpRegistry& r) {
  (void)r;
}

}  // namespace tenflowers
