#pragma once
// Host-side helpers shared by the CUDA indexing, shape, creation and random kernels' glue:
// walks from make_iter, reading small results back, dtype bits of
// a value, running the cast kernel into an existing tensor, and the segmented sort.
#include <algorithm>
#include <cstring>
#include <string>

#include "src/backends/common/strided_iter.hpp"
#include "src/backends/cuda/kernel_host.hpp"
#include "src/backends/cuda/kernels/index_launch.hpp"
#include "src/backends/cuda/kernels/shape_launch.hpp"
#include "src/backends/cuda/runtime.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cuda {

// The Walk of an iteration made by make_iter.
template <size_t N>
Walk walk_of(const StridedIter<N>& it) {
  static_assert(N <= kMaxWalkOperands);
  if (it.shape.size() > static_cast<size_t>(kMaxDims)) {
    throw UnsupportedError("the CUDA indexing kernels handle at most " + std::to_string(kMaxDims) +
                           " axes after merging contiguous ones, got " +
                           std::to_string(it.shape.size()));
  }
  Walk walk;
  walk.ndim = static_cast<int>(it.shape.size());
  for (size_t d = 0; d < it.shape.size(); ++d) {
    walk.sizes[d] = it.shape[d];
    for (size_t k = 0; k < N; ++k) walk.byte_strides[k][d] = it.strides[k][d];
  }
  return walk;
}

// Copies `nbytes` of device memory to `dst` once the work queued on `stream` is done.
inline void read_back(void* dst, const void* src, size_t nbytes, cudaStream_t stream) {
  refuse_during_capture(stream, "reading a result back to the host");
  check(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync (device to host)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

// `value` stored in `dtype` as a cast stores it, in the low bytes of the result: what the
// kernels that move elements as unsigned integers write.
inline uint64_t value_bits(double value, DType dtype) {
  uint64_t bits = 0;
  TF_DISPATCH_ALL(dtype, "value_bits", [&] {
    const auto v = convert<scalar_t>(value);
    std::memcpy(&bits, &v, sizeof(v));
  });
  return bits;
}

// dst = src converted to dst's dtype (same shape, any layouts) by the CUDA cast kernel.
inline void convert_into(const OpDef& cast, const Tensor& dst, const Tensor& src) {
  const Attrs attrs{{"dtype", dst.dtype()}};
  Tensor outputs[1] = {dst};
  KernelContext part{cast, std::span<const Tensor>(&src, 1), attrs, outputs, dst.device()};
  cast.kernel(DeviceType::CUDA).fn(part);
}

// Runs launch_segmented_sort with scratch memory from the device's pool.
inline void run_segmented_sort(const KernelContext& ctx, const SegmentedSortArgs& args) {
  const size_t scratch_bytes = std::max<size_t>(segmented_sort_scratch_bytes(args), 1);
  const Tensor scratch =
      Tensor::empty(Dims{static_cast<int64_t>(scratch_bytes)}, DType::U8, ctx.device);
  check_launch(ctx.op.name, launch_segmented_sort(args, scratch.data_ptr(), scratch_bytes));
}

}  // namespace tenflowers::cuda
