#pragma once
// The stages behind Dataset: a Node is an immutable description of a stage, a Pass is one run
// through it. Each stage lives in its own .cpp and is built by one of the make_* functions.
#include <cstdint>
#include <memory>
#include <optional>

#include "tenflowers/data/dataset.hpp"

namespace tenflowers::data::detail {

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::optional<Element> next() = 0;
};

// Nodes are always owned by shared_ptr; a pass keeps its node alive through self().
class Node : public std::enable_shared_from_this<Node> {
 public:
  virtual ~Node() = default;
  virtual std::unique_ptr<Pass> open() const = 0;
  virtual int64_t cardinality() const = 0;

 protected:
  template <class Derived>
  std::shared_ptr<const Derived> self(const Derived* /*this*/) const {
    return std::static_pointer_cast<const Derived>(shared_from_this());
  }
};

using NodePtr = std::shared_ptr<const Node>;

NodePtr make_slices_node(std::vector<Tensor> components);
NodePtr make_range_node(int64_t start, int64_t stop, int64_t step);
NodePtr make_generator_node(std::function<Dataset::Generator()> make_generator,
                            int64_t cardinality);
NodePtr make_map_node(NodePtr input, Dataset::MapFn fn);
NodePtr make_parallel_map_node(NodePtr input, Dataset::MapFn fn, int num_parallel_calls);
NodePtr make_filter_node(NodePtr input, Dataset::Predicate predicate);
NodePtr make_shuffle_node(NodePtr input, int64_t buffer_size, uint64_t seed, bool reshuffle);
NodePtr make_batch_node(NodePtr input, int64_t batch_size, bool drop_remainder);
NodePtr make_prefetch_node(NodePtr input, int64_t buffer_size);
NodePtr make_take_node(NodePtr input, int64_t count);
NodePtr make_skip_node(NodePtr input, int64_t count);
NodePtr make_repeat_node(NodePtr input, int64_t count);

}  // namespace tenflowers::data::detail
