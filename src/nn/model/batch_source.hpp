#pragma once
// What Model::fit and evaluate iterate over: batches of (inputs, targets), epoch by epoch, from
// in-memory tensors or from a dataset.
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::data {
class Dataset;
}

namespace tenflowers::nn {

struct Batch {
  std::vector<Tensor> x, y;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual void start_epoch(int64_t epoch) = 0;
  virtual std::optional<Batch> next() = 0;
  // Batches per epoch, when known.
  virtual std::optional<int64_t> size() const = 0;
};

// Rows of in-memory tensors (equal leading extents), batched, optionally shuffled per epoch.
std::unique_ptr<BatchSource> tensor_batches(std::vector<Tensor> x, std::vector<Tensor> y,
                                            int64_t batch_size, bool shuffle, uint64_t seed,
                                            int64_t num_workers);
// A dataset whose elements are batches {x..., y...} with `inputs` x components.
std::unique_ptr<BatchSource> dataset_batches(const data::Dataset& batches, size_t inputs);

}  // namespace tenflowers::nn
