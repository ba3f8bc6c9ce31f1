// tf.data's buffered shuffle: fill a buffer, emit a uniformly drawn slot, refill it from the
// input; once the input is exhausted, drain the buffer the same way.
#include <atomic>

#include "src/data/node.hpp"
#include "src/data/seed.hpp"

namespace tenflowers::data::detail {
namespace {

class ShuffleNode final : public Node {
 public:
  ShuffleNode(NodePtr input, int64_t buffer_size, uint64_t seed, bool reshuffle)
      : input_(std::move(input)), buffer_size_(buffer_size), seed_(seed), reshuffle_(reshuffle) {}

  std::unique_ptr<Pass> open() const override {
    const uint64_t pass = reshuffle_ ? passes_.fetch_add(1) : 0;
    return std::make_unique<ShufflePass>(input_->open(), buffer_size_,
                                         derive_seed(seed_, SeedStream::Shuffle, pass));
  }
  int64_t cardinality() const override { return input_->cardinality(); }

 private:
  class ShufflePass final : public Pass {
   public:
    ShufflePass(std::unique_ptr<Pass> input, int64_t buffer_size, uint64_t seed)
        : input_(std::move(input)), buffer_size_(static_cast<size_t>(buffer_size)), seed_(seed) {}

    std::optional<Element> next() override {
      while (!input_done_ && buffer_.size() < buffer_size_) {
        std::optional<Element> element = input_->next();
        if (!element) {
          input_done_ = true;
          break;
        }
        buffer_.push_back(std::move(*element));
      }
      if (buffer_.empty()) return std::nullopt;
      const size_t slot = bounded(random_u64(seed_, draws_++, 0), buffer_.size());
      Element out = std::move(buffer_[slot]);
      buffer_[slot] = std::move(buffer_.back());
      buffer_.pop_back();
      return out;
    }

   private:
    std::unique_ptr<Pass> input_;
    size_t buffer_size_;
    uint64_t seed_;
    uint64_t draws_ = 0;
    bool input_done_ = false;
    std::vector<Element> buffer_;
  };

  NodePtr input_;
  int64_t buffer_size_;
  uint64_t seed_;
  bool reshuffle_;
  mutable std::atomic<uint64_t> passes_{0};  // the only mutable state: passes opened so far
};

}  // namespace

NodePtr make_shuffle_node(NodePtr input, int64_t buffer_size, uint64_t seed, bool reshuffle) {
  return std::make_shared<ShuffleNode>(std::move(input), buffer_size, seed, reshuffle);
}

}  // namespace tenflowers::data::detail
