// Host side of the CUDA indexing kernels. Semantics, errors included, are the CPU kernels'
// (src/backends/cpu/index.cpp): every index is validated before anything is written, by a kernel
// that finds the first bad position, whose value alone is read back for the IndexError.
#include <string>

#include "src/backends/common/index_check.hpp"
#include "src/backends/cuda/glue.hpp"
#include "src/backends/cuda/register.hpp"
#include "tenflowers/core/dispatch.hpp"

namespace tenflowers::cuda {
namespace {

// Throws IndexError unless every element of `index` lies in [low, high). Waits for the device:
// a kernel must never address memory through a bad index.
void validate_indices(const KernelContext& ctx, const Tensor& index, int64_t low, int64_t high,
                      const std::string& what) {
  const int64_t numel = index.numel();
  if (numel == 0) return;
  const cudaStream_t stream = use_device(ctx.device.index);
  const Tensor first_bad = Tensor::empty(Dims{1}, DType::I64, ctx.device);
  auto* flag = static_cast<unsigned long long*>(first_bad.data_ptr());
  check(cudaMemsetAsync(flag, 0xff, sizeof(*flag), stream), "cudaMemsetAsync");
  const auto it = make_iter<1>(index.shape(), {&index});
  finish_launch(
      ctx,
      launch_find_bad_index(index.dtype(), walk_of(it), it.base[0], numel, low, high, flag, stream),
      index.dtype());
  if (capturing(stream)) {
    check_launch(ctx.op.name, launch_trap_on_bad_index(flag, stream));
    return;
  }
  unsigned long long bad = 0;
  read_back(&bad, flag, sizeof(bad), stream);
  if (bad == ~0ull) return;
  const auto [position, offset] = locate(index, static_cast<int64_t>(bad));
  const char* element = static_cast<const char*>(index.data_ptr()) +
                        offset * static_cast<int64_t>(dtype_size(index.dtype()));
  int64_t value = 0;
  if (index.dtype() == DType::I32) {
    int32_t v = 0;
    read_back(&v, element, sizeof(v), stream);
    value = v;
  } else {
    read_back(&value, element, sizeof(value), stream);
  }
  throw_index_out_of_range(value, position, low, high, what);
}

// Over out's shape, out[p] = source[p + wrap(index[p]) * axis_bytes], `index` and `source` being
// views with out's shape (source with the indexed axis' stride zeroed).
void run_gather(const KernelContext& ctx, const Tensor& out, const Tensor& index,
                const Tensor& source, int64_t extent, int64_t axis_bytes) {
  if (out.numel() == 0) return;
  const auto it = make_iter<3>(out.shape(), {&out, &index, &source});
  GatherArgs args;
  args.walk = walk_of(it);
  args.numel = out.numel();
  args.out = it.base[0];
  args.index = it.base[1];
  args.source = it.base[2];
  args.extent = extent;
  args.axis_bytes = axis_bytes;
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_gather(dtype_size(out.dtype()), index.dtype(), args), out.dtype());
}

void gather_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t extent = axis_extent(x, axis);
  validate_indices(ctx, index, -extent, extent, axis_range(axis, extent));
  run_gather(ctx, ctx.outputs[0], index, along_axis_view(x, axis, index.shape()), extent,
             axis_bytes(x, axis));
}

void take_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const int64_t n = x.numel();
  validate_indices(ctx, index, -n, n, "for x with " + std::to_string(n) + " elements");
  if (index.numel() == 0) return;
  // Flat indices address row-major order: read from a dense copy when x is strided.
  Tensor dense = x;
  if (!x.is_contiguous()) {
    HooksPaused paused;
    dense = x.contiguous();
  }
  const Tensor source = restrided(dense, index.shape(), Dims(index.shape().size(), 0));
  run_gather(ctx, ctx.outputs[0], index, source, n, static_cast<int64_t>(dtype_size(x.dtype())));
}

void index_select_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t extent = x.shape()[static_cast<size_t>(axis)];
  validate_indices(ctx, index, -extent, extent, axis_range(axis, extent));
  // The 1-d index runs along `axis` of the output and is broadcast over the other axes.
  Dims index_strides(out.shape().size(), 0);
  if (index.rank() == 1) index_strides[static_cast<size_t>(axis)] = index.strides()[0];
  run_gather(ctx, out, restrided(index, out.shape(), std::move(index_strides)),
             along_axis_view(x, axis, out.shape()), extent, byte_stride(x, axis));
}

// out = x, then out[p with axis -> wrap(index[p])] = src[p] (or += for Accumulate) for every
// index position p, as the CPU: duplicates keep the last write along the axis (scatter_add's
// additions, atomic here, happen in no particular order).
template <bool Accumulate>
void scatter_kernel(KernelContext& ctx, const OpDef& cast) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const Tensor& src = ctx.inputs[2];
  const Tensor& out = ctx.outputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t extent = axis_extent(x, axis);
  validate_indices(ctx, index, -extent, extent, axis_range(axis, extent));
  convert_into(cast, out, x);
  if (index.numel() == 0) return;

  const Tensor out_v = along_axis_view(out, axis, index.shape());  // the axis comes from index
  const Tensor src_v = restrided(src, index.shape(), src.strides());
  const auto it = make_iter<3>(index.shape(), {&out_v, &index, &src_v});
  ScatterArgs args;
  args.walk = walk_of(it);
  args.numel = index.numel();
  args.out = it.base[0];
  args.index = it.base[1];
  args.src = it.base[2];
  args.extent = extent;
  args.line_bytes = axis_bytes(out, axis);
  args.stream = use_device(ctx.device.index);
  if constexpr (Accumulate) {
    finish_launch(ctx, launch_scatter_add(x.dtype(), index.dtype(), args), x.dtype());
  } else {
    const Tensor winners = Tensor::empty(Dims{out.numel()}, DType::I64, ctx.device);
    check(cudaMemsetAsync(winners.data_ptr(), 0, winners.nbytes(), args.stream), "cudaMemsetAsync");
    finish_launch(ctx,
                  launch_scatter(dtype_size(x.dtype()), index.dtype(), args,
                                 static_cast<unsigned long long*>(winners.data_ptr())),
                  x.dtype());
  }
}

void one_hot_kernel(KernelContext& ctx) {
  const Tensor& indices = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  const int64_t depth = ctx.attrs.get_int("depth");
  validate_indices(ctx, indices, 0, depth, "for depth " + std::to_string(depth));
  if (out.numel() == 0) return;
  const auto it = make_iter<1>(indices.shape(), {&indices});
  OneHotArgs args;
  args.walk = walk_of(it);
  args.numel = out.numel();
  args.out = out.data_ptr();
  args.index = it.base[0];
  args.depth = depth;
  args.zero_bits = value_bits(0.0, out.dtype());
  args.one_bits = value_bits(1.0, out.dtype());
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_one_hot(dtype_size(out.dtype()), indices.dtype(), args), out.dtype());
}

void masked_fill_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& mask = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const auto it = make_iter<3>(out.shape(), {&out, &x, &mask});
  MaskedFillArgs args;
  args.walk = walk_of(it);
  args.numel = out.numel();
  args.out = it.base[0];
  args.x = it.base[1];
  args.mask = it.base[2];
  args.fill_bits = value_bits(ctx.attrs.get_float("value"), x.dtype());
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_masked_fill(dtype_size(x.dtype()), args), x.dtype());
}

// Row-major order over the broadcast shape, as NumPy: an inclusive scan of the mask gives each
// selected element its place; the output's length is read back before it is allocated.
void masked_select_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& mask = ctx.inputs[1];
  const Dims shape = broadcast_shapes(x.shape(), mask.shape());
  const int64_t numel = shape.numel();
  if (numel == 0) {
    ctx.outputs[0] = Tensor::empty(Dims{0}, x.dtype(), ctx.device);
    return;
  }
  const auto it = make_iter<2>(shape, {&x, &mask});
  const Tensor positions = Tensor::empty(Dims{numel}, DType::I64, ctx.device);
  MaskedSelectArgs args;
  args.walk = walk_of(it);
  args.numel = numel;
  args.x = it.base[0];
  args.mask = it.base[1];
  args.positions = static_cast<int64_t*>(positions.data_ptr());
  args.stream = use_device(ctx.device.index);
  const size_t scratch_bytes = std::max<size_t>(masked_select_scratch_bytes(numel), 1);
  const Tensor scratch =
      Tensor::empty(Dims{static_cast<int64_t>(scratch_bytes)}, DType::U8, ctx.device);
  finish_launch(ctx, launch_mask_positions(args, scratch.data_ptr(), scratch_bytes), x.dtype());
  int64_t count = 0;
  read_back(&count, args.positions + (numel - 1), sizeof(count), args.stream);
  Tensor out = Tensor::empty(Dims{count}, x.dtype(), ctx.device);
  if (count > 0) {
    finish_launch(ctx, launch_masked_select(dtype_size(x.dtype()), args, out.data_ptr()),
                  x.dtype());
  }
  ctx.outputs[0] = out;
}

}  // namespace

void register_cuda_index_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  const OpDef& cast = r.get("cast");
  r.add_kernel("gather", cuda, gather_kernel, kAllDTypes);
  r.add_kernel(
      "scatter", cuda, [&cast](KernelContext& ctx) { scatter_kernel<false>(ctx, cast); },
      kAllDTypes);
  r.add_kernel(
      "scatter_add", cuda, [&cast](KernelContext& ctx) { scatter_kernel<true>(ctx, cast); },
      kAllDTypes);
  r.add_kernel("take", cuda, take_kernel, kAllDTypes);
  r.add_kernel("index_select", cuda, index_select_kernel, kAllDTypes);
  r.add_kernel("one_hot", cuda, one_hot_kernel, dtype_mask({DType::I32, DType::I64}));
  r.add_kernel("masked_fill", cuda, masked_fill_kernel, kAllDTypes);
  r.add_kernel("masked_select", cuda, masked_select_kernel, kAllDTypes);
}

}  // namespace tenflowers::cuda
