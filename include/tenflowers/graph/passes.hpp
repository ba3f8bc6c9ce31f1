#pragma once
// Graph optimizer passes. Each returns an equivalent graph (same placeholders in the same order,
// same outputs); optimize() runs the standard pipeline.
#include "tenflowers/graph/graph.hpp"

namespace tenflowers::graph {

// Drops op and constant nodes no output depends on. Placeholders stay: they are the interface.
Graph eliminate_dead_nodes(const Graph& graph);

// Replaces each connected region of fusible elementwise ops (fused_elementwise.hpp) that share
// one floating dtype with one fused_elementwise node, so the region runs in one pass over
// memory. A value read outside its region, or a graph output, ends the region there.
Graph fuse_elementwise(const Graph& graph);

struct OptimizeOptions {
  bool fuse_elementwise = true;
};
Graph optimize(const Graph& graph, const OptimizeOptions& options = {});

}  // namespace tenflowers::graph
