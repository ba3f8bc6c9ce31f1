// Elementwise fusion. Nodes are visited from the last to the first, so a node's consumers are
// all placed before the node itself: a fusible node joins its consumers' region when every
// consumer is in that one region and its value is not a graph output; otherwise it roots a
// region of its own. A region built this way is convex (no path leaves it and comes back), so
// emitting it as one node where its root stood keeps the graph in topological order.
#include <algorithm>

#include "src/graph/passes/rebuild.hpp"
#include "tenflowers/core/fused_elementwise.hpp"
#include "tenflowers/graph/passes.hpp"

namespace tenflowers::graph {
namespace {

bool fusible(const Graph& graph, const Node& n) {
  if (n.kind != NodeKind::Op || !is_fusible_elementwise(*n.op) || n.outputs.size() != 1) {
    return false;
  }
  const DType dtype = n.outputs[0].dtype;
  if (!is_floating(dtype)) return false;
  return std::all_of(n.inputs.begin(), n.inputs.end(), [&](ValueRef in) {
    const TensorMeta& m = graph.meta(in);
    return m.dtype == dtype && m.device == n.outputs[0].device;
  });
}

struct Region {
  std::vector<int32_t> members;  // ascending node order once sorted
};

// The values read by a region from outside it, in order of first use.
std::vector<ValueRef> external_inputs(const Graph& graph, const std::vector<int32_t>& members) {
  std::vector<ValueRef> inputs;
  for (int32_t m : members) {
    for (ValueRef in : graph.node(m).inputs) {
      const bool inside = std::find(members.begin(), members.end(), in.node) != members.end();
      if (!inside && std::find(inputs.begin(), inputs.end(), in) == inputs.end()) {
        inputs.push_back(in);
      }
    }
  }
  return inputs;
}

}  // namespace

Graph fuse_elementwise(const Graph& graph) {
  const auto& nodes = graph.nodes();
  const size_t count = nodes.size();
  std::vector<std::vector<int32_t>> consumers(count);
  for (size_t i = 0; i < count; ++i) {
    for (ValueRef in : nodes[i].inputs)
      consumers[static_cast<size_t>(in.node)].push_back(static_cast<int32_t>(i));
  }
  std::vector<bool> is_output(count, false);
  for (ValueRef out : graph.outputs()) is_output[static_cast<size_t>(out.node)] = true;

  std::vector<int32_t> region_of(count, -1);
  std::vector<Region> regions;
  for (size_t i = count; i-- > 0;) {
    if (!fusible(graph, nodes[i])) continue;
    const auto& users = consumers[i];
    int32_t joined = -1;
    if (!is_output[i] && !users.empty()) {
      const int32_t candidate = region_of[static_cast<size_t>(users[0])];
      const bool one_region =
          candidate >= 0 && std::all_of(users.begin(), users.end(), [&](int32_t u) {
            return region_of[static_cast<size_t>(u)] == candidate;
          });
      if (one_region) {
        std::vector<int32_t> grown = regions[static_cast<size_t>(candidate)].members;
        grown.push_back(static_cast<int32_t>(i));
        if (grown.size() <= kMaxFusedSteps &&
            external_inputs(graph, grown).size() <= kMaxFusedInputs) {
          joined = candidate;
        }
      }
    }
    if (joined < 0) {
      joined = static_cast<int32_t>(regions.size());
      regions.emplace_back();
    }
    regions[static_cast<size_t>(joined)].members.push_back(static_cast<int32_t>(i));
    region_of[i] = joined;
  }

  detail::Rebuild rebuild(graph);
  for (size_t i = 0; i < count; ++i) {
    const int32_t r = region_of[i];
    if (r < 0 || regions[static_cast<size_t>(r)].members.size() < 2) {
      rebuild.copy(static_cast<int32_t>(i));
      continue;
    }
    std::vector<int32_t> members = regions[static_cast<size_t>(r)].members;
    // Emitted once, where the root (the region's last node, the first one placed) stood.
    if (members.front() != static_cast<int32_t>(i)) continue;
    std::sort(members.begin(), members.end());
    const std::vector<ValueRef> inputs = external_inputs(graph, members);
    FusedProgram program;
    program.num_inputs = inputs.size();
    auto value_index = [&](ValueRef v) -> int64_t {
      const auto at = std::find(inputs.begin(), inputs.end(), v);
      if (at != inputs.end()) return at - inputs.begin();
      const auto step = std::find(members.begin(), members.end(), v.node);
      return static_cast<int64_t>(inputs.size()) + (step - members.begin());
    };
    for (int32_t m : members) {
      const Node& n = nodes[static_cast<size_t>(m)];
      program.steps.push_back(
          {n.op, value_index(n.inputs[0]), n.inputs.size() > 1 ? value_index(n.inputs[1]) : -1});
    }
    const Node& root = nodes[static_cast<size_t>(members.back())];
    const std::vector<ValueRef> fused = rebuild.graph().add_op_with_outputs(
        registry().get("fused_elementwise"), rebuild.map(inputs), fused_program_attrs(program),
        root.outputs);
    rebuild.bind(members.back(), fused);
  }
  return rebuild.finish();
}

}  // namespace tenflowers::graph
