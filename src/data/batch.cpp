// batch: stacks consecutive elements componentwise along a new leading axis.
#include "src/data/element_checks.hpp"
#include "src/data/node.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::data::detail {
namespace {

class BatchNode final : public Node {
 public:
  BatchNode(NodePtr input, int64_t batch_size, bool drop_remainder)
      : input_(std::move(input)), batch_size_(batch_size), drop_remainder_(drop_remainder) {}

  std::unique_ptr<Pass> open() const override {
    return std::make_unique<BatchPass>(input_->open(), batch_size_, drop_remainder_);
  }
  int64_t cardinality() const override {
    const int64_t n = input_->cardinality();
    if (n < 0) return n;
    return drop_remainder_ ? n / batch_size_ : n / batch_size_ + (n % batch_size_ != 0 ? 1 : 0);
  }

 private:
  class BatchPass final : public Pass {
   public:
    BatchPass(std::unique_ptr<Pass> input, int64_t batch_size, bool drop_remainder)
        : input_(std::move(input)), batch_size_(batch_size), drop_remainder_(drop_remainder) {}

    std::optional<Element> next() override {
      std::vector<Element> elements;
      const int64_t first_index = consumed_;
      while (static_cast<int64_t>(elements.size()) < batch_size_) {
        std::optional<Element> element = input_->next();
        if (!element) break;
        const int64_t index = consumed_++;
        if (!elements.empty()) {
          check_same_structure("Dataset::batch", elements.front(), first_index, *element, index);
        }
        elements.push_back(std::move(*element));
      }
      if (elements.empty()) return std::nullopt;
      if (drop_remainder_ && static_cast<int64_t>(elements.size()) < batch_size_) {
        return std::nullopt;
      }
      Element batch(elements.front().size());
      std::vector<Tensor> parts(elements.size());
      for (size_t c = 0; c < batch.size(); ++c) {
        for (size_t i = 0; i < elements.size(); ++i) parts[i] = elements[i][c];
        batch[c] = stack(parts, 0);
      }
      return batch;
    }

   private:
    std::unique_ptr<Pass> input_;
    int64_t batch_size_;
    bool drop_remainder_;
    int64_t consumed_ = 0;  // elements drawn from the input so far
  };

  NodePtr input_;
  int64_t batch_size_;
  bool drop_remainder_;
};

}  // namespace

NodePtr make_batch_node(NodePtr input, int64_t batch_size, bool drop_remainder) {
  return std::make_shared<BatchNode>(std::move(input), batch_size, drop_remainder);
}

}  // namespace tenflowers::data::detail
