#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {

void register_shape_grad_samples(SampleRegistry& r) {
  (void)r;
}

}  // namespace tenflowers::testing
