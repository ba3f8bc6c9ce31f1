// The indexing kernels: index validation, gather (also take and index_select), scatter,
// scatter_add, one_hot, masked_fill and masked_select. One thread per position of a Walk.
#include <cub/device/device_scan.cuh>

#include "src/backends/cuda/kernels/walk.cuh"
#include "src/backends/cuda/runtime.hpp"

namespace tenflowers::cuda {
namespace {

// A validated index: negative values count from the end.
template <class IndexT>
__device__ __forceinline__ int64_t wrapped(IndexT index, int64_t extent) {
  const auto v = static_cast<int64_t>(index);
  return v < 0 ? v + extent : v;
}

template <class IndexT>
__global__ void __launch_bounds__(kThreads)
    find_bad_index_kernel(Walk walk, const void* index, int64_t numel, int64_t low, int64_t high,
                          unsigned long long* first_bad) {
  grid_stride(numel, [&](int64_t p) {
    int64_t offset[1];
    walk_offsets<1>(walk, p, offset);
    const auto v = static_cast<int64_t>(load_at<IndexT>(index, offset[0]));
    if (v < low || v >= high) atomicMin(first_bad, static_cast<unsigned long long>(p));
  });
}

template <class U, class IndexT>
__global__ void __launch_bounds__(kThreads) gather_kernel(GatherArgs a) {
  grid_stride(a.numel, [&](int64_t p) {
    int64_t offset[3];
    walk_offsets<3>(a.walk, p, offset);
    const int64_t k = wrapped(load_at<IndexT>(a.index, offset[1]), a.extent);
    store_at(a.out, offset[0], load_at<U>(a.source, offset[2] + k * a.axis_bytes));
  });
}

// Byte offset in out of the element that position p writes, and p's source offset.
template <class IndexT>
__device__ __forceinline__ int64_t scatter_target(const ScatterArgs& a, int64_t p,
                                                  int64_t& src_offset) {
  int64_t offset[3];
  walk_offsets<3>(a.walk, p, offset);
  src_offset = offset[2];
  return offset[0] + wrapped(load_at<IndexT>(a.index, offset[1]), a.extent) * a.line_bytes;
}

// Writers to one element share every coordinate but the axis', so the greatest row-major
// position among them is the last along the axis: the write the CPU's in-order loop keeps.
template <class U, class IndexT>
__global__ void __launch_bounds__(kThreads)
    scatter_claim_kernel(ScatterArgs a, unsigned long long* winners) {
  grid_stride(a.numel, [&](int64_t p) {
    int64_t src_offset;
    const int64_t target = scatter_target<IndexT>(a, p, src_offset);
    atomicMax(winners + target / static_cast<int64_t>(sizeof(U)),
              static_cast<unsigned long long>(p));
  });
}

template <class U, class IndexT>
__global__ void __launch_bounds__(kThreads)
    scatter_write_kernel(ScatterArgs a, const unsigned long long* winners) {
  grid_stride(a.numel, [&](int64_t p) {
    int64_t src_offset;
    const int64_t target = scatter_target<IndexT>(a, p, src_offset);
    if (winners[target / static_cast<int64_t>(sizeof(U))] == static_cast<unsigned long long>(p)) {
      store_at(a.out, target, load_at<U>(a.src, src_offset));
    }
  });
}

// *address += value for one-byte integers, wrapping around: a compare-and-swap on the aligned
// word holding the byte (the pool's blocks are 64-byte aligned and sized, so the word is ours).
template <class T>
__device__ void atomic_add_byte(T* address, T value) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  auto* word = reinterpret_cast<unsigned int*>(at & ~uintptr_t{3});
  const unsigned int shift = static_cast<unsigned int>(at & 3u) * 8u;
  unsigned int old = *word, assumed;
  do {
    assumed = old;
    const unsigned int sum = ((assumed >> shift) + static_cast<uint8_t>(value)) & 0xffu;
    old = atomicCAS(word, assumed, (assumed & ~(0xffu << shift)) | (sum << shift));
  } while (old != assumed);
}

// bool accumulates as logical or; integers wrap around; 16-bit floats add with one rounding.
template <class T>
__device__ __forceinline__ void atomic_accumulate(T* address, T value) {
  if constexpr (std::is_same_v<T, bool>) {
    if (value) *address = true;  // every writer stores the same value
  } else if constexpr (sizeof(T) == 1) {
    atomic_add_byte(address, value);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(address),
              static_cast<unsigned long long>(value));
  } else {
    atomicAdd(address, value);
  }
}

template <class T, class IndexT>
__global__ void __launch_bounds__(kThreads) scatter_add_kernel(ScatterArgs a) {
  grid_stride(a.numel, [&](int64_t p) {
    int64_t src_offset;
    const int64_t target = scatter_target<IndexT>(a, p, src_offset);
    atomic_accumulate(reinterpret_cast<T*>(static_cast<char*>(a.out) + target),
                      load_at<T>(a.src, src_offset));
  });
}

template <class U, class IndexT>
__global__ void __launch_bounds__(kThreads) one_hot_kernel(OneHotArgs a) {
  const auto zero = static_cast<U>(a.zero_bits), one = static_cast<U>(a.one_bits);
  grid_stride(a.numel, [&](int64_t o) {
    int64_t offset[1];
    walk_offsets<1>(a.walk, o / a.depth, offset);
    const auto index = static_cast<int64_t>(load_at<IndexT>(a.index, offset[0]));
    static_cast<U*>(a.out)[o] = index == o % a.depth ? one : zero;
  });
}

template <class U>
__global__ void __launch_bounds__(kThreads) masked_fill_kernel(MaskedFillArgs a) {
  const auto fill = static_cast<U>(a.fill_bits);
  grid_stride(a.numel, [&](int64_t p) {
    int64_t offset[3];
    walk_offsets<3>(a.walk, p, offset);
    const bool masked = load_at<uint8_t>(a.mask, offset[2]) != 0;
    store_at(a.out, offset[0], masked ? fill : load_at<U>(a.x, offset[1]));
  });
}

__global__ void __launch_bounds__(kThreads) mask_flags_kernel(MaskedSelectArgs a) {
  grid_stride(a.numel, [&](int64_t p) {
    int64_t offset[2];
    walk_offsets<2>(a.walk, p, offset);
    a.positions[p] = load_at<uint8_t>(a.mask, offset[1]) != 0;
  });
}

template <class U>
__global__ void __launch_bounds__(kThreads) masked_select_kernel(MaskedSelectArgs a, U* out) {
  grid_stride(a.numel, [&](int64_t p) {
    int64_t offset[2];
    walk_offsets<2>(a.walk, p, offset);
    if (load_at<uint8_t>(a.mask, offset[1]) != 0)
      out[a.positions[p] - 1] = load_at<U>(a.x, offset[0]);
  });
}

// Calls fn(U{}, IndexT{}) for the element size and index dtype asked.
template <class Fn>
const char* with_size_and_index(size_t elem_bytes, DType index_dtype, Fn&& fn) {
  return with_size(elem_bytes, [&](auto u) {
    return with_type(index_dtype, IndexTypes{}, [&](auto i) { return fn(u, i); });
  });
}

}  // namespace

__global__ void trap_on_bad_index_kernel(const unsigned long long* first_bad) {
  if (*first_bad != ~0ull) {
    printf("tenflowers: an index is out of range at position %llu in a replayed CUDA graph\n",
           *first_bad);
    __trap();
  }
}

const char* launch_trap_on_bad_index(const unsigned long long* first_bad, cudaStream_t stream) {
  trap_on_bad_index_kernel<<<1, 1, 0, stream>>>(first_bad);
  return "trap_on_bad_index";
}

const char* launch_find_bad_index(DType index_dtype, const Walk& walk, const void* index,
                                  int64_t numel, int64_t low, int64_t high,
                                  unsigned long long* first_bad, cudaStream_t stream) {
  return with_type(index_dtype, IndexTypes{}, [&](auto i) {
    using IndexT = decltype(i);
    find_bad_index_kernel<IndexT>
        <<<grid_for(numel), kThreads, 0, stream>>>(walk, index, numel, low, high, first_bad);
    return "find_bad_index";
  });
}

const char* launch_gather(size_t elem_bytes, DType index_dtype, const GatherArgs& args) {
  return with_size_and_index(elem_bytes, index_dtype, [&](auto u, auto i) {
    gather_kernel<decltype(u), decltype(i)>
        <<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    return "gather";
  });
}

const char* launch_scatter(size_t elem_bytes, DType index_dtype, const ScatterArgs& args,
                           unsigned long long* winners) {
  return with_size_and_index(elem_bytes, index_dtype, [&](auto u, auto i) {
    using U = decltype(u);
    using IndexT = decltype(i);
    const unsigned blocks = grid_for(args.numel);
    scatter_claim_kernel<U, IndexT><<<blocks, kThreads, 0, args.stream>>>(args, winners);
    scatter_write_kernel<U, IndexT><<<blocks, kThreads, 0, args.stream>>>(args, winners);
    return "scatter";
  });
}

const char* launch_scatter_add(DType type, DType index_dtype, const ScatterArgs& args) {
  return with_type(type, AllTypes{}, [&](auto t) {
    return with_type(index_dtype, IndexTypes{}, [&](auto i) {
      scatter_add_kernel<decltype(t), decltype(i)>
          <<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
      return "scatter_add";
    });
  });
}

const char* launch_one_hot(size_t elem_bytes, DType index_dtype, const OneHotArgs& args) {
  return with_size_and_index(elem_bytes, index_dtype, [&](auto u, auto i) {
    one_hot_kernel<decltype(u), decltype(i)>
        <<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    return "one_hot";
  });
}

const char* launch_masked_fill(size_t elem_bytes, const MaskedFillArgs& args) {
  return with_size(elem_bytes, [&](auto u) {
    masked_fill_kernel<decltype(u)><<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    return "masked_fill";
  });
}

size_t masked_select_scratch_bytes(int64_t numel) {
  size_t bytes = 0;
  check(cub::DeviceScan::InclusiveSum(nullptr, bytes, static_cast<int64_t*>(nullptr), numel),
        "cub::DeviceScan::InclusiveSum (scratch size)");
  return bytes;
}

const char* launch_mask_positions(const MaskedSelectArgs& args, void* scratch,
                                  size_t scratch_bytes) {
  mask_flags_kernel<<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
  check(cub::DeviceScan::InclusiveSum(scratch, scratch_bytes, args.positions, args.numel,
                                      args.stream),
        "cub::DeviceScan::InclusiveSum");
  return "mask_positions";
}

const char* launch_masked_select(size_t elem_bytes, const MaskedSelectArgs& args, void* out) {
  return with_size(elem_bytes, [&](auto u) {
    using U = decltype(u);
    masked_select_kernel<U>
        <<<grid_for(args.numel), kThreads, 0, args.stream>>>(args, static_cast<U*>(out));
    return "masked_select";
  });
}

}  // namespace tenflowers::cuda
