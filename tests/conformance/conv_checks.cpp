#include "tests/support/conformance.hpp"

namespace tenflowers::testing {

void register_conv_checks(CheckRegistry& r) {
  (void)r;
}

}  // namespace tenflowers::testing
