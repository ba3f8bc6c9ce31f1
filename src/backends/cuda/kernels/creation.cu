// arange, linspace and eye. The double arithmetic is spelled with round-to-nearest intrinsics so
// that nvcc does not contract it into fused multiply-adds: the values then equal the CPU's.
#include "src/backends/cuda/kernels/creation_launch.hpp"
#include "src/backends/cuda/kernels/walk.cuh"

namespace tenflowers::cuda {
namespace {

template <class T>
__global__ void __launch_bounds__(kThreads) arange_kernel(ArangeArgs a) {
  T* out = static_cast<T*>(a.out);
  grid_stride(a.numel, [&](int64_t i) {
    if (a.integers) {
      const uint64_t v = static_cast<uint64_t>(a.first) +
                         static_cast<uint64_t>(i) * static_cast<uint64_t>(a.delta);
      out[i] = narrow<T>(static_cast<int64_t>(v));
    } else {
      out[i] = narrow<T>(__dadd_rn(a.start, __dmul_rn(static_cast<double>(i), a.step)));
    }
  });
}

template <class T>
__global__ void __launch_bounds__(kThreads) linspace_kernel(LinspaceArgs a) {
  T* out = static_cast<T*>(a.out);
  const int64_t half = (a.numel + 1) / 2;
  grid_stride(a.numel, [&](int64_t i) {
    out[i] = narrow<T>(
        i < half ? __dadd_rn(a.start, __dmul_rn(static_cast<double>(i), a.step))
                 : __dsub_rn(a.stop, __dmul_rn(static_cast<double>(a.numel - 1 - i), a.step)));
  });
}

template <class U>
__global__ void __launch_bounds__(kThreads)
    eye_kernel(U* out, int64_t numel, int64_t cols, U zero, U one) {
  grid_stride(numel, [&](int64_t e) { out[e] = e / cols == e % cols ? one : zero; });
}

}  // namespace

const char* launch_arange(DType type, const ArangeArgs& args) {
  return with_type(type, AllTypes{}, [&](auto t) {
    arange_kernel<decltype(t)><<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    return "arange";
  });
}

const char* launch_linspace(DType type, const LinspaceArgs& args) {
  return with_type(type, AllTypes{}, [&](auto t) {
    linspace_kernel<decltype(t)><<<grid_for(args.numel), kThreads, 0, args.stream>>>(args);
    return "linspace";
  });
}

const char* launch_eye(size_t elem_bytes, void* out, int64_t rows, int64_t cols, uint64_t zero_bits,
                       uint64_t one_bits, cudaStream_t stream) {
  return with_size(elem_bytes, [&](auto u) {
    using U = decltype(u);
    const int64_t numel = rows * cols;
    eye_kernel<U><<<grid_for(numel), kThreads, 0, stream>>>(
        static_cast<U*>(out), numel, cols, static_cast<U>(zero_bits), static_cast<U>(one_bits));
    return "eye";
  });
}

}  // namespace tenflowers::cuda
