// Runs every op's conformance check on every device that has a kernel (or a kernel-free path)
// for it, and fails when a registered op has no check.
#include <gtest/gtest.h>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

std::vector<std::string> registered_ops() {
  std::vector<std::string> names;
  for (const OpDef* op : registry().all()) names.push_back(op->name);
  return names;
}

TEST(Conformance, EveryRegisteredOpHasACheck) {
  const auto& checks = conformance_checks().checks();
  std::vector<std::string> missing;
  for (const std::string& name : registered_ops()) {
    if (!checks.count(name)) missing.push_back(name);
  }
  EXPECT_TRUE(missing.empty()) << "ops without a conformance check: "
                               << ::testing::PrintToString(missing);
}

class OpConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(OpConformance, MatchesFloat64Reference) {
  const auto& checks = conformance_checks().checks();
  auto it = checks.find(GetParam());
  ASSERT_NE(it, checks.end()) << "no check for op " << GetParam();
  const OpDef& op = registry().get(GetParam());
  for (DeviceType type : {DeviceType::CPU, DeviceType::CUDA}) {
    if (!has_backend(type)) continue;
    if (!op.direct && !op.kernel(type)) continue;
    Rng rng = Rng::for_test();
    const Device device{type, 0};
    SCOPED_TRACE("device " + device.str() + ", seed " + std::to_string(rng.seed()));
    it->second(rng, device);
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpConformance, ::testing::ValuesIn(registered_ops()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tenflowers::testing
