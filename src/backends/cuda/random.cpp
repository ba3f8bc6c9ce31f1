// Host side of the random kernels on the GPU. Each op's (seed, offset) attributes select the
// same Philox counters as on the CPU, so a seeded call gives the CPU's numbers: bit for bit for
// uniform, bernoulli and permutation, and within a few units in the last place of the compute
// type for normal and truncated_normal (kernels/random.cu says why).
#include "src/backends/cuda/glue.hpp"
#include "src/backends/cuda/kernels/creation_launch.hpp"
#include "src/backends/cuda/register.hpp"

namespace tenflowers::cuda {
namespace {

RandomArgs random_args(const KernelContext& ctx, double p0, double p1 = 0.0) {
  // A replay reruns the kernel with the seed and offset it was recorded with.
  refuse_during_capture(ctx.device.index,
                        "a random op (a replay would repeat the numbers drawn at capture)");
  RandomArgs args;
  args.out = ctx.outputs[0].data_ptr();
  args.numel = ctx.outputs[0].numel();
  args.seed = static_cast<uint64_t>(ctx.attrs.get_int("seed"));
  args.offset = static_cast<uint64_t>(ctx.attrs.get_int("offset"));
  args.params[0] = p0;
  args.params[1] = p1;
  args.stream = use_device(ctx.device.index);
  return args;
}

void run_random(KernelContext& ctx, Distribution distribution, const char* first,
                const char* second) {
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  const RandomArgs args = random_args(ctx, ctx.attrs.get_float(first), ctx.attrs.get_float(second));
  finish_launch(ctx, launch_random(distribution, out.dtype(), args), out.dtype());
}

void bernoulli_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  if (out.numel() == 0) return;
  finish_launch(
      ctx,
      launch_bernoulli(dtype_size(out.dtype()), random_args(ctx, ctx.attrs.get_float("p")),
                       value_bits(0.0, out.dtype()), value_bits(1.0, out.dtype())),
      out.dtype());
}

// Sorts 0..n-1 by independent 64-bit random keys, stably (ties keep index order), as the CPU.
void permutation_kernel(KernelContext& ctx) {
  const Tensor& out = ctx.outputs[0];
  const int64_t n = out.numel();
  if (n == 0) return;
  const RandomArgs args = random_args(ctx, 0.0);
  const Tensor keys = Tensor::empty(Dims{2 * n}, DType::I64, ctx.device);
  const Tensor values = Tensor::empty(Dims{n}, DType::I64, ctx.device);
  const Tensor offsets = Tensor::empty(Dims{2}, DType::I64, ctx.device);
  auto* key_data = static_cast<uint64_t*>(keys.data_ptr());
  auto* value_data = static_cast<int64_t*>(values.data_ptr());
  auto* offset_data = static_cast<int64_t*>(offsets.data_ptr());
  finish_launch(ctx, launch_permutation_keys(args, key_data, value_data, offset_data), out.dtype());
  SegmentedSortArgs sort;
  sort.key_bytes = sizeof(uint64_t);
  sort.keys_in = key_data;
  sort.keys_out = key_data + n;
  sort.values_in = value_data;
  sort.values_out = static_cast<int64_t*>(out.data_ptr());
  sort.numel = n;
  sort.segments = 1;
  sort.offsets = offset_data;
  sort.stream = args.stream;
  run_segmented_sort(ctx, sort);
}

}  // namespace

void register_cuda_random_kernels(OpRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  r.add_kernel(
      "uniform", cuda,
      [](KernelContext& ctx) { run_random(ctx, Distribution::Uniform, "low", "high"); },
      kFloatDTypes);
  r.add_kernel(
      "normal", cuda,
      [](KernelContext& ctx) { run_random(ctx, Distribution::Normal, "mean", "stddev"); },
      kFloatDTypes);
  r.add_kernel(
      "truncated_normal", cuda,
      [](KernelContext& ctx) { run_random(ctx, Distribution::TruncatedNormal, "mean", "stddev"); },
      kFloatDTypes);
  r.add_kernel("bernoulli", cuda, bernoulli_kernel, kAllDTypes);
  r.add_kernel("permutation", cuda, permutation_kernel, dtype_mask({DType::I64}));
}

}  // namespace tenflowers::cuda
