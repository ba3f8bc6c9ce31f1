#include "tenflowers/data/loader.hpp"

#include <algorithm>

#include "src/data/element_checks.hpp"
#include "src/data/node.hpp"
#include "src/data/ordered_workers.hpp"
#include "src/data/seed.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers::data {

struct DataLoader::Source {
  std::vector<Tensor> tensors;
  DataLoaderOptions options;
  int64_t samples = 0;
  int64_t batches = 0;

  Element gather_batch(const Tensor& order, int64_t batch) const {
    const int64_t start = batch * options.batch_size;
    const Tensor rows = order.slice(0, start, std::min(samples, start + options.batch_size));
    Element out;
    out.reserve(tensors.size());
    for (const Tensor& t : tensors) {
      Tensor batch = index_select(t, 0, rows);
      out.push_back(options.pin_memory ? batch.pin_memory() : std::move(batch));
    }
    return out;
  }
};

namespace {

void check_options(const DataLoaderOptions& options) {
  TF_CHECK(options.batch_size >= 1, InvalidArgument,
           "DataLoader: batch_size must be at least 1, got ", options.batch_size);
  TF_CHECK(options.num_workers >= 0, InvalidArgument,
           "DataLoader: num_workers must be at least 0, got ", options.num_workers);
  if (options.pin_memory) {
    try {
      pinned_memory();
    } catch (TensorError& e) {
      e.add_context("DataLoader: pin_memory = true: ");
      throw;
    }
  }
}

// Stacks the elements of a finite dataset componentwise.
std::vector<Tensor> materialize(const Dataset& dataset) {
  TF_CHECK(dataset.cardinality() != kInfiniteCardinality, InvalidArgument,
           "DataLoader: the dataset is infinite; take() a finite part first");
  std::vector<Element> elements;
  if (dataset.cardinality() > 0) elements.reserve(static_cast<size_t>(dataset.cardinality()));
  Iterator pass = dataset.iterator();
  while (std::optional<Element> element = pass.next()) {
    if (!elements.empty()) {
      detail::check_same_structure("DataLoader", elements.front(), 0, *element,
                                   static_cast<int64_t>(elements.size()));
    }
    elements.push_back(std::move(*element));
  }
  TF_CHECK(!elements.empty(), InvalidArgument,
           "DataLoader: the dataset has no elements, so its component shapes are unknown");
  std::vector<Tensor> tensors(elements.front().size());
  std::vector<Tensor> parts(elements.size());
  for (size_t c = 0; c < tensors.size(); ++c) {
    for (size_t i = 0; i < elements.size(); ++i) parts[i] = elements[i][c];
    tensors[c] = stack(parts, 0);
  }
  return tensors;
}

// One epoch: batches gathered on demand, or by workers ahead of the consumer.
class EpochPass final : public detail::Pass {
 public:
  EpochPass(std::shared_ptr<const DataLoader::Source> source, Tensor order)
      : source_(std::move(source)), order_(std::move(order)) {
    if (source_->options.num_workers > 0) workers_.emplace(source_->options.num_workers);
  }

  std::optional<Element> next() override {
    if (!workers_) {
      if (delivered_ == source_->batches) return std::nullopt;
      return source_->gather_batch(order_, delivered_++);
    }
    const auto in_flight = static_cast<size_t>(2 * source_->options.num_workers);
    while (submitted_ < source_->batches && workers_->pending() < in_flight) {
      workers_->submit([source = source_, order = order_, batch = submitted_++] {
        return source->gather_batch(order, batch);
      });
    }
    if (workers_->pending() == 0) return std::nullopt;
    return workers_->take();
  }

 private:
  std::shared_ptr<const DataLoader::Source> source_;
  Tensor order_;
  int64_t submitted_ = 0, delivered_ = 0;
  std::optional<detail::OrderedWorkers> workers_;
};

}  // namespace

DataLoader::DataLoader(std::vector<Tensor> tensors, DataLoaderOptions options) {
  check_options(options);
  TF_CHECK(!tensors.empty(), InvalidArgument, "DataLoader: expected at least one tensor");
  for (size_t i = 0; i < tensors.size(); ++i) {
    TF_CHECK(tensors[i].defined(), InvalidArgument, "DataLoader: tensor ", i, " is undefined");
    TF_CHECK(tensors[i].rank() >= 1, ShapeError, "DataLoader: tensor ", i,
             " is 0-d; samples are rows, so rank >= 1 is needed");
    TF_CHECK(tensors[i].size(0) == tensors[0].size(0), ShapeError, "DataLoader: tensor ", i,
             " has shape ", tensors[i].shape(), " but tensor 0 has ", tensors[0].size(0),
             " rows; all leading extents must agree");
    TF_CHECK(!options.pin_memory || tensors[i].device().is_cpu(), DeviceError,
             "DataLoader: pin_memory = true needs CPU tensors (pinned memory is host memory), "
             "but tensor ",
             i, " is on ", tensors[i].device().str());
  }
  auto source = std::make_shared<Source>();
  source->samples = tensors[0].size(0);
  source->batches = options.drop_last
                        ? source->samples / options.batch_size
                        : (source->samples + options.batch_size - 1) / options.batch_size;
  source->tensors = std::move(tensors);
  source->options = options;
  source_ = std::move(source);
}

DataLoader::DataLoader(const Dataset& dataset, DataLoaderOptions options)
    : DataLoader((check_options(options), materialize(dataset)), options) {}

int64_t DataLoader::size() const {
  return source_->batches;
}

int64_t DataLoader::num_samples() const {
  return source_->samples;
}

const std::vector<Tensor>& DataLoader::tensors() const {
  return source_->tensors;
}

const DataLoaderOptions& DataLoader::options() const {
  return source_->options;
}

Tensor DataLoader::sample_order(int64_t epoch) const {
  TF_CHECK(epoch >= 0, InvalidArgument, "DataLoader: epoch must be at least 0, got ", epoch);
  const DataLoaderOptions& options = source_->options;
  if (!options.shuffle) return arange(source_->samples);
  return permutation(source_->samples, detail::derive_seed(options.seed, detail::SeedStream::Loader,
                                                           static_cast<uint64_t>(epoch)));
}

Iterator DataLoader::epoch(int64_t epoch) const {
  return Iterator(std::make_unique<EpochPass>(source_, sample_order(epoch)));
}

}  // namespace tenflowers::data
