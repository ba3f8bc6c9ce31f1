#pragma once
// Input pipelines in the manner of tf.data. A Dataset is a cheap-to-copy handle to an immutable
// pipeline of elements (an element is a list of tensors, e.g. {image, label}); iterator() starts
// a fresh pass, which yields elements through next() until it returns nothing.
//
// Errors thrown while producing an element (by a map function, a generator, a shape mismatch in
// batch) reach the consumer from next() as the same exception type, in element order; the pass
// stays usable and the following next() goes on with the next element.
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::data {

using Element = std::vector<Tensor>;

// cardinality() values besides a count, as tf.data's.
inline constexpr int64_t kInfiniteCardinality = -1;
inline constexpr int64_t kUnknownCardinality = -2;

namespace detail {
class Node;  // a pipeline stage (src/data/node.hpp)
class Pass;  // one pass over a stage
}  // namespace detail

// One pass over a dataset. Move-only; destroying it mid-pass stops and joins any threads the
// pass started (prefetch, parallel map) without waiting for the rest of the pass.
class Iterator {
 public:
  explicit Iterator(std::unique_ptr<detail::Pass> pass);
  Iterator(Iterator&&) noexcept;
  Iterator& operator=(Iterator&&) noexcept;
  ~Iterator();

  std::optional<Element> next();  // nothing once the pass is over

  // Input-iterator view of the pass for range-for: `for (const Element& e : dataset)`.
  class Cursor {
   public:
    using value_type = Element;
    using difference_type = std::ptrdiff_t;
    Cursor() = default;
    explicit Cursor(Iterator* pass) : pass_(pass) { ++*this; }
    const Element& operator*() const { return *current_; }
    const Element* operator->() const { return &*current_; }
    Cursor& operator++() {
      current_ = pass_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Cursor& c, std::default_sentinel_t) { return !c.current_; }

   private:
    Iterator* pass_ = nullptr;
    std::optional<Element> current_;
  };
  Cursor begin() { return Cursor(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  std::unique_ptr<detail::Pass> pass_;
};

class Dataset {
 public:
  // A fresh element list per pass; nothing once the pass is over.
  using Generator = std::function<std::optional<Element>()>;
  using MapFn = std::function<Element(Element)>;
  using Predicate = std::function<bool(const Element&)>;

  // ---- sources ------------------------------------------------------------------------------
  // Element i is {components[0][i], components[1][i], ...} (tf.data's from_tensor_slices): the
  // components must have rank >= 1 and one leading extent (ShapeError otherwise). The slices are
  // views of the given tensors.
  static Dataset from_tensors(std::vector<Tensor> components);
  // 0-d i64 elements start, start + step, ... before stop; step != 0 (InvalidArgument).
  static Dataset range(int64_t start, int64_t stop, int64_t step = 1);
  static Dataset range(int64_t stop) { return range(0, stop); }
  // Each pass calls make_generator() once and draws elements from the generator it returns.
  // cardinality is what cardinality() reports (a count or kUnknownCardinality/kInfinite...).
  static Dataset from_generator(std::function<Generator()> make_generator,
                                int64_t cardinality = kUnknownCardinality);

  // ---- transformations (each returns a new dataset; this one is unchanged) ------------------
  Dataset map(MapFn fn) const;
  // fn runs on num_parallel_calls worker threads (so it must be safe to call concurrently), at
  // most that many elements in flight; the output order is the input order. Each worker caps its
  // kernels' thread count at get_num_threads() / num_parallel_calls (ThreadLimitScope).
  Dataset map(MapFn fn, int num_parallel_calls) const;
  Dataset filter(Predicate predicate) const;
  // tf.data's buffered shuffle: a buffer of buffer_size elements, each output drawn uniformly
  // from it and replaced by the next input element. Pass k of this dataset (counted over all
  // passes of it, including each repetition under repeat) draws with a seed derived from
  // (seed, k), or from (seed, 0) every time when reshuffle_each_iteration is false.
  Dataset shuffle(int64_t buffer_size, uint64_t seed, bool reshuffle_each_iteration = true) const;
  // Stacks batch_size consecutive elements componentwise (a new leading axis). The last, shorter
  // batch is kept unless drop_remainder. Elements of a batch must agree in component count,
  // dtypes and shapes (ShapeError / DTypeError naming the element's index in the dataset).
  Dataset batch(int64_t batch_size, bool drop_remainder = false) const;
  // A background thread runs the pipeline up to buffer_size elements ahead of the consumer.
  Dataset prefetch(int64_t buffer_size) const;
  Dataset take(int64_t count) const;  // the first count elements; count < 0 takes all
  Dataset skip(int64_t count) const;  // all but the first count elements; count < 0 skips all
  // count passes over this dataset one after the other; count < 0 repeats forever (a pass that
  // yields nothing ends the repetition, so an empty dataset never loops).
  Dataset repeat(int64_t count = -1) const;

  // ---- passes and size -----------------------------------------------------------------------
  // A fresh pass: `while (auto e = pass.next())` or `for (const Element& e : ds.iterator())`.
  Iterator iterator() const;
  // The number of elements of a pass, kInfiniteCardinality or kUnknownCardinality.
  int64_t cardinality() const;

  explicit Dataset(std::shared_ptr<const detail::Node> node);  // used by the stages

 private:
  std::shared_ptr<const detail::Node> node_;
};

}  // namespace tenflowers::data
