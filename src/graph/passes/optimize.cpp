#include "tenflowers/graph/passes.hpp"

namespace tenflowers::graph {

Graph optimize(const Graph& graph, const OptimizeOptions& options) {
  Graph result = eliminate_dead_nodes(graph);
  if (options.fuse_elementwise) result = fuse_elementwise(result);
  return result;
}

}  // namespace tenflowers::graph
