#include "src/graph/passes/rebuild.hpp"
#include "tenflowers/graph/passes.hpp"

namespace tenflowers::graph {

Graph eliminate_dead_nodes(const Graph& graph) {
  const auto& nodes = graph.nodes();
  std::vector<bool> live(nodes.size(), false);
  for (ValueRef out : graph.outputs()) live[static_cast<size_t>(out.node)] = true;
  for (size_t i = nodes.size(); i-- > 0;) {
    if (nodes[i].kind == NodeKind::Placeholder) live[i] = true;
    if (!live[i]) continue;
    for (ValueRef in : nodes[i].inputs) live[static_cast<size_t>(in.node)] = true;
  }
  detail::Rebuild rebuild(graph);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (live[i]) rebuild.copy(static_cast<int32_t>(i));
  }
  return rebuild.finish();
}

}  // namespace tenflowers::graph
