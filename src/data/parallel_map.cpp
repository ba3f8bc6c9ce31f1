// map with worker threads: the consumer's thread draws input elements (passes are not thread
// safe) and hands fn calls to the workers; results come back in input order.
#include "src/data/node.hpp"
#include "src/data/ordered_workers.hpp"

namespace tenflowers::data::detail {
namespace {

class ParallelMapNode final : public Node {
 public:
  ParallelMapNode(NodePtr input, Dataset::MapFn fn, int num_parallel_calls)
      : input_(std::move(input)), fn_(std::move(fn)), num_parallel_calls_(num_parallel_calls) {}

  std::unique_ptr<Pass> open() const override {
    return std::make_unique<ParallelMapPass>(self(this), input_->open());
  }
  int64_t cardinality() const override { return input_->cardinality(); }

 private:
  class ParallelMapPass final : public Pass {
   public:
    ParallelMapPass(std::shared_ptr<const ParallelMapNode> node, std::unique_ptr<Pass> input)
        : node_(std::move(node)), input_(std::move(input)), workers_(node_->num_parallel_calls_) {}

    std::optional<Element> next() override {
      const auto in_flight = static_cast<size_t>(node_->num_parallel_calls_);
      while (!input_done_ && workers_.pending() < in_flight) {
        std::optional<Element> element;
        try {
          element = input_->next();
        } catch (...) {
          // Delivered in its place in the order, after the elements already in flight.
          workers_.submit(
              [error = std::current_exception()]() -> Element { std::rethrow_exception(error); });
          continue;
        }
        if (!element) {
          input_done_ = true;
          break;
        }
        workers_.submit([node = node_, element = std::move(*element)]() mutable {
          return node->fn_(std::move(element));
        });
      }
      if (workers_.pending() == 0) return std::nullopt;
      return workers_.take();
    }

   private:
    std::shared_ptr<const ParallelMapNode> node_;
    std::unique_ptr<Pass> input_;
    bool input_done_ = false;
    OrderedWorkers workers_;  // last: joined before the input pass goes away
  };

  NodePtr input_;
  Dataset::MapFn fn_;
  int num_parallel_calls_;
};

}  // namespace

NodePtr make_parallel_map_node(NodePtr input, Dataset::MapFn fn, int num_parallel_calls) {
  return std::make_shared<ParallelMapNode>(std::move(input), std::move(fn), num_parallel_calls);
}

}  // namespace tenflowers::data::detail
