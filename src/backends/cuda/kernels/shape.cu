// pad, and sort/topk: a line's order is a stable sort of order-preserving unsigned keys (CUB's
// segmented sort, one segment per line), which reproduces the CPU's order exactly: ties keep
// index order, NaN ranks above every number, and descending order sorts inverted keys.
#include <cub/device/device_segmented_sort.cuh>

#include "src/backends/cuda/kernels/shape_launch.hpp"
#include "src/backends/cuda/kernels/walk.cuh"
#include "src/backends/cuda/runtime.hpp"

namespace tenflowers::cuda {
namespace {

__device__ __forceinline__ int64_t reflect_index(int64_t i, int64_t extent) {
  if (i < 0) return -i;
  return i >= extent ? 2 * (extent - 1) - i : i;
}

template <class U>
__global__ void __launch_bounds__(kThreads) pad_kernel(PadArgs a) {
  const auto fill = static_cast<U>(a.fill_bits);
  grid_stride(a.numel, [&](int64_t o) {
    int64_t rem = o, offset = 0;
    bool inside = true;
    for (int d = a.ndim - 1; d >= 0; --d) {
      int64_t i = rem % a.out_sizes[d] - a.before[d];
      rem /= a.out_sizes[d];
      if (i < 0 || i >= a.in_sizes[d]) {
        inside = false;
        i = reflect_index(i, a.in_sizes[d]);
      }
      offset += i * a.in_strides[d];
    }
    static_cast<U*>(a.out)[o] = inside || a.reflect ? load_at<U>(a.in, offset) : fill;
  });
}

// Flips IEEE sign-magnitude bits into unsigned keys that order like the numbers they encode.
template <class K>
__device__ __forceinline__ K sign_magnitude_key(K bits) {
  constexpr K sign = K(1) << (8 * sizeof(K) - 1);
  return (bits & sign) ? K(~bits) : K(bits | sign);
}

// The sort key of a stored value: a < b exactly when key(a) < key(b), 0 and -0 share a key, and
// NaN (any payload) gets the largest key, which no number has.
__device__ __forceinline__ uint8_t sort_key(bool v) {
  return v;
}
__device__ __forceinline__ uint8_t sort_key(uint8_t v) {
  return v;
}
__device__ __forceinline__ uint8_t sort_key(int8_t v) {
  return static_cast<uint8_t>(v) ^ 0x80u;
}
__device__ __forceinline__ uint32_t sort_key(int32_t v) {
  return static_cast<uint32_t>(v) ^ 0x80000000u;
}
__device__ __forceinline__ uint64_t sort_key(int64_t v) {
  return static_cast<uint64_t>(v) ^ 0x8000000000000000ull;
}
// 16-bit floats: NaN has an all-ones exponent and a nonzero mantissa.
template <uint16_t kInfinityBits>
__device__ __forceinline__ uint16_t half_key(uint16_t bits) {
  const auto magnitude = static_cast<uint16_t>(bits & 0x7fffu);
  if (magnitude > kInfinityBits) return 0xffffu;
  return sign_magnitude_key<uint16_t>(magnitude == 0 ? 0 : bits);
}
__device__ __forceinline__ uint16_t sort_key(__half v) {
  return half_key<0x7c00>(__half_as_ushort(v));
}
__device__ __forceinline__ uint16_t sort_key(__nv_bfloat16 v) {
  return half_key<0x7f80>(__bfloat16_as_ushort(v));
}
__device__ __forceinline__ uint32_t sort_key(float v) {
  if (v != v) return ~0u;
  return sign_magnitude_key(__float_as_uint(v == 0.0f ? 0.0f : v));
}
__device__ __forceinline__ uint64_t sort_key(double v) {
  if (v != v) return ~0ull;
  return sign_magnitude_key(static_cast<uint64_t>(__double_as_longlong(v == 0.0 ? 0.0 : v)));
}

template <class T>
using KeyOf = std::conditional_t<sort_key_bytes(sizeof(T)) == 8, uint64_t, uint32_t>;

template <class T>
__global__ void __launch_bounds__(kThreads)
    sort_keys_kernel(LinesArgs a, KeyOf<T>* keys, int64_t* positions, int64_t* offsets) {
  using K = KeyOf<T>;
  const K flip = a.descending ? K(~K(0)) : K(0);
  const int64_t numel = a.lines * a.length;
  grid_stride(numel, [&](int64_t e) {
    const int64_t line = e / a.length, i = e % a.length;
    int64_t offset[1];
    walk_offsets<1>(a.walk, line, offset);
    keys[e] = static_cast<K>(sort_key(load_at<T>(a.x, offset[0] + i * a.x_step)) ^ flip);
    positions[e] = i;
    if (i == 0) offsets[line] = e;
    if (e == numel - 1) offsets[a.lines] = numel;
  });
}

template <class U>
__global__ void __launch_bounds__(kThreads) sort_gather_kernel(LinesArgs a, const int64_t* sorted) {
  grid_stride(a.lines * a.count, [&](int64_t e) {
    const int64_t line = e / a.count, j = e % a.count;
    int64_t offset[3];
    walk_offsets<3>(a.walk, line, offset);
    const int64_t i = sorted[line * a.length + j];
    store_at(a.values, offset[1] + j * a.values_step, load_at<U>(a.x, offset[0] + i * a.x_step));
    store_at(a.indices, offset[2] + j * a.indices_step, i);
  });
}

// One CUB call: the scratch size when scratch is null, else the sort.
template <class K>
cudaError_t segmented_sort(const SegmentedSortArgs& a, void* scratch, size_t& scratch_bytes) {
  return cub::DeviceSegmentedSort::StableSortPairs(
      scratch, scratch_bytes, static_cast<const K*>(a.keys_in), static_cast<K*>(a.keys_out),
      a.values_in, a.values_out, a.numel, a.segments, a.offsets, a.offsets + 1, a.stream);
}

cudaError_t segmented_sort(const SegmentedSortArgs& a, void* scratch, size_t& scratch_bytes) {
  switch (a.key_bytes) {
    case 4:
      return segmented_sort<uint32_t>(a, scratch, scratch_bytes);
    case 8:
      return segmented_sort<uint64_t>(a, scratch, scratch_bytes);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace

const char* launch_pad(size_t elem_bytes, const PadArgs& args) {
  return with_size(elem_bytes, [&](auto u) {
    pad_kernel<decltype(u)><<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    return "pad";
  });
}

const char* launch_sort_keys(DType dtype, const LinesArgs& args, void* keys, int64_t* positions,
                             int64_t* segment_offsets) {
  return with_type(dtype, AllTypes{}, [&](auto t) {
    using T = decltype(t);
    sort_keys_kernel<T><<<grid_for(args.lines * args.length), kThreads, 0, args.stream>>>(
        args, static_cast<KeyOf<T>*>(keys), positions, segment_offsets);
    return "sort_keys";
  });
}

const char* launch_sort_gather(size_t elem_bytes, const LinesArgs& args, const int64_t* sorted) {
  return with_size(elem_bytes, [&](auto u) {
    sort_gather_kernel<decltype(u)>
        <<<grid_for(args.lines * args.count), kThreads, 0, args.stream>>>(args, sorted);
    return "sort_gather";
  });
}

size_t segmented_sort_scratch_bytes(const SegmentedSortArgs& args) {
  size_t bytes = 0;
  check(segmented_sort(args, nullptr, bytes), "cub::DeviceSegmentedSort (scratch size)");
  return bytes;
}

const char* launch_segmented_sort(const SegmentedSortArgs& args, void* scratch,
                                  size_t scratch_bytes) {
  check(segmented_sort(args, scratch, scratch_bytes), "cub::DeviceSegmentedSort::StableSortPairs");
  return "segmented_sort";
}

}  // namespace tenflowers::cuda
