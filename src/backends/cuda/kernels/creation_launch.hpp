#pragma once
// The interface of the creation kernels (creation.cu: arange, linspace, eye) and the random ones
// (random.cu). Outputs are contiguous; `type` is the output's dtype.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "src/backends/cuda/kernels/launch.hpp"

namespace tenflowers::cuda {

// arange: out[i] = first + i * delta in wrapping i64 arithmetic when `integers`, else
// start + i * step in double; converted to `type`.
struct ArangeArgs {
  void* out = nullptr;
  int64_t numel = 0;
  bool integers = false;
  int64_t first = 0;
  int64_t delta = 0;
  double start = 0;
  double step = 0;
  cudaStream_t stream = nullptr;
};
const char* launch_arange(DType type, const ArangeArgs& args);

// linspace: the first half of out steps up from start, the second down from stop.
struct LinspaceArgs {
  void* out = nullptr;
  int64_t numel = 0;
  double start = 0;
  double stop = 0;
  double step = 0;
  cudaStream_t stream = nullptr;
};
const char* launch_linspace(DType type, const LinspaceArgs& args);

// eye: a rows x cols matrix of elem_bytes-byte elements, one_bits on the diagonal, zero_bits
// elsewhere.
const char* launch_eye(size_t elem_bytes, void* out, int64_t rows, int64_t cols, uint64_t zero_bits,
                       uint64_t one_bits, cudaStream_t stream);

// Random samples from the Philox stream (seed, offset) of tenflowers/core/random.hpp, element
// for element the CPU kernels' (src/backends/cpu/random_kernels.cpp): elements 2k and 2k + 1
// come from the counter offset + k.
struct RandomArgs {
  void* out = nullptr;
  int64_t numel = 0;
  uint64_t seed = 0;
  uint64_t offset = 0;
  double params[2] = {};  // low and high, mean and stddev, or p
  cudaStream_t stream = nullptr;
};
enum class Distribution : uint8_t { Uniform, Normal, TruncatedNormal };
// A floating-point `type` only.
const char* launch_random(Distribution distribution, DType type, const RandomArgs& args);
// 1 (one_bits) with probability p = params[0], else 0 (zero_bits).
const char* launch_bernoulli(size_t elem_bytes, const RandomArgs& args, uint64_t zero_bits,
                             uint64_t one_bits);
// permutation's sort input: keys[i] = the 64-bit random key of element i, values[i] = i, and
// offsets = {0, numel}, one segment for launch_segmented_sort.
const char* launch_permutation_keys(const RandomArgs& args, uint64_t* keys, int64_t* values,
                                    int64_t* offsets);

}  // namespace tenflowers::cuda
