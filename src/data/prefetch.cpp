// prefetch: a producer thread runs the input pass into a bounded queue. Destroying the pass
// stops the producer after the element it is computing and joins it.
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "src/data/node.hpp"

namespace tenflowers::data::detail {
namespace {

class PrefetchNode final : public Node {
 public:
  PrefetchNode(NodePtr input, int64_t buffer_size)
      : input_(std::move(input)), buffer_size_(buffer_size) {}

  std::unique_ptr<Pass> open() const override {
    return std::make_unique<PrefetchPass>(input_->open(), static_cast<size_t>(buffer_size_));
  }
  int64_t cardinality() const override { return input_->cardinality(); }

 private:
  class PrefetchPass final : public Pass {
   public:
    PrefetchPass(std::unique_ptr<Pass> input, size_t capacity)
        : input_(std::move(input)), capacity_(capacity), producer_([this] { produce(); }) {}

    ~PrefetchPass() override {
      {
        std::lock_guard lock(mutex_);
        stopping_ = true;
      }
      space_.notify_all();
      producer_.join();
    }

    std::optional<Element> next() override {
      if (finished_) return std::nullopt;
      Item item;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty(); });
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      space_.notify_one();
      if (item.error) std::rethrow_exception(item.error);
      if (!item.element) finished_ = true;
      return std::move(item.element);
    }

   private:
    struct Item {
      std::optional<Element> element;  // nothing with no error: the end of the pass
      std::exception_ptr error;
    };

    void produce() {
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          space_.wait(lock, [&] { return stopping_ || queue_.size() < capacity_; });
          if (stopping_) return;
        }
        Item item;
        try {
          item.element = input_->next();
        } catch (...) {
          item.error = std::current_exception();
        }
        const bool end = !item.element && !item.error;
        {
          std::lock_guard lock(mutex_);
          queue_.push_back(std::move(item));
        }
        ready_.notify_one();
        if (end) return;
      }
    }

    std::unique_ptr<Pass> input_;
    size_t capacity_;
    std::mutex mutex_;
    std::condition_variable ready_, space_;
    std::deque<Item> queue_;  // guarded by mutex_
    bool stopping_ = false;   // guarded by mutex_
    bool finished_ = false;   // consumer only
    std::thread producer_;    // last: starts once everything above exists
  };

  NodePtr input_;
  int64_t buffer_size_;
};

}  // namespace

NodePtr make_prefetch_node(NodePtr input, int64_t buffer_size) {
  return std::make_shared<PrefetchNode>(std::move(input), buffer_size);
}

}  // namespace tenflowers::data::detail
