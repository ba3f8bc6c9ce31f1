// Every differentiable op: reverse-mode gradients and JVPs against central finite differences
// in float64, on every device with a kernel for it. Fails when a differentiable op has no samples.
#include <gtest/gtest.h>

#include "tests/support/gradcheck.hpp"

namespace tenflowers::testing {
namespace {

std::vector<std::string> differentiable_ops() {
  std::vector<std::string> names;
  for (const OpDef* op : registry().all()) {
    if (op->differentiable && !op->stops_gradient) names.push_back(op->name);
  }
  return names;
}

TEST(GradientConformance, EveryDifferentiableOpHasRulesAndSamples) {
  std::vector<std::string> missing_samples, missing_rules;
  for (const OpDef* op : registry().all()) {
    if (!op->differentiable || op->stops_gradient) continue;
    if (!gradient_samples().samples().count(op->name)) missing_samples.push_back(op->name);
    if (!op->grad || !op->jvp) missing_rules.push_back(op->name);
  }
  EXPECT_TRUE(missing_rules.empty()) << "differentiable ops without a gradient or JVP rule: "
                                     << ::testing::PrintToString(missing_rules);
  EXPECT_TRUE(missing_samples.empty()) << "differentiable ops without gradient samples: "
                                       << ::testing::PrintToString(missing_samples);
}

class OpGradient : public ::testing::TestWithParam<std::string> {};

TEST_P(OpGradient, MatchesFiniteDifferences) {
  const auto& all = gradient_samples().samples();
  auto it = all.find(GetParam());
  ASSERT_NE(it, all.end()) << "no gradient samples for op " << GetParam();
  const OpDef& op = registry().get(GetParam());
  for (DeviceType type : {DeviceType::CPU, DeviceType::CUDA}) {
    if (!has_backend(type)) continue;
    if (!op.direct && !op.kernel(type)) continue;
    const Device device{type, 0};
    Rng rng = Rng::for_test();
    SCOPED_TRACE("device " + device.str() + ", seed " + std::to_string(rng.seed()));
    for (const OpSample& sample : it->second(rng)) check_gradients(op, sample, rng, device);
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradient, ::testing::ValuesIn(differentiable_ops()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tenflowers::testing
