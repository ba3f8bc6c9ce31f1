#pragma once
// DataLoader in the manner of torch.utils.data.DataLoader, over a random-access source: tensors
// of one leading extent (a sample is one row of each). Each epoch visits the samples in order,
// or in a permutation derived from (seed, epoch) when shuffling, and yields batches of rows
// gathered with index_select.
//
// Workers: with num_workers > 0, that many threads assemble batches ahead of the consumer (at
// most 2 * num_workers in flight, torch's default prefetch factor) and the batches arrive in
// order, identical to those of num_workers = 0. Each worker caps its kernels at
// max(1, get_num_threads() / num_workers) threads (ThreadLimitScope), so the workers together
// use about as many kernel threads as the consumer alone would instead of num_workers times
// as many; the consumer's own thread count is untouched.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "tenflowers/data/dataset.hpp"

namespace tenflowers::data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;  // drop the last batch when it is smaller than batch_size
  int num_workers = 0;     // 0: batches are assembled on the consumer's thread, on demand
  // Batches in pinned host memory (Tensor::pin_memory, copied there by whoever assembles them:
  // the workers, or the consumer), so `batch.to(gpu, true)` is a direct, asynchronous DMA.
  // Needs a CUDA device and CPU tensors (DeviceError at construction otherwise).
  bool pin_memory = false;
};

class DataLoader {
 public:
  // ShapeError unless every tensor has rank >= 1 and the same leading extent; InvalidArgument
  // for no tensors, batch_size < 1 or num_workers < 0; DeviceError for pin_memory without a
  // CUDA device or with tensors not on the CPU.
  DataLoader(std::vector<Tensor> tensors, DataLoaderOptions options);
  // Materializes a finite dataset (known or unknown cardinality; InvalidArgument when
  // infinite): component c of the samples is stacked into tensor c, so every element must
  // agree in component count, dtypes and shapes (ShapeError / DTypeError naming the element).
  DataLoader(const Dataset& dataset, DataLoaderOptions options);

  int64_t size() const;         // batches per epoch
  int64_t num_samples() const;  // rows of the source
  const std::vector<Tensor>& tensors() const;
  const DataLoaderOptions& options() const;
  // The sample order of an epoch (i64 [num_samples]): 0..n-1, or a permutation derived from
  // (seed, epoch) when shuffling.
  Tensor sample_order(int64_t epoch) const;

  // The batches of one epoch, in order: `for (const Element& batch : loader.epoch(e))`
  // (Iterator's range-for). The pass keeps the source alive; destroying it mid-epoch joins its
  // workers.
  Iterator epoch(int64_t epoch) const;

  struct Source;  // the tensors and options, shared with running epochs

 private:
  std::shared_ptr<const Source> source_;
};

}  // namespace tenflowers::data
