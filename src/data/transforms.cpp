// Element-at-a-time stages: map, filter, take, skip and repeat.
#include <limits>

#include "src/data/node.hpp"

namespace tenflowers::data::detail {
namespace {

class MapNode final : public Node {
 public:
  MapNode(NodePtr input, Dataset::MapFn fn) : input_(std::move(input)), fn_(std::move(fn)) {}
  std::unique_ptr<Pass> open() const override {
    return std::make_unique<MapPass>(self(this), input_->open());
  }
  int64_t cardinality() const override { return input_->cardinality(); }

 private:
  class MapPass final : public Pass {
   public:
    MapPass(std::shared_ptr<const MapNode> node, std::unique_ptr<Pass> input)
        : node_(std::move(node)), input_(std::move(input)) {}
    std::optional<Element> next() override {
      std::optional<Element> element = input_->next();
      if (!element) return std::nullopt;
      return node_->fn_(std::move(*element));
    }

   private:
    std::shared_ptr<const MapNode> node_;
    std::unique_ptr<Pass> input_;
  };

  NodePtr input_;
  Dataset::MapFn fn_;
};

class FilterNode final : public Node {
 public:
  FilterNode(NodePtr input, Dataset::Predicate predicate)
      : input_(std::move(input)), predicate_(std::move(predicate)) {}
  std::unique_ptr<Pass> open() const override {
    return std::make_unique<FilterPass>(self(this), input_->open());
  }
  // Unknown even for an infinite input: the predicate may reject everything after some point.
  int64_t cardinality() const override {
    return input_->cardinality() == 0 ? 0 : kUnknownCardinality;
  }

 private:
  class FilterPass final : public Pass {
   public:
    FilterPass(std::shared_ptr<const FilterNode> node, std::unique_ptr<Pass> input)
        : node_(std::move(node)), input_(std::move(input)) {}
    std::optional<Element> next() override {
      while (std::optional<Element> element = input_->next()) {
        if (node_->predicate_(*element)) return element;
      }
      return std::nullopt;
    }

   private:
    std::shared_ptr<const FilterNode> node_;
    std::unique_ptr<Pass> input_;
  };

  NodePtr input_;
  Dataset::Predicate predicate_;
};

class TakeNode final : public Node {
 public:
  TakeNode(NodePtr input, int64_t count) : input_(std::move(input)), count_(count) {}
  std::unique_ptr<Pass> open() const override {
    return std::make_unique<TakePass>(input_->open(), count_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (count_ < 0) return n;
    if (n == kInfiniteCardinality) return count_;
    if (n == kUnknownCardinality) return count_ == 0 ? 0 : kUnknownCardinality;
    return std::min(n, count_);
  }

 private:
  class TakePass final : public Pass {
   public:
    TakePass(std::unique_ptr<Pass> input, int64_t count)
        : input_(std::move(input)), remaining_(count) {}
    std::optional<Element> next() override {
      if (remaining_ == 0) return std::nullopt;
      std::optional<Element> element = input_->next();
      if (!element) {
        remaining_ = 0;
        return std::nullopt;
      }
      if (remaining_ > 0) --remaining_;
      return element;
    }

   private:
    std::unique_ptr<Pass> input_;
    int64_t remaining_;  // negative: unlimited
  };

  NodePtr input_;
  int64_t count_;
};

class SkipNode final : public Node {
 public:
  SkipNode(NodePtr input, int64_t count) : input_(std::move(input)), count_(count) {}
  std::unique_ptr<Pass> open() const override {
    return std::make_unique<SkipPass>(input_->open(), count_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (count_ < 0) return 0;
    if (n < 0) return n;  // infinite stays infinite, unknown stays unknown
    return std::max<int64_t>(0, n - count_);
  }

 private:
  class SkipPass final : public Pass {
   public:
    SkipPass(std::unique_ptr<Pass> input, int64_t count)
        : input_(std::move(input)), to_skip_(count) {}
    std::optional<Element> next() override {
      if (to_skip_ < 0) return std::nullopt;
      for (; to_skip_ > 0; --to_skip_) {
        if (!input_->next()) {
          to_skip_ = 0;
          return std::nullopt;
        }
      }
      return input_->next();
    }

   private:
    std::unique_ptr<Pass> input_;
    int64_t to_skip_;  // negative: skip everything
  };

  NodePtr input_;
  int64_t count_;
};

class RepeatNode final : public Node {
 public:
  RepeatNode(NodePtr input, int64_t count) : input_(std::move(input)), count_(count) {
    const int64_t n = input_->cardinality();
    TF_CHECK(count_ <= 0 || n <= 0 || n <= std::numeric_limits<int64_t>::max() / count_,
             InvalidArgument, "Dataset::repeat: ", count_, " repetitions of ", n,
             " elements overflow a 64-bit count");
  }
  std::unique_ptr<Pass> open() const override { return std::make_unique<RepeatPass>(self(this)); }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (count_ == 0 || n == 0) return 0;
    if (count_ < 0) return n == kUnknownCardinality ? kUnknownCardinality : kInfiniteCardinality;
    if (n < 0) return n;
    return n * count_;
  }

 private:
  class RepeatPass final : public Pass {
   public:
    explicit RepeatPass(std::shared_ptr<const RepeatNode> node) : node_(std::move(node)) {}
    std::optional<Element> next() override {
      while (!done_) {
        if (!input_) {
          if (node_->count_ >= 0 && started_ == node_->count_) break;
          input_ = node_->input_->open();
          ++started_;
          yielded_in_pass_ = false;
        }
        if (std::optional<Element> element = input_->next()) {
          yielded_in_pass_ = true;
          return element;
        }
        input_.reset();
        // An empty pass under an endless repeat would loop forever.
        if (node_->count_ < 0 && !yielded_in_pass_) break;
      }
      done_ = true;
      return std::nullopt;
    }

   private:
    std::shared_ptr<const RepeatNode> node_;
    std::unique_ptr<Pass> input_;
    int64_t started_ = 0;
    bool yielded_in_pass_ = false;
    bool done_ = false;
  };

  NodePtr input_;
  int64_t count_;
};

}  // namespace

NodePtr make_map_node(NodePtr input, Dataset::MapFn fn) {
  return std::make_shared<MapNode>(std::move(input), std::move(fn));
}
NodePtr make_filter_node(NodePtr input, Dataset::Predicate predicate) {
  return std::make_shared<FilterNode>(std::move(input), std::move(predicate));
}
NodePtr make_take_node(NodePtr input, int64_t count) {
  return std::make_shared<TakeNode>(std::move(input), count);
}
NodePtr make_skip_node(NodePtr input, int64_t count) {
  return std::make_shared<SkipNode>(std::move(input), count);
}
NodePtr make_repeat_node(NodePtr input, int64_t count) {
  return std::make_shared<RepeatNode>(std::move(input), count);
}

}  // namespace tenflowers::data::detail
