// copy and cast (a strided read converted to a contiguous write) and fill on the GPU.
#include "src/backends/cuda/kernels/elementwise.cuh"

namespace tenflowers::cuda {
namespace {

// Converts each element; the identity for copy. The output type is `To`, not the input's.
template <class To, class From>
__global__ void __launch_bounds__(kThreads)
    convert_linear(To* __restrict__ out, const From* __restrict__ in, int64_t numel) {
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < numel; i += step) {
    out[i] = convert<To>(in[i]);
  }
}

// byte_strides[0] are the input's, byte_strides[1] the output's.
template <class To, class From>
__global__ void __launch_bounds__(kThreads)
    convert_strided(char* __restrict__ out, const char* __restrict__ in, StridedLayout layout,
                    int64_t numel) {
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < numel; i += step) {
    int64_t in_offset = 0, out_offset = 0, rem = i;
    for (int d = layout.ndim - 1; d >= 0; --d) {
      const int64_t size = layout.sizes[d];
      const int64_t index = rem % size;
      in_offset += index * layout.byte_strides[0][d];
      out_offset += index * layout.byte_strides[1][d];
      rem /= size;
    }
    *reinterpret_cast<To*>(out + out_offset) =
        convert<To>(*reinterpret_cast<const From*>(in + in_offset));
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    fill_kernel(T* __restrict__ out, T value, int64_t numel) {
  const int64_t step = int64_t{gridDim.x} * kThreads;
  for (int64_t i = int64_t{blockIdx.x} * kThreads + threadIdx.x; i < numel; i += step)
    out[i] = value;
}

}  // namespace

const char* launch_convert(DType to, DType from, const ElementwiseArgs& args) {
  return with_type(to, AllTypes{}, [&](auto t) {
    using To = decltype(t);
    return with_type(from, AllTypes{}, [&](auto f) -> const char* {
      using From = decltype(f);
      if (args.numel == 0) return "convert";
      To* out = static_cast<To*>(args.out);
      if (std::is_same_v<To, From> && args.linear) {
        cudaMemcpyAsync(out, args.in[0], args.numel * sizeof(To), cudaMemcpyDeviceToDevice,
                        args.stream);
        return "memcpy";
      }
      if (args.linear) {
        convert_linear<To, From><<<grid_for(args.numel), kThreads, 0, args.stream>>>(
            out, static_cast<const From*>(args.in[0]), args.numel);
      } else {
        StridedLayout layout;
        layout.ndim = args.ndim;
        for (int d = 0; d < args.ndim; ++d) {
          layout.sizes[d] = args.sizes[d];
          layout.byte_strides[0][d] = args.byte_strides[0][d];
          layout.byte_strides[1][d] = args.out_byte_strides[d];
        }
        convert_strided<To, From><<<grid_for(args.numel), kThreads, 0, args.stream>>>(
            static_cast<char*>(args.out), static_cast<const char*>(args.in[0]), layout, args.numel);
      }
      return "convert";
    });
  });
}

const char* launch_fill(DType type, double value, void* out, int64_t numel, cudaStream_t stream) {
  return with_type(type, AllTypes{}, [&](auto t) {
    using T = decltype(t);
    if (numel > 0) {
      fill_kernel<T>
          <<<grid_for(numel), kThreads, 0, stream>>>(static_cast<T*>(out), narrow<T>(value), numel);
    }
    return "fill";
  });
}

}  // namespace tenflowers::cuda
