#pragma once
// The op conformance harness. Each registered op has a check: a function that runs the op on
// fresh random inputs of several shapes (broadcast and strided views included) and compares it
// with a float64 reference computed independently. The harness test fails when a registered
// op has no check. Checks register explicitly, one function per op family.
#include <functional>
#include <map>
#include <string>

#include "tests/support/reference.hpp"

namespace tenflowers::testing {

// A check runs its own cases and reports with gtest assertions; `device` is where the op runs.
using OpCheck = std::function<void(Rng& rng, Device device)>;

class CheckRegistry {
 public:
  // One check may cover several ops (e.g. "max" and "min"); list every op it covers.
  void add(std::vector<std::string> ops, OpCheck check);
  const std::map<std::string, OpCheck>& checks() const { return checks_; }

 private:
  std::map<std::string, OpCheck> checks_;
};

CheckRegistry& conformance_checks();  // every family registered

// One per op family, in tests/conformance/<family>_checks.cpp.
void register_view_checks(CheckRegistry& r);
void register_creation_checks(CheckRegistry& r);
void register_unary_checks(CheckRegistry& r);
void register_binary_checks(CheckRegistry& r);
void register_reduction_checks(CheckRegistry& r);
void register_linalg_checks(CheckRegistry& r);
void register_conv_checks(CheckRegistry& r);
void register_index_checks(CheckRegistry& r);
void register_shape_checks(CheckRegistry& r);
void register_optimizer_checks(CheckRegistry& r);
void register_fused_checks(CheckRegistry& r);
void register_normalization_checks(CheckRegistry& r);
void register_batch_norm_checks(CheckRegistry& r);

}  // namespace tenflowers::testing
