// Dataset sources: slices of tensors, integer ranges and user generators.
#include "src/data/node.hpp"

namespace tenflowers::data::detail {
namespace {

class SlicesNode final : public Node {
 public:
  explicit SlicesNode(std::vector<Tensor> components) : components_(std::move(components)) {
    TF_CHECK(!components_.empty(), InvalidArgument,
             "Dataset::from_tensors: expected at least one component tensor");
    for (size_t c = 0; c < components_.size(); ++c) {
      TF_CHECK(components_[c].defined(), InvalidArgument, "Dataset::from_tensors: component ", c,
               " is an undefined tensor");
      TF_CHECK(components_[c].rank() >= 1, ShapeError, "Dataset::from_tensors: component ", c,
               " is 0-d; slicing needs rank >= 1");
      TF_CHECK(components_[c].size(0) == components_[0].size(0), ShapeError,
               "Dataset::from_tensors: component ", c, " has shape ", components_[c].shape(),
               " but component 0 has ", components_[0].size(0),
               " rows; all leading extents must agree");
    }
  }

  std::unique_ptr<Pass> open() const override { return std::make_unique<SlicesPass>(self(this)); }
  int64_t cardinality() const override { return components_[0].size(0); }

 private:
  class SlicesPass final : public Pass {
   public:
    explicit SlicesPass(std::shared_ptr<const SlicesNode> node) : node_(std::move(node)) {}
    std::optional<Element> next() override {
      const std::vector<Tensor>& components = node_->components_;
      if (row_ == components[0].size(0)) return std::nullopt;
      Element element;
      element.reserve(components.size());
      for (const Tensor& c : components) element.push_back(c.select(0, row_));
      ++row_;
      return element;
    }

   private:
    std::shared_ptr<const SlicesNode> node_;
    int64_t row_ = 0;
  };

  std::vector<Tensor> components_;
};

class RangeNode final : public Node {
 public:
  RangeNode(int64_t start, int64_t stop, int64_t step) : start_(start), step_(step) {
    TF_CHECK(step != 0, InvalidArgument, "Dataset::range: step must not be 0");
    // 128-bit arithmetic: stop - start can overflow int64.
    const __int128 span = static_cast<__int128>(stop) - start;
    const __int128 count = span / step + (span % step != 0 ? 1 : 0);
    count_ = count > 0 ? static_cast<int64_t>(count) : 0;
  }

  std::unique_ptr<Pass> open() const override {
    return std::make_unique<RangePass>(start_, step_, count_);
  }
  int64_t cardinality() const override { return count_; }

 private:
  class RangePass final : public Pass {
   public:
    RangePass(int64_t start, int64_t step, int64_t count)
        : start_(start), step_(step), count_(count) {}
    std::optional<Element> next() override {
      if (index_ == count_) return std::nullopt;
      const int64_t value = start_ + index_++ * step_;
      return Element{Tensor::from_scalar<int64_t>(value)};
    }

   private:
    int64_t start_, step_, count_, index_ = 0;
  };

  int64_t start_, step_, count_;
};

class GeneratorNode final : public Node {
 public:
  GeneratorNode(std::function<Dataset::Generator()> make_generator, int64_t cardinality)
      : make_generator_(std::move(make_generator)), cardinality_(cardinality) {}

  std::unique_ptr<Pass> open() const override {
    Dataset::Generator generator = make_generator_();
    TF_CHECK(generator, InvalidArgument,
             "Dataset::from_generator: the factory returned an empty generator");
    return std::make_unique<GeneratorPass>(std::move(generator));
  }
  int64_t cardinality() const override { return cardinality_; }

 private:
  class GeneratorPass final : public Pass {
   public:
    explicit GeneratorPass(Dataset::Generator generator) : generator_(std::move(generator)) {}
    std::optional<Element> next() override { return generator_(); }

   private:
    Dataset::Generator generator_;
  };

  std::function<Dataset::Generator()> make_generator_;
  int64_t cardinality_;
};

}  // namespace

NodePtr make_slices_node(std::vector<Tensor> components) {
  return std::make_shared<SlicesNode>(std::move(components));
}

NodePtr make_range_node(int64_t start, int64_t stop, int64_t step) {
  return std::make_shared<RangeNode>(start, stop, step);
}

NodePtr make_generator_node(std::function<Dataset::Generator()> make_generator,
                            int64_t cardinality) {
  return std::make_shared<GeneratorNode>(std::move(make_generator), cardinality);
}

}  // namespace tenflowers::data::detail
