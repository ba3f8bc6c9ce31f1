#pragma once
// Tracing: runs eager code once on symbolic tensors (metadata, no storage) and records every op
// it calls into a Graph. Tensors the code captures from outside become constants; ops without
// symbolic inputs (random numbers, tensors made inside) are recorded too, so each run of the
// graph makes them anew, as eager code would.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tenflowers/graph/graph.hpp"

namespace tenflowers::graph {

struct TensorSpec {
  TensorSpec(Dims shape, DType dtype = DType::F32, Device device = Device::cpu(),
             std::string name = {})
      : shape(std::move(shape)), dtype(dtype), device(device), name(std::move(name)) {}
  Dims shape;
  DType dtype;
  Device device;
  std::string name;  // empty: "input<i>"
};

using TracedFn = std::function<std::vector<Tensor>(std::span<const Tensor> inputs)>;

// The graph of fn for inputs of these specs: one placeholder per spec, the traced ops, and fn's
// results as outputs. Code that reads values (item(), to_vector()) cannot be traced and throws.
Graph trace(const TracedFn& fn, std::span<const TensorSpec> inputs);

}  // namespace tenflowers::graph
