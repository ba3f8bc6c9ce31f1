#pragma once
// Session: runs a Graph. Each op node goes through dispatch, exactly as the eager call would,
// so kernels, devices, errors and recording tapes behave the same; every intermediate is
// released after its last use. Random ops traced without a seed draw a fresh stream on each
// run, as repeated eager calls would; those given a seed repeat their numbers.
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tenflowers/graph/graph.hpp"

namespace tenflowers::graph {

class Session {
 public:
  explicit Session(Graph graph);

  // Feeds in the graph's placeholder order; each must match its placeholder's dtype, shape and
  // device. Returns the graph's outputs.
  std::vector<Tensor> run(std::span<const Tensor> feeds) const;
  std::vector<Tensor> run(std::initializer_list<Tensor> feeds) const {
    return run(std::span<const Tensor>(feeds.begin(), feeds.size()));
  }
  // Feeds by placeholder name.
  std::vector<Tensor> run(const std::vector<std::pair<std::string, Tensor>>& feeds) const;

  const Graph& graph() const { return graph_; }

 private:
  Graph graph_;
  std::vector<int32_t> placeholders_;
  std::vector<std::vector<int32_t>> release_after_;  // per node: nodes whose values die there
};

}  // namespace tenflowers::graph
