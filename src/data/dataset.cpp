#include "tenflowers/data/dataset.hpp"

#include "src/data/node.hpp"

namespace tenflowers::data {

Iterator::Iterator(std::unique_ptr<detail::Pass> pass) : pass_(std::move(pass)) {}
Iterator::Iterator(Iterator&&) noexcept = default;
Iterator& Iterator::operator=(Iterator&&) noexcept = default;
Iterator::~Iterator() = default;

std::optional<Element> Iterator::next() {
  TF_CHECK(pass_, InvalidArgument, "Iterator::next: the iterator was moved from");
  return pass_->next();
}

Dataset::Dataset(std::shared_ptr<const detail::Node> node) : node_(std::move(node)) {
  TF_CHECK(node_, InvalidArgument, "Dataset: null pipeline node");
}

Dataset Dataset::from_tensors(std::vector<Tensor> components) {
  return Dataset(detail::make_slices_node(std::move(components)));
}

Dataset Dataset::range(int64_t start, int64_t stop, int64_t step) {
  return Dataset(detail::make_range_node(start, stop, step));
}

Dataset Dataset::from_generator(std::function<Generator()> make_generator, int64_t cardinality) {
  TF_CHECK(make_generator, InvalidArgument, "Dataset::from_generator: empty generator factory");
  TF_CHECK(cardinality >= kUnknownCardinality, InvalidArgument,
           "Dataset::from_generator: cardinality must be a count, kInfiniteCardinality or "
           "kUnknownCardinality, got ",
           cardinality);
  return Dataset(detail::make_generator_node(std::move(make_generator), cardinality));
}

Dataset Dataset::map(MapFn fn) const {
  TF_CHECK(fn, InvalidArgument, "Dataset::map: empty function");
  return Dataset(detail::make_map_node(node_, std::move(fn)));
}

Dataset Dataset::map(MapFn fn, int num_parallel_calls) const {
  TF_CHECK(fn, InvalidArgument, "Dataset::map: empty function");
  TF_CHECK(num_parallel_calls >= 1, InvalidArgument,
           "Dataset::map: num_parallel_calls must be at least 1, got ", num_parallel_calls);
  return Dataset(detail::make_parallel_map_node(node_, std::move(fn), num_parallel_calls));
}

Dataset Dataset::filter(Predicate predicate) const {
  TF_CHECK(predicate, InvalidArgument, "Dataset::filter: empty predicate");
  return Dataset(detail::make_filter_node(node_, std::move(predicate)));
}

Dataset Dataset::shuffle(int64_t buffer_size, uint64_t seed, bool reshuffle_each_iteration) const {
  TF_CHECK(buffer_size >= 1, InvalidArgument,
           "Dataset::shuffle: buffer_size must be at least 1, got ", buffer_size);
  return Dataset(detail::make_shuffle_node(node_, buffer_size, seed, reshuffle_each_iteration));
}

Dataset Dataset::batch(int64_t batch_size, bool drop_remainder) const {
  TF_CHECK(batch_size >= 1, InvalidArgument, "Dataset::batch: batch_size must be at least 1, got ",
           batch_size);
  return Dataset(detail::make_batch_node(node_, batch_size, drop_remainder));
}

Dataset Dataset::prefetch(int64_t buffer_size) const {
  TF_CHECK(buffer_size >= 1, InvalidArgument,
           "Dataset::prefetch: buffer_size must be at least 1, got ", buffer_size);
  return Dataset(detail::make_prefetch_node(node_, buffer_size));
}

Dataset Dataset::take(int64_t count) const {
  return Dataset(detail::make_take_node(node_, count));
}

Dataset Dataset::skip(int64_t count) const {
  return Dataset(detail::make_skip_node(node_, count));
}

Dataset Dataset::repeat(int64_t count) const {
  return Dataset(detail::make_repeat_node(node_, count));
}

Iterator Dataset::iterator() const {
  return Iterator(node_->open());
}

int64_t Dataset::cardinality() const {
  return node_->cardinality();
}

}  // namespace tenflowers::data
