#include "src/nn/model/batch_source.hpp"

#include "tenflowers/core/error.hpp"
#include "tenflowers/data/loader.hpp"

namespace tenflowers::nn {
namespace {

// Splits an element {x..., y...} after `inputs` components.
Batch split(data::Element element, size_t inputs) {
  TF_CHECK(element.size() > inputs, InvalidArgument, "expected batches of ", inputs,
           " input component(s) followed by the target(s), got an element of ", element.size(),
           " component(s)");
  Batch b;
  b.x.assign(element.begin(), element.begin() + static_cast<std::ptrdiff_t>(inputs));
  b.y.assign(element.begin() + static_cast<std::ptrdiff_t>(inputs), element.end());
  return b;
}

class LoaderBatches : public BatchSource {
 public:
  LoaderBatches(data::DataLoader loader, size_t inputs)
      : loader_(std::move(loader)), inputs_(inputs) {}
  void start_epoch(int64_t epoch) override { pass_.emplace(loader_.epoch(epoch)); }
  std::optional<Batch> next() override {
    std::optional<data::Element> e = pass_->next();
    if (!e) return std::nullopt;
    return split(std::move(*e), inputs_);
  }
  std::optional<int64_t> size() const override { return loader_.size(); }

 private:
  data::DataLoader loader_;
  size_t inputs_;
  std::optional<data::Iterator> pass_;
};

class DatasetBatches : public BatchSource {
 public:
  DatasetBatches(data::Dataset dataset, size_t inputs)
      : dataset_(std::move(dataset)), inputs_(inputs) {}
  // Each epoch is a fresh pass; a shuffle stage with reshuffle_each_iteration reorders it.
  void start_epoch(int64_t) override { pass_.emplace(dataset_.iterator()); }
  std::optional<Batch> next() override {
    std::optional<data::Element> e = pass_->next();
    if (!e) return std::nullopt;
    return split(std::move(*e), inputs_);
  }
  std::optional<int64_t> size() const override {
    const int64_t n = dataset_.cardinality();
    TF_CHECK(n != data::kInfiniteCardinality, InvalidArgument,
             "cannot train or evaluate on an infinite dataset; take() a finite part");
    return n >= 0 ? std::optional<int64_t>(n) : std::nullopt;
  }

 private:
  data::Dataset dataset_;
  size_t inputs_;
  std::optional<data::Iterator> pass_;
};

}  // namespace

std::unique_ptr<BatchSource> tensor_batches(std::vector<Tensor> x, std::vector<Tensor> y,
                                            int64_t batch_size, bool shuffle, uint64_t seed,
                                            int64_t num_workers) {
  const size_t inputs = x.size();
  std::vector<Tensor> all = std::move(x);
  all.insert(all.end(), y.begin(), y.end());
  data::DataLoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = shuffle;
  options.seed = seed;
  options.num_workers = static_cast<int>(num_workers);
  return std::make_unique<LoaderBatches>(data::DataLoader(std::move(all), options), inputs);
}

std::unique_ptr<BatchSource> dataset_batches(const data::Dataset& batches, size_t inputs) {
  auto source = std::make_unique<DatasetBatches>(batches, inputs);
  source->size();  // rejects infinite datasets up front
  return source;
}

}  // namespace tenflowers::nn
