// The fused-program interpreter: each thread evaluates the whole program for its elements, one
// read of every input and one write of the output. The step switch is uniform across a warp.
#include "src/backends/cuda/kernels/binary_ops.cuh"
#include "src/backends/cuda/kernels/elementwise.cuh"
#include "src/backends/cuda/kernels/fused_launch.hpp"
#include "src/backends/cuda/kernels/unary_ops.cuh"

namespace tenflowers::cuda {
namespace {

template <class C>
__device__ __forceinline__ C apply_unary(uint8_t code, C x) {
  using namespace unary_ops;
  switch (static_cast<UnaryOp>(code)) {
    case UnaryOp::Neg:
      return Neg{}(x);
    case UnaryOp::Abs:
      return Abs{}(x);
    case UnaryOp::Sign:
      return Sign{}(x);
    case UnaryOp::Square:
      return Square{}(x);
    case UnaryOp::Relu:
      return Relu{}(x);
    case UnaryOp::Floor:
      return Floor{}(x);
    case UnaryOp::Ceil:
      return Ceil{}(x);
    case UnaryOp::Round:
      return Round{}(x);
    case UnaryOp::Exp:
      return Exp{}(x);
    case UnaryOp::Expm1:
      return Expm1{}(x);
    case UnaryOp::Log:
      return Log{}(x);
    case UnaryOp::Log1p:
      return Log1p{}(x);
    case UnaryOp::Sqrt:
      return Sqrt{}(x);
    case UnaryOp::Rsqrt:
      return Rsqrt{}(x);
    case UnaryOp::Reciprocal:
      return Reciprocal{}(x);
    case UnaryOp::Sin:
      return Sin{}(x);
    case UnaryOp::Cos:
      return Cos{}(x);
    case UnaryOp::Tan:
      return Tan{}(x);
    case UnaryOp::Tanh:
      return Tanh{}(x);
    case UnaryOp::Sigmoid:
      return Sigmoid{}(x);
    case UnaryOp::Erf:
      return Erf{}(x);
    case UnaryOp::Silu:
      return Silu{}(x);
    default:
      return x;  // the host admits only the ops above
  }
}

template <class C>
__device__ __forceinline__ C apply_binary(uint8_t code, C a, C b) {
  using namespace binary_ops;
  switch (static_cast<BinaryOp>(code)) {
    case BinaryOp::Add:
      return Add{}(a, b);
    case BinaryOp::Sub:
      return Sub{}(a, b);
    case BinaryOp::Mul:
      return Mul{}(a, b);
    case BinaryOp::Div:
      return Div{}(a, b);
    case BinaryOp::Pow:
      return Pow{}(a, b);
    case BinaryOp::Maximum:
      return Maximum{}(a, b);
    case BinaryOp::Minimum:
      return Minimum{}(a, b);
    case BinaryOp::Atan2:
      return Atan2{}(a, b);
    case BinaryOp::ReluGrad:
      return ReluGrad{}(a, b);
    default:
      return a;  // the host admits only the ops above
  }
}

// Threads per block: the value file of every thread sits in shared memory (40 KB a block).
template <class T>
inline constexpr int kFusedThreads = sizeof(compute_of<T>) == 8 ? 128 : 256;

// Each thread takes kPerThread consecutive elements and issues every input's loads (16-byte
// ones where aligned) before interpreting the program for them, so enough bytes are in flight
// to keep the memory busy while the interpreter runs. The program's values, indexed at run
// time, live in shared memory (a column per thread, so a warp's accesses hit distinct banks)
// rather than in per-thread local memory.
template <class T>
__global__ void __launch_bounds__(kFusedThreads<T>) fused_kernel(FusedArgs args, bool aligned) {
  using C = compute_of<T>;
  constexpr int kThreads = kFusedThreads<T>;
  __shared__ C values[kMaxFusedValues][kThreads];
  constexpr int kInputs = static_cast<int>(sizeof(args.in) / sizeof(args.in[0]));
  const int64_t step = int64_t{gridDim.x} * kThreads * kPerThread;
  for (int64_t base = (int64_t{blockIdx.x} * kThreads + threadIdx.x) * kPerThread;
       base < args.numel; base += step) {
    const bool full = base + kPerThread <= args.numel;
    C loaded[kInputs][kPerThread];
#pragma unroll
    for (int k = 0; k < kInputs; ++k) {
      if (k >= args.num_inputs) break;
      const T* p = static_cast<const T*>(args.in[k]);
      if ((args.single_mask >> k) & 1u) {
        const C value = widen(p[0]);
#pragma unroll
        for (int e = 0; e < kPerThread; ++e) loaded[k][e] = value;
      } else if (full && aligned) {
        const Pack<T> pack = *reinterpret_cast<const Pack<T>*>(p + base);
#pragma unroll
        for (int e = 0; e < kPerThread; ++e) loaded[k][e] = widen(pack.v[e]);
      } else {
#pragma unroll
        for (int e = 0; e < kPerThread; ++e) {
          loaded[k][e] = base + e < args.numel ? widen(p[base + e]) : C{};
        }
      }
    }
    Pack<T> result;
    const unsigned t = threadIdx.x;
#pragma unroll
    for (int e = 0; e < kPerThread; ++e) {
#pragma unroll
      for (int k = 0; k < kInputs; ++k) {
        if (k < args.num_inputs) values[k][t] = loaded[k][e];
      }
      for (int j = 0; j < args.num_steps; ++j) {
        const C a = values[args.lhs[j]][t];
        values[args.num_inputs + j][t] = args.binary[j]
                                             ? apply_binary(args.code[j], a, values[args.rhs[j]][t])
                                             : apply_unary(args.code[j], a);
      }
      result.v[e] = narrow<T>(values[args.num_inputs + args.num_steps - 1][t]);
    }
    T* out = static_cast<T*>(args.out);
    if (full && aligned) {
      *reinterpret_cast<Pack<T>*>(out + base) = result;
    } else {
      for (int e = 0; e < kPerThread && base + e < args.numel; ++e) out[base + e] = result.v[e];
    }
  }
}

}  // namespace

const char* launch_fused(DType type, const FusedArgs& args) {
  return with_type(type, FloatTypes{}, [&](auto t) {
    using T = decltype(t);
    if (args.numel > 0) {
      constexpr uintptr_t kAlign = alignof(Pack<T>);
      bool aligned = reinterpret_cast<uintptr_t>(args.out) % kAlign == 0;
      for (int k = 0; k < args.num_inputs; ++k) {
        const bool single = (args.single_mask >> k) & 1u;
        aligned = aligned && (single || reinterpret_cast<uintptr_t>(args.in[k]) % kAlign == 0);
      }
      constexpr int kThreadsPerBlock = kFusedThreads<T>;
      const int64_t work = (args.numel + kPerThread - 1) / kPerThread;
      const unsigned blocks = grid_for(work * kThreads / kThreadsPerBlock);
      fused_kernel<T><<<blocks, kThreadsPerBlock, 0, args.stream>>>(args, aligned);
    }
    return "fused_elementwise";
  });
}

}  // namespace tenflowers::cuda
