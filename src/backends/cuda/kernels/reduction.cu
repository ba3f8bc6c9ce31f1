// The reductions on the GPU, with the CPU kernels' semantics (src/backends/cpu/reduction.cpp):
// the same accumulator and output types, NaN rules, first-index ties and empty results. Each
// thread folds every parts-th element of its share of a lane, and a lane's threads combine
// pairwise (reduction.cuh). When there are too few lanes to fill the GPU, long lanes are split
// across blocks too: each writes a partial accumulator to the workspace and a second kernel
// combines them pairwise. var/std and logsumexp reduce twice, first to a per-lane center (the
// mean; the finite maximum) kept in the workspace.
#include <cmath>
#include <limits>

#include "src/backends/cuda/kernels/reduction.cuh"

namespace tenflowers::cuda {
namespace {

constexpr int64_t kMinPerThread = 8;       // elements per thread before a lane gets more threads
constexpr int64_t kTargetBlocks = 512;     // fewer blocks than this split long lanes
constexpr int64_t kMinSplitLength = 4096;  // elements of a lane per split, at least
constexpr size_t kMaxAccBytes = 16;        // the largest accumulator (argmax of f64)

struct NoCenter {};

// Comparable value of an element: bool compares as 0/1, the 16-bit floats in f32.
template <class T>
using value_of = std::conditional_t<std::is_same_v<T, bool>, uint8_t, compute_of<T>>;

// x ranks before a in a max (kMax) or min ordering; NaN ranks before every number.
template <bool kMax, class V>
__device__ __forceinline__ bool ranks_before(V x, V a) {
  if constexpr (std::is_floating_point_v<V>) {
    return (kMax ? x > a : x < a) || (x != x && a == a);
  } else {
    return kMax ? x > a : x < a;
  }
}

template <class V>
__device__ __forceinline__ bool same_value(V x, V a) {
  if constexpr (std::is_floating_point_v<V>) {
    return x == a || (x != x && a != a);
  } else {
    return x == a;
  }
}

template <class V, bool kMax>
__device__ __forceinline__ V worst_value() {
  if constexpr (std::is_floating_point_v<V>) {
    return kMax ? -std::numeric_limits<V>::infinity() : std::numeric_limits<V>::infinity();
  } else {
    return kMax ? std::numeric_limits<V>::lowest() : std::numeric_limits<V>::max();
  }
}

// Sum (integers wrap around in the unsigned accumulator) or product.
template <class T, class A, class O, bool kProduct>
struct ArithOp {
  using In = T;
  using Acc = A;
  using Out = O;
  using Center = NoCenter;
  __device__ Acc init() const { return Acc(kProduct ? 1 : 0); }
  __device__ Acc step(Acc a, T x, int64_t, NoCenter) const { return merge(a, convert<Acc>(x)); }
  __device__ Acc merge(Acc a, Acc b) const { return kProduct ? a * b : a + b; }
  __device__ Out finish(Acc a, int64_t, NoCenter) const { return narrow<Out>(a); }
};

template <class T, class A, class O>
struct MeanOp : ArithOp<T, A, O, false> {
  __device__ O finish(A a, int64_t count, NoCenter) const {
    return narrow<O>(a / static_cast<A>(count));  // an empty mean is 0/0 = NaN
  }
};

// max (kMax) or min, NaN-propagating.
template <class T, bool kMax>
struct ExtremumOp {
  using In = T;
  using Acc = value_of<T>;
  using Out = T;
  using Center = NoCenter;
  __device__ Acc init() const { return worst_value<Acc, kMax>(); }
  __device__ Acc step(Acc a, T x, int64_t, NoCenter) const { return merge(a, convert<Acc>(x)); }
  __device__ Acc merge(Acc a, Acc b) const { return ranks_before<kMax>(b, a) ? b : a; }
  __device__ Out finish(Acc a, int64_t, NoCenter) const { return narrow<Out>(a); }
};

// argmax (kMax) or argmin: the first position of the extreme value (of the first NaN, if any).
template <class T, bool kMax>
struct ArgExtremumOp {
  struct Acc {
    value_of<T> value;
    int64_t index;
  };
  using In = T;
  using Out = int64_t;
  using Center = NoCenter;
  __device__ Acc init() const {
    return {worst_value<value_of<T>, kMax>(), std::numeric_limits<int64_t>::max()};
  }
  __device__ Acc step(Acc a, T x, int64_t index, NoCenter) const {
    return merge(a, Acc{convert<value_of<T>>(x), index});
  }
  __device__ Acc merge(Acc a, Acc b) const {
    const bool take_b =
        ranks_before<kMax>(b.value, a.value) || (same_value(b.value, a.value) && b.index < a.index);
    return take_b ? b : a;
  }
  __device__ Out finish(Acc a, int64_t, NoCenter) const { return a.index; }
};

// all (kAll) or any of bool elements.
template <bool kAll>
struct LogicalOp {
  using In = bool;
  using Acc = bool;
  using Out = bool;
  using Center = NoCenter;
  __device__ Acc init() const { return kAll; }
  __device__ Acc step(Acc a, bool x, int64_t, NoCenter) const { return merge(a, x); }
  __device__ Acc merge(Acc a, Acc b) const { return kAll ? (a && b) : (a || b); }
  __device__ Out finish(Acc a, int64_t, NoCenter) const { return a; }
};

// First pass of logsumexp: the maximum, or 0 where it is infinite or NaN, so that the second
// pass gives inf, -inf (all -inf, or empty) or NaN directly instead of NaN from inf - inf.
template <class T, class A>
struct ShiftOp : ExtremumOp<T, true> {
  using Out = A;
  __device__ Out finish(typename ExtremumOp<T, true>::Acc a, int64_t, NoCenter) const {
    const A m = static_cast<A>(a);
    return std::isfinite(m) ? m : A(0);
  }
};

// Second pass of var/std: squared deviations from the lane's mean.
template <class T, class A, class O>
struct SquaredDeviationOp {
  using In = T;
  using Acc = A;
  using Out = O;
  using Center = A;
  int64_t correction;
  bool take_sqrt;
  __device__ Acc init() const { return Acc(0); }
  __device__ Acc step(Acc a, T x, int64_t, A mean) const {
    const Acc d = convert<Acc>(x) - mean;
    return a + d * d;
  }
  __device__ Acc merge(Acc a, Acc b) const { return a + b; }
  __device__ Out finish(Acc a, int64_t count, A) const {
    // No degrees of freedom left gives inf or NaN, as NumPy.
    const int64_t dof = count > correction ? count - correction : 0;
    const Acc variance = a / static_cast<Acc>(dof);
    return narrow<Out>(take_sqrt ? std::sqrt(variance) : variance);
  }
};

// Second pass of logsumexp: exponentials shifted by the first pass's result.
template <class T, class A, class O>
struct ShiftedExpSumOp {
  using In = T;
  using Acc = A;
  using Out = O;
  using Center = A;
  __device__ Acc init() const { return Acc(0); }
  __device__ Acc step(Acc a, T x, int64_t, A shift) const {
    return a + std::exp(convert<Acc>(x) - shift);
  }
  __device__ Acc merge(Acc a, Acc b) const { return a + b; }
  __device__ Out finish(Acc a, int64_t, A shift) const { return narrow<Out>(shift + std::log(a)); }
};

enum class NormKind : uint8_t { Zero, One, Two, Inf, NegInf, General };

// The kind is a launch-wide value rather than a template parameter: one kernel per dtype. A
// general p's powers are taken in f64 (then rounded to A), since the GPU's f32 pow may be off
// by several ulps where the CPU's is within one.
template <class T, class A, class O>
struct NormOp {
  using In = T;
  using Acc = A;
  using Out = O;
  using Center = NoCenter;
  NormKind kind;
  double p;
  __device__ Acc init() const {
    return kind == NormKind::NegInf ? std::numeric_limits<A>::infinity() : A(0);
  }
  __device__ Acc step(Acc a, T x, int64_t, NoCenter) const {
    const A v = std::fabs(convert<A>(x));
    switch (kind) {
      case NormKind::Zero:
        return a + (v != A(0) ? A(1) : A(0));
      case NormKind::One:
        return a + v;
      case NormKind::Two:
        return a + v * v;
      case NormKind::Inf:
      case NormKind::NegInf:
        return merge(a, v);
      case NormKind::General:
        return a + static_cast<A>(std::pow(static_cast<double>(v), p));
    }
    return a;
  }
  __device__ Acc merge(Acc a, Acc b) const {
    if (kind == NormKind::Inf) return ranks_before<true>(b, a) ? b : a;
    if (kind == NormKind::NegInf) return ranks_before<false>(b, a) ? b : a;
    return a + b;
  }
  __device__ Out finish(Acc a, int64_t, NoCenter) const {
    if (kind == NormKind::Two) return narrow<Out>(std::sqrt(a));
    if (kind == NormKind::General) return narrow<Out>(std::pow(static_cast<double>(a), 1.0 / p));
    return narrow<Out>(a);
  }
};

NormKind norm_kind(double p) {
  if (p == 2.0) return NormKind::Two;
  if (p == 1.0) return NormKind::One;
  if (p == 0.0) return NormKind::Zero;
  if (std::isinf(p)) return p > 0 ? NormKind::Inf : NormKind::NegInf;
  return NormKind::General;
}

template <class Op>
__device__ __forceinline__ typename Op::Center center_at(const typename Op::Center* centers,
                                                         int64_t lane) {
  if constexpr (std::is_same_v<typename Op::Center, NoCenter>) {
    return {};
  } else {
    return centers[lane];
  }
}

// Reduces positions [blockIdx.y * chunk, + chunk) of each lane: into out, or into
// partials[blockIdx.y][lane] when the lanes are split.
template <class Op>
__global__ void __launch_bounds__(kMaxParts)
    reduce_lanes(Op op, const typename Op::In* __restrict__ in, AxisView view, int64_t chunk,
                 const typename Op::Center* __restrict__ centers,
                 typename Op::Acc* __restrict__ partials, typename Op::Out* __restrict__ out) {
  using In = typename Op::In;
  using Acc = typename Op::Acc;
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  const LanePos p = lane_position(view);
  const int64_t r0 = int64_t{blockIdx.y} * chunk;
  const int64_t r1 = view.length < r0 + chunk ? view.length : r0 + chunk;
  const typename Op::Center c = p.valid ? center_at<Op>(centers, p.lane) : typename Op::Center{};
  Acc acc = op.init();
  if (p.valid) {
    const In* x = in + p.first;
    const int64_t step = p.parts;
    int64_t r = r0 + p.part;
    // Four loads in flight, then folded in order.
    for (; r + 3 * step < r1; r += 4 * step) {
      In v[4];
#pragma unroll
      for (int k = 0; k < 4; ++k) v[k] = x[(r + k * step) * p.stride];
#pragma unroll
      for (int k = 0; k < 4; ++k) acc = op.step(acc, v[k], r + k * step, c);
    }
    for (; r < r1; r += step) acc = op.step(acc, x[r * p.stride], r, c);
  }
  acc = combine_parts(acc, reinterpret_cast<Acc*>(shared_bytes), p,
                      [&](Acc a, Acc b) { return op.merge(a, b); });
  if (!p.valid || p.part != 0) return;
  if (partials) {
    partials[int64_t{blockIdx.y} * view.outer * view.inner + p.lane] = acc;
  } else {
    out[p.lane] = op.finish(acc, view.length, c);
  }
}

// Combines each lane's partial results pairwise (in place) and finishes it.
template <class Op>
__global__ void __launch_bounds__(kThreads)
    combine_splits(Op op, typename Op::Acc* __restrict__ partials, int64_t lanes, int64_t splits,
                   int64_t count, const typename Op::Center* __restrict__ centers,
                   typename Op::Out* __restrict__ out) {
  const int64_t stride = int64_t{gridDim.x} * kThreads;
  for (int64_t o = int64_t{blockIdx.x} * kThreads + threadIdx.x; o < lanes; o += stride) {
    for (int64_t width = 1; width < splits; width *= 2) {
      for (int64_t s = 0; s + width < splits; s += 2 * width) {
        partials[s * lanes + o] =
            op.merge(partials[s * lanes + o], partials[(s + width) * lanes + o]);
      }
    }
    out[o] = op.finish(partials[o], count, center_at<Op>(centers, o));
  }
}

struct Split {
  LaneGrid grid;
  int64_t splits = 1, chunk = 0;
};

Split split_for(const AxisView& v) {
  Split s{lane_grid(v, kMinPerThread)};
  if (s.grid.blocks > 0 && s.grid.blocks < kTargetBlocks) {
    s.splits = std::max<int64_t>(1, std::min((kTargetBlocks + s.grid.blocks - 1) / s.grid.blocks,
                                             (v.length + kMinSplitLength - 1) / kMinSplitLength));
  }
  s.chunk = (v.length + s.splits - 1) / s.splits;
  if (s.chunk > 0) s.splits = (v.length + s.chunk - 1) / s.chunk;  // no empty split
  return s;
}

bool is_centered(ReduceOp op) {
  return op == ReduceOp::Var || op == ReduceOp::Std || op == ReduceOp::LogSumExp;
}

size_t centers_bytes(const AxisView& v) {
  return (static_cast<size_t>(v.outer * v.inner) * sizeof(double) + 15) / 16 * 16;
}

// Runs op over every lane of args.view into out; partials live in `scratch` when lanes split.
template <class Op>
void run_reduce(const Op& op, const ReduceArgs& args, void* scratch,
                const typename Op::Center* centers, typename Op::Out* out) {
  using Acc = typename Op::Acc;
  static_assert(sizeof(Acc) <= kMaxAccBytes);
  const AxisView& v = args.view;
  const int64_t lanes = v.outer * v.inner;
  if (lanes == 0) return;
  const Split s = split_for(v);
  Acc* partials = s.splits > 1 ? static_cast<Acc*>(scratch) : nullptr;
  const dim3 grid(static_cast<unsigned>(s.grid.blocks), static_cast<unsigned>(s.splits));
  const dim3 block(s.grid.bx, s.grid.by);
  reduce_lanes<<<grid, block, s.grid.bx * s.grid.by * sizeof(Acc), args.stream>>>(
      op, static_cast<const typename Op::In*>(args.in), v, s.chunk, centers, partials, out);
  if (partials) {
    combine_splits<<<grid_for(lanes), kThreads, 0, args.stream>>>(op, partials, lanes, s.splits,
                                                                  v.length, centers, out);
  }
}

// One pass straight into args.out.
template <class Op>
const char* reduce(const Op& op, const ReduceArgs& args, const char* name) {
  run_reduce(op, args, args.workspace, nullptr, static_cast<typename Op::Out*>(args.out));
  return name;
}

// `first` makes each lane's center in the workspace, then `second` reduces with it.
template <class First, class Second>
const char* reduce_centered(const First& first, const Second& second, const ReduceArgs& args,
                            const char* name) {
  using Center = typename Second::Center;
  static_assert(std::is_same_v<typename First::Out, Center> && sizeof(Center) <= sizeof(double));
  auto* centers = static_cast<Center*>(args.workspace);
  void* scratch = static_cast<char*>(args.workspace) + centers_bytes(args.view);
  run_reduce(first, args, scratch, nullptr, centers);
  run_reduce(second, args, scratch, centers, static_cast<typename Second::Out*>(args.out));
  return name;
}

// fn(T{}, O{}) for the floating-result ops: a floating dtype to itself, or f64 to f32.
template <class Fn>
const char* with_real_types(DType in, DType out, Fn&& fn) {
  if (in == DType::F64 && out == DType::F32) return fn(double{}, float{});
  if (in != out) return nullptr;
  return with_type(in, FloatTypes{}, [&](auto t) { return fn(t, t); });
}

template <bool kProduct>
const char* arith(DType in, DType out, const ReduceArgs& args, const char* name) {
  if (in != out) return nullptr;
  return with_type(in, TypeList<int64_t, __half, __nv_bfloat16, float, double>{}, [&](auto t) {
    using T = decltype(t);
    using A = std::conditional_t<std::is_integral_v<T>, uint64_t, compute_of<T>>;
    return reduce(ArithOp<T, A, T, kProduct>{}, args, name);
  });
}

template <bool kMax>
const char* extremum(DType in, DType out, const ReduceArgs& args, const char* name) {
  if (in != out) return nullptr;
  return with_type(in, AllTypes{},
                   [&](auto t) { return reduce(ExtremumOp<decltype(t), kMax>{}, args, name); });
}

template <bool kMax>
const char* arg_extremum(DType in, DType out, const ReduceArgs& args, const char* name) {
  if (out != DType::I64) return nullptr;
  return with_type(in, AllTypes{},
                   [&](auto t) { return reduce(ArgExtremumOp<decltype(t), kMax>{}, args, name); });
}

template <bool kAll>
const char* logical(DType in, DType out, const ReduceArgs& args, const char* name) {
  if (in != DType::Bool || out != DType::Bool) return nullptr;
  return reduce(LogicalOp<kAll>{}, args, name);
}

}  // namespace

size_t reduce_workspace_bytes(ReduceOp op, const AxisView& view) {
  const Split s = split_for(view);
  const size_t partials =
      s.splits > 1 ? static_cast<size_t>(s.splits * view.outer * view.inner) * kMaxAccBytes : 0;
  return partials + (is_centered(op) ? centers_bytes(view) : 0);
}

const char* launch_reduce(ReduceOp op, DType in, DType out, const ReduceArgs& args) {
  using R = ReduceOp;
  switch (op) {
    case R::Sum:
      return arith<false>(in, out, args, "sum");
    case R::Prod:
      return arith<true>(in, out, args, "prod");
    case R::Max:
      return extremum<true>(in, out, args, "max");
    case R::Min:
      return extremum<false>(in, out, args, "min");
    case R::ArgMax:
      return arg_extremum<true>(in, out, args, "argmax");
    case R::ArgMin:
      return arg_extremum<false>(in, out, args, "argmin");
    case R::All:
      return logical<true>(in, out, args, "all");
    case R::Any:
      return logical<false>(in, out, args, "any");
    case R::Mean:
      return with_real_types(in, out, [&](auto t, auto o) {
        using T = decltype(t);
        return reduce(MeanOp<T, compute_of<T>, decltype(o)>{}, args, "mean");
      });
    case R::Var:
    case R::Std:
      return with_real_types(in, out, [&](auto t, auto o) {
        using T = decltype(t);
        using A = compute_of<T>;
        const bool take_sqrt = op == R::Std;
        return reduce_centered(MeanOp<T, A, A>{},
                               SquaredDeviationOp<T, A, decltype(o)>{args.correction, take_sqrt},
                               args, take_sqrt ? "std" : "var");
      });
    case R::LogSumExp:
      return with_real_types(in, out, [&](auto t, auto o) {
        using T = decltype(t);
        using A = compute_of<T>;
        return reduce_centered(ShiftOp<T, A>{}, ShiftedExpSumOp<T, A, decltype(o)>{}, args,
                               "logsumexp");
      });
    case R::Norm:
      return with_real_types(in, out, [&](auto t, auto o) {
        using T = decltype(t);
        using A = compute_of<T>;
        return reduce(NormOp<T, A, decltype(o)>{norm_kind(args.p), args.p}, args, "norm");
      });
  }
  return nullptr;
}

}  // namespace tenflowers::cuda
