#pragma once
// Random fused_elementwise programs for the conformance and gradient checks, and a float64
// evaluator of them written here with <cmath>, independent of the kernels.
#include <cmath>
#include <span>
#include <string_view>
#include <vector>

#include "tenflowers/core/fused_elementwise.hpp"
#include "tests/support/reference.hpp"

namespace tenflowers::testing::fused {

struct RefOp {
  std::string_view name;
  int arity;
  double (*apply)(double a, double b);
  bool smooth;  // differentiable everywhere: usable for finite differences anywhere
};

inline const RefOp kRefOps[] = {
    {"add", 2, [](double a, double b) { return a + b; }, true},
    {"sub", 2, [](double a, double b) { return a - b; }, true},
    {"mul", 2, [](double a, double b) { return a * b; }, true},
    {"maximum", 2, [](double a, double b) { return std::max(a, b); }, false},
    {"minimum", 2, [](double a, double b) { return std::min(a, b); }, false},
    {"neg", 1, [](double a, double) { return -a; }, true},
    {"abs", 1, [](double a, double) { return std::abs(a); }, false},
    {"square", 1, [](double a, double) { return a * a; }, true},
    {"relu", 1, [](double a, double) { return a > 0 ? a : 0.0; }, false},
    {"tanh", 1, [](double a, double) { return std::tanh(a); }, true},
    {"sigmoid", 1, [](double a, double) { return 1.0 / (1.0 + std::exp(-a)); }, true},
    {"sin", 1, [](double a, double) { return std::sin(a); }, true},
    {"cos", 1, [](double a, double) { return std::cos(a); }, true},
};

inline const RefOp& ref_op(std::string_view name) {
  for (const RefOp& op : kRefOps) {
    if (op.name == name) return op;
  }
  throw std::logic_error("no float64 reference for " + std::string(name));
}

// A program over `num_inputs` inputs that uses every input and every step: pending values are
// combined until one is left, with a few extra steps on top.
inline FusedProgram random_program(Rng& rng, size_t num_inputs, bool smooth_only) {
  std::vector<const RefOp*> unary, binary;
  for (const RefOp& op : kRefOps) {
    if (smooth_only && !op.smooth) continue;
    (op.arity == 1 ? unary : binary).push_back(&op);
  }
  auto pick = [&](const std::vector<const RefOp*>& ops) {
    return ops[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(ops.size()) - 1))];
  };
  FusedProgram program;
  program.num_inputs = num_inputs;
  std::vector<int64_t> pending;
  for (size_t i = 0; i < num_inputs; ++i) pending.push_back(static_cast<int64_t>(i));
  int64_t extra = std::max<int64_t>(rng.integer(0, 3), num_inputs == 1 ? 1 : 0);
  int64_t values = static_cast<int64_t>(num_inputs);
  auto take = [&] {
    const auto at = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(pending.size()) - 1));
    const int64_t v = pending[at];
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(at));
    return v;
  };
  while (pending.size() > 1 || extra > 0) {
    const bool combine = pending.size() > 1 || rng.integer(0, 1) == 0;
    if (pending.size() == 1) --extra;
    const RefOp* op = combine ? pick(binary) : pick(unary);
    const int64_t lhs = take();
    const int64_t rhs =
        op->arity == 1 ? -1 : (pending.empty() ? rng.integer(0, values - 1) : take());
    program.steps.push_back({&registry().get(op->name), lhs, rhs});
    pending.push_back(values++);
  }
  return program;
}

inline double evaluate(const FusedProgram& program, std::span<const double> inputs) {
  std::vector<double> values(inputs.begin(), inputs.end());
  for (const FusedStep& step : program.steps) {
    const double b = step.rhs < 0 ? 0.0 : values[static_cast<size_t>(step.rhs)];
    values.push_back(ref_op(step.op->name).apply(values[static_cast<size_t>(step.lhs)], b));
  }
  return values.back();
}

// Input shapes that broadcast to `shape`: input 0 has it; the others drop leading axes or
// have extent 1 on some axes.
inline std::vector<std::vector<int64_t>> broadcast_shapes_for(Rng& rng,
                                                              const std::vector<int64_t>& shape,
                                                              size_t count) {
  std::vector<std::vector<int64_t>> shapes{shape};
  for (size_t i = 1; i < count; ++i) {
    std::vector<int64_t> s(shape.begin() + rng.integer(0, static_cast<int64_t>(shape.size())),
                           shape.end());
    for (int64_t& d : s) {
      if (rng.integer(0, 2) == 0) d = 1;
    }
    shapes.push_back(s);
  }
  return shapes;
}

// Element `index` of `r` broadcast to an output of rank index.size().
inline double broadcast_at(const Ref& r, const std::vector<int64_t>& index) {
  std::vector<int64_t> at(r.shape.size());
  const size_t lead = index.size() - r.shape.size();
  for (size_t d = 0; d < r.shape.size(); ++d) at[d] = r.shape[d] == 1 ? 0 : index[d + lead];
  return r.at(at);
}

}  // namespace tenflowers::testing::fused
