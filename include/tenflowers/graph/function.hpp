#pragma once
// Function: eager code turned into optimized graphs, like tf.function. The first call with a
// given input signature (dtypes, shapes, devices) traces the code, optimizes the graph and
// keeps a Session for it; later calls with that signature run the Session. Captured tensors are
// read at each run, so variables updated in place are seen. Calls under a GradientTape are
// recorded op by op (fused regions included), so gradients flow as in eager mode.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tenflowers/graph/passes.hpp"
#include "tenflowers/graph/session.hpp"
#include "tenflowers/graph/trace.hpp"

namespace tenflowers::graph {

class Function {
 public:
  explicit Function(TracedFn fn, OptimizeOptions options = {});
  // Single input, single output.
  explicit Function(std::function<Tensor(const Tensor&)> fn, OptimizeOptions options = {});

  std::vector<Tensor> operator()(std::span<const Tensor> inputs);
  std::vector<Tensor> operator()(std::initializer_list<Tensor> inputs) {
    return (*this)(std::span<const Tensor>(inputs.begin(), inputs.size()));
  }
  Tensor call1(const Tensor& input);  // the single output of a one-input call

  // The optimized graph run for inputs of this signature (traced if not yet).
  const Graph& graph_for(std::span<const Tensor> inputs);
  size_t num_traces() const;

 private:
  const Session& session_for(std::span<const Tensor> inputs);
  TracedFn fn_;
  OptimizeOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
};

}  // namespace tenflowers::graph
