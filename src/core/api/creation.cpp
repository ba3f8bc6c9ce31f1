// Public creation and random functions: each is one dispatch of a zero-input op whose shape,
// dtype, device and (for random ops) stream travel as attributes.
#include <algorithm>

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"
#include "tenflowers/core/random.hpp"

namespace tenflowers {
namespace {

Tensor create(const OpDef& op, Attrs attrs, DType dtype, std::optional<Device> device) {
  attrs.set("dtype", dtype);
  if (device) attrs.set("device", *device);
  return dispatch1(op, {}, attrs);
}

// Sets the stream attributes: an explicit seed starts at offset 0; otherwise the call reserves
// `count` counters of the global generator, so consecutive calls never overlap, and records
// that count as "stream_count" so that a graph run draws a fresh stream the same way.
Attrs with_stream(Attrs attrs, std::optional<uint64_t> seed, int64_t count) {
  RandomStream stream{seed.value_or(0), 0};
  if (!seed) {
    const auto reserved = static_cast<uint64_t>(std::max<int64_t>(count, 0));
    stream = next_random_stream(reserved);
    attrs.set("stream_count", static_cast<int64_t>(reserved));
  }
  // The attributes hold the 64-bit patterns as int64 (a lossless round trip).
  attrs.set("seed", static_cast<int64_t>(stream.seed));
  attrs.set("offset", static_cast<int64_t>(stream.offset));
  return attrs;
}

}  // namespace

Tensor full(Dims shape, double value, DType dtype, std::optional<Device> device) {
  return create(TF_OP("fill"), Attrs{{"shape", shape.vec()}, {"value", value}}, dtype, device);
}

Tensor zeros(Dims shape, DType dtype, std::optional<Device> device) {
  return full(std::move(shape), 0.0, dtype, device);
}

Tensor ones(Dims shape, DType dtype, std::optional<Device> device) {
  return full(std::move(shape), 1.0, dtype, device);
}

Tensor full_like(const Tensor& t, double value) {
  return full(t.shape(), value, t.dtype(), t.device());
}

Tensor zeros_like(const Tensor& t) {
  return full_like(t, 0.0);
}

Tensor ones_like(const Tensor& t) {
  return full_like(t, 1.0);
}

Tensor arange(double start, double stop, double step, DType dtype, std::optional<Device> device) {
  return create(TF_OP("arange"), Attrs{{"start", start}, {"stop", stop}, {"step", step}}, dtype,
                device);
}

Tensor arange(int64_t stop, DType dtype, std::optional<Device> device) {
  return arange(0.0, static_cast<double>(stop), 1.0, dtype, device);
}

Tensor linspace(double start, double stop, int64_t count, DType dtype,
                std::optional<Device> device) {
  return create(TF_OP("linspace"), Attrs{{"start", start}, {"stop", stop}, {"count", count}}, dtype,
                device);
}

Tensor eye(int64_t rows, std::optional<int64_t> cols, DType dtype, std::optional<Device> device) {
  return create(TF_OP("eye"), Attrs{{"rows", rows}, {"cols", cols.value_or(rows)}}, dtype, device);
}

Tensor uniform(Dims shape, double low, double high, DType dtype, std::optional<uint64_t> seed,
               std::optional<Device> device) {
  const int64_t count = shape.numel();
  Attrs attrs{{"shape", shape.vec()}, {"low", low}, {"high", high}};
  return create(TF_OP("uniform"), with_stream(std::move(attrs), seed, count), dtype, device);
}

Tensor normal(Dims shape, double mean, double stddev, DType dtype, std::optional<uint64_t> seed,
              std::optional<Device> device) {
  const int64_t count = shape.numel();
  Attrs attrs{{"shape", shape.vec()}, {"mean", mean}, {"stddev", stddev}};
  return create(TF_OP("normal"), with_stream(std::move(attrs), seed, count), dtype, device);
}

Tensor truncated_normal(Dims shape, double mean, double stddev, DType dtype,
                        std::optional<uint64_t> seed, std::optional<Device> device) {
  const int64_t count = shape.numel();
  Attrs attrs{{"shape", shape.vec()}, {"mean", mean}, {"stddev", stddev}};
  return create(TF_OP("truncated_normal"), with_stream(std::move(attrs), seed, count), dtype,
                device);
}

Tensor bernoulli(Dims shape, double p, DType dtype, std::optional<uint64_t> seed,
                 std::optional<Device> device) {
  const int64_t count = shape.numel();
  Attrs attrs{{"shape", shape.vec()}, {"p", p}};
  return create(TF_OP("bernoulli"), with_stream(std::move(attrs), seed, count), dtype, device);
}

Tensor permutation(int64_t n, std::optional<uint64_t> seed, std::optional<Device> device) {
  Attrs attrs = with_stream(Attrs{{"n", n}}, seed, n);
  if (device) attrs.set("device", *device);
  return dispatch1(TF_OP("permutation"), {}, attrs);
}

}  // namespace tenflowers
