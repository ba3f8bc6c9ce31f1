// CPU kernels of the reductions: each op is an accumulator run by the reduction engine.
// Floating inputs accumulate in float (f16, bf16, f32) or double (f64); integer and bool sums and
// products accumulate in 64 bits with wraparound; integer inputs to floating results (mean, var,
// norm, ...) compute in double. var/std and logsumexp take two passes over the input (the mean,
// then squared deviations; the maximum, then shifted exponentials) for numerical soundness.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "src/backends/cpu/reduction_engine.hpp"
#include "src/backends/cpu/register.hpp"
#include "src/core/ops/infer.hpp"
#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

template <class T>
inline constexpr bool kFloating =
    std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// Accumulator of sums and products.
template <class T>
using sum_acc_t = std::conditional_t<kFloating<T>, compute_t<T>, uint64_t>;
// Output element type of sum and prod.
template <class T>
using sum_out_t = std::conditional_t<kFloating<T>, T, int64_t>;
// Type that floating-point results (mean, var, norm, ...) compute in.
template <class T>
using real_t = std::conditional_t<kFloating<T>, compute_t<T>, double>;
// Output element type of floating-point results: integers and bool give f32.
template <class T>
using real_out_t = std::conditional_t<kFloating<T>, T, float>;
// Comparable value of an element (bool compares as 0/1).
template <class T>
using value_t = std::conditional_t<std::is_same_v<T, bool>, uint8_t, compute_t<T>>;

// x ranks before a in a max (kMax) or min ordering; NaN ranks before every number.
template <bool kMax, class V>
inline bool ranks_before(V x, V a) {
  if constexpr (std::is_floating_point_v<V>) {
    return (kMax ? x > a : x < a) || (x != x && a == a);
  } else {
    return kMax ? x > a : x < a;
  }
}

template <class V>
inline bool same_value(V x, V a) {
  if constexpr (std::is_floating_point_v<V>) {
    return x == a || (x != x && a != a);
  } else {
    return x == a;
  }
}

template <class V, bool kMax>
constexpr V worst_value() {
  if constexpr (std::is_floating_point_v<V>) {
    return kMax ? -std::numeric_limits<V>::infinity() : std::numeric_limits<V>::infinity();
  } else {
    return kMax ? std::numeric_limits<V>::lowest() : std::numeric_limits<V>::max();
  }
}

template <class T, class A, class O>
struct SumOp {
  using In = T;
  using Acc = A;
  using Out = O;
  using Center = NoCenter;
  Acc init() const { return Acc(0); }
  Acc step(Acc a, T x, int64_t, NoCenter) const { return a + convert<Acc>(x); }
  Acc merge(Acc a, Acc b) const { return a + b; }
  Out finish(Acc a, int64_t, NoCenter) const { return convert<Out>(a); }
};

template <class T, class A, class O>
struct MeanOp : SumOp<T, A, O> {
  O finish(A a, int64_t count, NoCenter) const {
    return convert<O>(a / static_cast<A>(count));  // an empty mean is 0/0 = NaN, as NumPy
  }
};

template <class T>
struct ProdOp {
  using In = T;
  using Acc = sum_acc_t<T>;
  using Out = sum_out_t<T>;
  using Center = NoCenter;
  Acc init() const { return Acc(1); }
  Acc step(Acc a, T x, int64_t, NoCenter) const { return a * convert<Acc>(x); }
  Acc merge(Acc a, Acc b) const { return a * b; }
  Out finish(Acc a, int64_t, NoCenter) const { return convert<Out>(a); }
};

// max (kMax) or min, NaN-propagating. Out is T, or the compute type for a first pass.
template <class T, bool kMax, class O = T>
struct ExtremumOp {
  using In = T;
  using Acc = value_t<T>;
  using Out = O;
  using Center = NoCenter;
  Acc init() const { return worst_value<Acc, kMax>(); }
  Acc step(Acc a, T x, int64_t, NoCenter) const { return merge(a, convert<Acc>(x)); }
  Acc merge(Acc a, Acc b) const { return ranks_before<kMax>(b, a) ? b : a; }
  Out finish(Acc a, int64_t, NoCenter) const { return convert<Out>(a); }
};

// argmax (kMax) or argmin: the first index of the extreme value (of the first NaN, if any).
template <class T, bool kMax>
struct ArgExtremumOp {
  struct Acc {
    value_t<T> value;
    int64_t index;
  };
  using In = T;
  using Out = int64_t;
  using Center = NoCenter;
  Acc init() const {
    return {worst_value<value_t<T>, kMax>(), std::numeric_limits<int64_t>::max()};
  }
  Acc step(Acc a, T x, int64_t index, NoCenter) const {
    return merge(a, Acc{convert<value_t<T>>(x), index});
  }
  Acc merge(Acc a, Acc b) const {
    const bool take_b =
        ranks_before<kMax>(b.value, a.value) || (same_value(b.value, a.value) && b.index < a.index);
    return take_b ? b : a;
  }
  Out finish(Acc a, int64_t, NoCenter) const { return a.index; }
};

// all (kAll) or any; the accumulator is a byte so partial results can live in a std::vector.
template <class T, bool kAll>
struct LogicalOp {
  using In = T;
  using Acc = uint8_t;
  using Out = bool;
  using Center = NoCenter;
  Acc init() const { return kAll ? 1 : 0; }
  Acc step(Acc a, T x, int64_t, NoCenter) const { return merge(a, convert<bool>(x)); }
  Acc merge(Acc a, Acc b) const { return kAll ? (a & b) : (a | b); }
  Out finish(Acc a, int64_t, NoCenter) const { return a != 0; }
};

// Second pass of var/std: squared deviations from the mean of the first pass.
template <class T>
struct SquaredDeviationOp {
  using In = T;
  using Acc = real_t<T>;
  using Out = real_out_t<T>;
  using Center = Acc;
  int64_t correction;
  bool take_sqrt;
  Acc init() const { return Acc(0); }
  Acc step(Acc a, T x, int64_t, Acc mean) const {
    const Acc d = convert<Acc>(x) - mean;
    return a + d * d;
  }
  Acc merge(Acc a, Acc b) const { return a + b; }
  Out finish(Acc a, int64_t count, Acc) const {
    // Bessel-style correction; no degrees of freedom left gives inf or NaN, as NumPy.
    const Acc variance = a / static_cast<Acc>(std::max<int64_t>(0, count - correction));
    return convert<Out>(take_sqrt ? std::sqrt(variance) : variance);
  }
};

// Second pass of logsumexp: exponentials shifted by the finite maximum of the first pass.
template <class T>
struct ShiftedExpSumOp {
  using In = T;
  using Acc = real_t<T>;
  using Out = real_out_t<T>;
  using Center = Acc;
  Acc init() const { return Acc(0); }
  Acc step(Acc a, T x, int64_t, Acc shift) const { return a + std::exp(convert<Acc>(x) - shift); }
  Acc merge(Acc a, Acc b) const { return a + b; }
  Out finish(Acc a, int64_t, Acc shift) const { return convert<Out>(shift + std::log(a)); }
};

enum class NormKind { Zero, One, Two, Inf, NegInf, General };

template <class T, NormKind kKind>
struct NormOp {
  using In = T;
  using Acc = real_t<T>;
  using Out = real_out_t<T>;
  using Center = NoCenter;
  Acc p;
  Acc init() const {
    return kKind == NormKind::NegInf ? std::numeric_limits<Acc>::infinity() : Acc(0);
  }
  Acc step(Acc a, T x, int64_t, NoCenter) const {
    const Acc v = std::abs(convert<Acc>(x));
    switch (kKind) {
      case NormKind::Zero:
        return a + (v != 0 ? Acc(1) : Acc(0));
      case NormKind::One:
        return a + v;
      case NormKind::Two:
        return a + v * v;
      case NormKind::Inf:
      case NormKind::NegInf:
        return merge(a, v);
      case NormKind::General:
        return a + std::pow(v, p);
    }
    return a;
  }
  Acc merge(Acc a, Acc b) const {
    if constexpr (kKind == NormKind::Inf) return ranks_before<true>(b, a) ? b : a;
    if constexpr (kKind == NormKind::NegInf) return ranks_before<false>(b, a) ? b : a;
    return a + b;
  }
  Out finish(Acc a, int64_t, NoCenter) const {
    if constexpr (kKind == NormKind::Two) return convert<Out>(std::sqrt(a));
    if constexpr (kKind == NormKind::General) return convert<Out>(std::pow(a, Acc(1) / p));
    return convert<Out>(a);
  }
};

std::vector<int64_t> kernel_axes(const KernelContext& ctx) {
  return infer::reduction_axes(ctx.attrs.get_ints("axes"), ctx.inputs[0].rank());
}

// Runs a one-pass op built by make_op<scalar_t>() for every input dtype.
template <template <class> class MakeOp>
void one_pass_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  const ReducePlan plan = make_reduce_plan(x, kernel_axes(ctx), /*keep_order=*/false);
  TF_DISPATCH_ALL(x.dtype(), ctx.op.name, [&] {
    const auto op = MakeOp<scalar_t>::make(ctx);
    using Op = std::remove_const_t<decltype(op)>;
    run_reduction(op, plan, x.data<scalar_t>(), out.data<typename Op::Out>());
  });
}

template <class T>
struct MakeSum {
  static auto make(const KernelContext&) { return SumOp<T, sum_acc_t<T>, sum_out_t<T>>{}; }
};
template <class T>
struct MakeMean {
  static auto make(const KernelContext&) { return MeanOp<T, real_t<T>, real_out_t<T>>{}; }
};
template <class T>
struct MakeProd {
  static auto make(const KernelContext&) { return ProdOp<T>{}; }
};
template <class T>
struct MakeMax {
  static auto make(const KernelContext&) { return ExtremumOp<T, true>{}; }
};
template <class T>
struct MakeMin {
  static auto make(const KernelContext&) { return ExtremumOp<T, false>{}; }
};
template <class T>
struct MakeAll {
  static auto make(const KernelContext&) { return LogicalOp<T, true>{}; }
};
template <class T>
struct MakeAny {
  static auto make(const KernelContext&) { return LogicalOp<T, false>{}; }
};

template <bool kMax>
void arg_extremum_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  std::vector<int64_t> axes;
  if (ctx.attrs.has("axis")) {
    axes.push_back(normalize_axis(ctx.attrs.get_int("axis"), x.rank()));
  } else {
    axes = infer::reduction_axes({}, x.rank());
  }
  // Logical axis order, so positions in the reduced space are row-major indices.
  const ReducePlan plan = make_reduce_plan(x, axes, /*keep_order=*/true);
  TF_DISPATCH_ALL(x.dtype(), ctx.op.name, [&] {
    run_reduction(ArgExtremumOp<scalar_t, kMax>{}, plan, x.data<scalar_t>(),
                  ctx.outputs[0].data<int64_t>());
  });
}

void variance_kernel(KernelContext& ctx, bool take_sqrt) {
  const Tensor& x = ctx.inputs[0];
  const ReducePlan plan = make_reduce_plan(x, kernel_axes(ctx), /*keep_order=*/false);
  const int64_t correction = ctx.attrs.get_int_or("correction", 1);
  TF_DISPATCH_ALL(x.dtype(), ctx.op.name, [&] {
    using T = scalar_t;
    using A = real_t<T>;
    std::vector<A> means(static_cast<size_t>(plan.out_numel));
    run_reduction(MeanOp<T, A, A>{}, plan, x.data<T>(), means.data());
    run_reduction(SquaredDeviationOp<T>{correction, take_sqrt}, plan, x.data<T>(),
                  ctx.outputs[0].data<real_out_t<T>>(), means.data());
  });
}

void logsumexp_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const ReducePlan plan = make_reduce_plan(x, kernel_axes(ctx), /*keep_order=*/false);
  TF_DISPATCH_ALL(x.dtype(), ctx.op.name, [&] {
    using T = scalar_t;
    using A = real_t<T>;
    std::vector<A> shifts(static_cast<size_t>(plan.out_numel));
    run_reduction(ExtremumOp<T, true, A>{}, plan, x.data<T>(), shifts.data());
    // An infinite or NaN maximum shifts by 0: the sum then gives inf, -inf (all -inf or empty)
    // or NaN directly, instead of NaN from inf - inf.
    for (A& s : shifts) s = std::isfinite(s) ? s : A(0);
    run_reduction(ShiftedExpSumOp<T>{}, plan, x.data<T>(), ctx.outputs[0].data<real_out_t<T>>(),
                  shifts.data());
  });
}

void norm_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const ReducePlan plan = make_reduce_plan(x, kernel_axes(ctx), /*keep_order=*/false);
  const double p = ctx.attrs.get_float_or("p", 2.0);
  TF_CHECK(!std::isnan(p), InvalidArgument, "norm: p must be a number, got NaN");
  TF_DISPATCH_ALL(x.dtype(), ctx.op.name, [&] {
    using T = scalar_t;
    using A = real_t<T>;
    auto run = [&](auto op) {
      run_reduction(op, plan, x.data<T>(), ctx.outputs[0].data<real_out_t<T>>());
    };
    const auto exponent = static_cast<A>(p);
    if (p == 2.0) {
      run(NormOp<T, NormKind::Two>{exponent});
    } else if (p == 1.0) {
      run(NormOp<T, NormKind::One>{exponent});
    } else if (p == 0.0) {
      run(NormOp<T, NormKind::Zero>{exponent});
    } else if (std::isinf(p)) {
      if (p > 0) {
        run(NormOp<T, NormKind::Inf>{exponent});
      } else {
        run(NormOp<T, NormKind::NegInf>{exponent});
      }
    } else {
      run(NormOp<T, NormKind::General>{exponent});
    }
  });
}

}  // namespace

void register_cpu_reduction_kernels(OpRegistry& r) {
  const auto cpu = DeviceType::CPU;
  r.add_kernel(
      "sum", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeSum>(ctx); }, kAllDTypes);
  r.add_kernel(
      "mean", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeMean>(ctx); }, kAllDTypes);
  r.add_kernel(
      "prod", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeProd>(ctx); }, kAllDTypes);
  r.add_kernel(
      "max", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeMax>(ctx); }, kAllDTypes);
  r.add_kernel(
      "min", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeMin>(ctx); }, kAllDTypes);
  r.add_kernel(
      "all", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeAll>(ctx); }, kAllDTypes);
  r.add_kernel(
      "any", cpu, [](KernelContext& ctx) { one_pass_kernel<MakeAny>(ctx); }, kAllDTypes);
  r.add_kernel("argmax", cpu, arg_extremum_kernel<true>, kAllDTypes);
  r.add_kernel("argmin", cpu, arg_extremum_kernel<false>, kAllDTypes);
  r.add_kernel(
      "var", cpu, [](KernelContext& ctx) { variance_kernel(ctx, false); }, kAllDTypes);
  r.add_kernel(
      "std", cpu, [](KernelContext& ctx) { variance_kernel(ctx, true); }, kAllDTypes);
  r.add_kernel("logsumexp", cpu, logsumexp_kernel, kAllDTypes);
  r.add_kernel("norm", cpu, norm_kernel, kAllDTypes);
}

}  // namespace tenflowers::cpu
