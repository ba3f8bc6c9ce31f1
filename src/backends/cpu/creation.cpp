// fill, arange, linspace and eye: contiguous outputs written in parallel chunks.
#include <algorithm>
#include <cmath>

#include "src/backends/cpu/parallel.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {

void register_cpu_random_kernels(OpRegistry& r);  // random_kernels.cpp

namespace {

constexpr int64_t kGrain = 32768;

// out[i] = value_at(i) for every element, in parallel; value_at returns a double or an int64.
template <class T, class ValueAt>
void generate(const Tensor& out, ValueAt value_at) {
  T* data = out.data<T>();
  parallel_for(0, out.numel(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) data[i] = convert<T>(value_at(i));
  });
}

void fill_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double value = ctx.attrs.get_float("value");
  TF_DISPATCH_ALL(out.dtype(), "fill", [&] {
    const scalar_t v = convert<scalar_t>(value);
    scalar_t* data = out.data<scalar_t>();
    parallel_for(0, out.numel(), kGrain,
                 [&](int64_t lo, int64_t hi) { std::fill(data + lo, data + hi, v); });
  });
}

bool is_whole(double v) {
  return std::floor(v) == v && std::abs(v) < 9.2e18;  // fits int64
}

void arange_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double start = ctx.attrs.get_float("start");
  const double step = ctx.attrs.get_float("step");
  TF_DISPATCH_ALL(out.dtype(), "arange", [&] {
    if (is_integral(out.dtype()) && is_whole(start) && is_whole(step)) {
      // Exact integer arithmetic, no rounding through double. Unsigned wrap-around keeps
      // i * step defined; the infer rule checked that every value fits the dtype.
      const auto first = static_cast<uint64_t>(static_cast<int64_t>(start));
      const auto delta = static_cast<uint64_t>(static_cast<int64_t>(step));
      generate<scalar_t>(out, [=](int64_t i) {
        return static_cast<int64_t>(first + static_cast<uint64_t>(i) * delta);
      });
    } else {
      generate<scalar_t>(out, [=](int64_t i) { return start + static_cast<double>(i) * step; });
    }
  });
}

void linspace_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const double start = ctx.attrs.get_float("start");
  const double stop = ctx.attrs.get_float("stop");
  const int64_t count = out.numel();
  const double step = count > 1 ? (stop - start) / static_cast<double>(count - 1) : 0.0;
  const int64_t half = (count + 1) / 2;
  TF_DISPATCH_ALL(out.dtype(), "linspace", [&] {
    // The first half steps up from start and the second down from stop, so both endpoints are
    // exact and the rounding error stays symmetric.
    generate<scalar_t>(out, [=](int64_t i) {
      return i < half ? start + static_cast<double>(i) * step
                      : stop - static_cast<double>(count - 1 - i) * step;
    });
  });
}

void eye_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const int64_t cols = out.shape()[1];
  TF_DISPATCH_ALL(out.dtype(), "eye", [&] {
    const scalar_t zero = convert<scalar_t>(0), one = convert<scalar_t>(1);
    scalar_t* data = out.data<scalar_t>();
    parallel_for(0, out.shape()[0], std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t row = lo; row < hi; ++row) {
                     scalar_t* line = data + row * cols;
                     std::fill(line, line + cols, zero);
                     if (row < cols) line[row] = one;
                   }
                 });
  });
}

}  // namespace

void register_cpu_creation_kernels(OpRegistry& r) {
  r.add_kernel("fill", DeviceType::CPU, fill_kernel, kAllDTypes);
  r.add_kernel("arange", DeviceType::CPU, arange_kernel, kAllDTypes);
  r.add_kernel("linspace", DeviceType::CPU, linspace_kernel, kAllDTypes);
  r.add_kernel("eye", DeviceType::CPU, eye_kernel, kAllDTypes);
  register_cpu_random_kernels(r);
}

}  // namespace tenflowers::cpu
