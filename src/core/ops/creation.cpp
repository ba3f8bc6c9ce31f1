// Creation ops (fill, arange, linspace, eye) and random ops. They take no tensor inputs: the
// device comes from the "device" attribute (see dispatch), dtype and shape from attributes.
// Random ops carry their stream as attributes (seed, offset), so replaying a recorded call gives
// the same numbers.
#include <algorithm>
#include <cmath>
#include <limits>

#include "src/core/ops/register.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

Dims shape_attr(const InferContext& ctx) {
  Dims shape(ctx.attrs.get_ints("shape"));
  for (int64_t d : shape) {
    TF_CHECK(d >= 0, ShapeError, "negative extent ", d, " in shape ", shape,
             " (expected extents >= 0)");
  }
  return shape;
}

double finite_attr(const InferContext& ctx, std::string_view name) {
  const double v = ctx.attrs.get_float(name);
  TF_CHECK(std::isfinite(v), InvalidArgument, name, " must be finite, got ", v);
  return v;
}

// Integer results must be representable: arange and linspace never wrap around silently.
void check_integer_range(DType dtype, double first, double last, const char* what) {
  if (!is_integral(dtype)) return;
  double lo = 0, hi = 0;
  TF_DISPATCH_ALL(dtype, what, [&] {
    lo = static_cast<double>(std::numeric_limits<scalar_t>::min());
    hi = static_cast<double>(std::numeric_limits<scalar_t>::max());
  });
  // hi + 1 is exact as a double (a power of two), unlike hi for i64.
  TF_CHECK(std::min(first, last) >= lo && std::max(first, last) < hi + 1.0, InvalidArgument, what,
           ": values from ", first, " to ", last, " do not fit dtype ", dtype_name(dtype),
           " (range ", lo, " to ", hi, ")");
}

void infer_fill(InferContext& ctx) {
  ctx.add_output(ctx.attrs.get_dtype("dtype"), shape_attr(ctx));
}

void infer_arange(InferContext& ctx) {
  const double start = finite_attr(ctx, "start");
  const double stop = finite_attr(ctx, "stop");
  const double step = finite_attr(ctx, "step");
  TF_CHECK(step != 0.0, InvalidArgument, "arange: step must be nonzero");
  const double count = std::max(0.0, std::ceil((stop - start) / step));
  TF_CHECK(count < 9.0e18, InvalidArgument, "arange: ", count, " elements are too many");
  const DType dtype = ctx.attrs.get_dtype("dtype");
  if (count > 0) check_integer_range(dtype, start, start + (count - 1) * step, "arange");
  ctx.add_output(dtype, Dims{static_cast<int64_t>(count)});
}

void infer_linspace(InferContext& ctx) {
  const double start = finite_attr(ctx, "start");
  const double stop = finite_attr(ctx, "stop");
  const int64_t count = ctx.attrs.get_int("count");
  TF_CHECK(count >= 0, InvalidArgument, "linspace: count must be >= 0, got ", count);
  const DType dtype = ctx.attrs.get_dtype("dtype");
  if (count > 0) check_integer_range(dtype, start, count > 1 ? stop : start, "linspace");
  ctx.add_output(dtype, Dims{count});
}

void infer_eye(InferContext& ctx) {
  const int64_t rows = ctx.attrs.get_int("rows");
  const int64_t cols = ctx.attrs.get_int("cols");
  TF_CHECK(rows >= 0 && cols >= 0, InvalidArgument, "eye: rows and cols must be >= 0, got ", rows,
           " and ", cols);
  ctx.add_output(ctx.attrs.get_dtype("dtype"), Dims{rows, cols});
}

// Random ops need their stream; get_int throws InvalidArgument naming a missing attribute.
void require_stream(const InferContext& ctx) {
  ctx.attrs.get_int("seed");
  ctx.attrs.get_int("offset");
}

// The floating-point samplers (uniform, normal) produce float dtypes only.
DType random_dtype(const InferContext& ctx, bool floating_only) {
  require_stream(ctx);
  const DType dtype = ctx.attrs.get_dtype("dtype");
  TF_CHECK(!floating_only || is_floating(dtype), DTypeError, ctx.op.name,
           " produces floating-point values; expected dtype f16, bf16, f32 or f64, got ",
           dtype_name(dtype));
  return dtype;
}

void infer_uniform(InferContext& ctx) {
  const double low = finite_attr(ctx, "low");
  const double high = finite_attr(ctx, "high");
  TF_CHECK(low < high, InvalidArgument, "uniform: expected low < high, got low ", low, ", high ",
           high);
  TF_CHECK(std::isfinite(high - low), InvalidArgument, "uniform: the range from ", low, " to ",
           high, " overflows a double");
  ctx.add_output(random_dtype(ctx, true), shape_attr(ctx));
}

// normal and truncated_normal share their parameters.
void infer_normal(InferContext& ctx) {
  finite_attr(ctx, "mean");
  const double stddev = finite_attr(ctx, "stddev");
  TF_CHECK(stddev >= 0.0, InvalidArgument, ctx.op.name, ": stddev must be >= 0, got ", stddev);
  ctx.add_output(random_dtype(ctx, true), shape_attr(ctx));
}

void infer_bernoulli(InferContext& ctx) {
  const double p = ctx.attrs.get_float("p");
  TF_CHECK(p >= 0.0 && p <= 1.0, InvalidArgument, "bernoulli: p must be in [0, 1], got ", p);
  ctx.add_output(random_dtype(ctx, false), shape_attr(ctx));
}

void infer_permutation(InferContext& ctx) {
  require_stream(ctx);
  const int64_t n = ctx.attrs.get_int("n");
  TF_CHECK(n >= 0, InvalidArgument, "permutation: n must be >= 0, got ", n);
  ctx.add_output(DType::I64, Dims{n});
}

}  // namespace

void register_creation_ops(OpRegistry& r) {
  r.def("fill").inputs(0).infer(infer_fill).not_differentiable();
  r.def("arange").inputs(0).infer(infer_arange).not_differentiable().onnx("Range");
  r.def("linspace").inputs(0).infer(infer_linspace).not_differentiable();
  r.def("eye").inputs(0).infer(infer_eye).not_differentiable();

  r.def("uniform").inputs(0).infer(infer_uniform).not_differentiable().onnx("RandomUniform");
  r.def("normal").inputs(0).infer(infer_normal).not_differentiable().onnx("RandomNormal");
  r.def("truncated_normal").inputs(0).infer(infer_normal).not_differentiable();
  r.def("bernoulli").inputs(0).infer(infer_bernoulli).not_differentiable();
  r.def("permutation").inputs(0).infer(infer_permutation).not_differentiable();
}

}  // namespace tenflowers
