// Host side of concat, pad, sort and topk on the GPU; the semantics are the CPU kernels'
// (src/backends/cpu/shape.cpp, shape_sort.cpp).
#include <string>

#include "src/backends/common/index_check.hpp"
#include "src/backends/cuda/glue.hpp"
#include "src/backends/cuda/register.hpp"
#include "tenflowers/core/dispatch.hpp"

namespace tenflowers::cuda {
namespace {

// Converts and copies each input into its region of the output with the cast kernel (strided
// on both sides), as the CPU does for inputs that are not contiguous blocks.
void concat_kernel(KernelContext& ctx, const OpDef& cast) {
  const Tensor& out = ctx.outputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), out.rank());
  if (out.numel() == 0) return;
  HooksPaused paused;  // the regions are views made inside this kernel
  int64_t start = 0;
  for (const Tensor& in : ctx.inputs) {
    const int64_t length = in.shape()[static_cast<size_t>(axis)];
    if (in.numel() > 0) convert_into(cast, out.narrow(axis, start, length), in);
    start += length;
  }
}

void pad_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  if (x.rank() > kMaxDims) {
    throw UnsupportedError("the CUDA pad kernel handles at most " + std::to_string(kMaxDims) +
                           " axes, got " + std::to_string(x.rank()));
  }
  const std::vector<int64_t>& pads = ctx.attrs.get_ints("pads");
  PadArgs args;
  args.ndim = static_cast<int>(x.rank());
  for (size_t d = 0; d < x.shape().size(); ++d) {
    args.out_sizes[d] = out.shape()[d];
    args.in_sizes[d] = x.shape()[d];
    args.in_strides[d] = byte_stride(x, static_cast<int64_t>(d));
    args.before[d] = pads[2 * d];
  }
  args.reflect = ctx.attrs.get_string("mode") == "reflect";
  args.fill_bits = value_bits(ctx.attrs.get_float_or("value", 0.0), x.dtype());
  args.numel = out.numel();
  args.in = x.data_ptr();
  args.out = out.data_ptr();
  args.stream = use_device(ctx.device.index);
  finish_launch(ctx, launch_pad(dtype_size(x.dtype()), args), x.dtype());
}

// Writes the first `count` elements of each line's stable order along the axis (descending:
// NaNs first, or ascending: NaNs last) and their indices.
void order_lines(KernelContext& ctx, int64_t count, bool descending) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& values = ctx.outputs[0];
  const Tensor& indices = ctx.outputs[1];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  if (values.numel() == 0) return;
  // Each tensor viewed with the axis' extent 1 walks the lines' starts.
  Dims starts = x.shape();
  if (x.rank() > 0) starts[static_cast<size_t>(axis)] = 1;
  const Tensor x_starts = restrided(x, starts, x.strides());
  const Tensor value_starts = restrided(values, starts, values.strides());
  const Tensor index_starts = restrided(indices, starts, indices.strides());
  const auto it = make_iter<3>(starts, {&x_starts, &value_starts, &index_starts});
  LinesArgs args;
  args.walk = walk_of(it);
  args.lines = starts.numel();
  args.length = axis_extent(x, axis);
  args.count = count;
  args.x = it.base[0];
  args.values = it.base[1];
  args.indices = it.base[2];
  args.x_step = axis_bytes(x, axis);
  args.values_step = axis_bytes(values, axis);
  args.indices_step = axis_bytes(indices, axis);
  args.descending = descending;
  args.stream = use_device(ctx.device.index);

  const int64_t numel = args.lines * args.length;
  const auto key_bytes = static_cast<int64_t>(sort_key_bytes(dtype_size(x.dtype())));
  const Tensor keys = Tensor::empty(Dims{2 * numel * key_bytes}, DType::U8, ctx.device);
  const Tensor positions = Tensor::empty(Dims{2 * numel}, DType::I64, ctx.device);
  const Tensor offsets = Tensor::empty(Dims{args.lines + 1}, DType::I64, ctx.device);
  auto* key_data = static_cast<char*>(keys.data_ptr());
  auto* position_data = static_cast<int64_t*>(positions.data_ptr());
  auto* offset_data = static_cast<int64_t*>(offsets.data_ptr());
  finish_launch(ctx, launch_sort_keys(x.dtype(), args, key_data, position_data, offset_data),
                x.dtype());
  SegmentedSortArgs sort;
  sort.key_bytes = static_cast<size_t>(key_bytes);
  sort.keys_in = key_data;
  sort.keys_out = key_data + numel * key_bytes;
  sort.values_in = position_data;
  sort.values_out = position_data + numel;
  sort.numel = numel;
  sort.segments = args.lines;
  sort.offsets = offset_data;
  sort.stream = args.stream;
  run_segmented_sort(ctx, sort);
  finish_launch(ctx, launch_sort_gather(dtype_size(x.dtype()), args, sort.values_out), x.dtype());
}

void sort_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  order_lines(ctx, axis_extent(x, axis), ctx.attrs.get_bool("descending"));
}

void topk_kernel(KernelContext& ctx) {
  order_lines(ctx, ctx.attrs.get_int("k"), ctx.attrs.get_bool("largest"));
}

}  // namespace

void register_cuda_shape_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  const OpDef& cast = r.get("cast");
  r.add_kernel(
      "concat", cuda, [&cast](KernelContext& ctx) { concat_kernel(ctx, cast); }, kAllDTypes);
  r.add_kernel("pad", cuda, pad_kernel, kAllDTypes);
  r.add_kernel("sort", cuda, sort_kernel, kAllDTypes);
  r.add_kernel("topk", cuda, topk_kernel, kAllDTypes);
}

}  // namespace tenflowers::cuda
