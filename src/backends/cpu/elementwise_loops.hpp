#pragma once
// The driver shared by the elementwise kernels: it walks N strided, broadcast inputs and the
// output in rows (loops.hpp) and hands contiguous arrays of one compute type to an ArrayFn of
// the kernel table. Rows whose operands already are contiguous arrays of the compute type go
// straight through; other operands are converted chunk by chunk through stack buffers (strided
// or 16-bit float inputs, mixed dtypes, a stride-0 broadcast scalar converted once per row).
#include <algorithm>
#include <array>

#include "src/backends/cpu/elementwise_table.hpp"
#include "src/backends/cpu/loops.hpp"

namespace tenflowers::cpu {

// Converts n elements from a strided source to a strided destination (byte strides; a source
// stride of 0 repeats one element).
using ConvertFn = void (*)(const char* src, int64_t src_stride, char* dst, int64_t dst_stride,
                           int64_t n);
ConvertFn convert_fn(DType from, DType to);

// The type a kernel computes in for values of dtype `d`: f16 and bf16 compute in f32.
inline DType compute_dtype(DType d) {
  return d == DType::F16 || d == DType::BF16 ? DType::F32 : d;
}

// Work per element is much higher for transcendental functions: split smaller ranges.
inline constexpr int64_t kCheapGrain = kDefaultGrain;
inline constexpr int64_t kCostlyGrain = 4096;

// Whether every input is contiguous with the output's shape or a single value, so that one linear
// range covers the operands (operands[0] is out): the common case, and the cheap one for tiny
// ops. A single value steps by 0, unless the output has one element too: then every operand is
// a one-element array.
template <size_t M>
struct LinearLayout {
  bool linear = true;
  std::array<char*, M> base{};
  std::array<int64_t, M> step{};  // bytes per element
};

template <size_t M>
LinearLayout<M> linear_layout(const Tensor& out, const std::array<const Tensor*, M>& operands) {
  LinearLayout<M> layout;
  const int64_t total = out.numel();
  for (size_t k = 0; k < M && layout.linear; ++k) {
    const Tensor& t = *operands[k];
    layout.base[k] = static_cast<char*>(t.data_ptr());
    const auto elem = static_cast<int64_t>(dtype_size(t.dtype()));
    if (k > 0 && t.numel() == 1) {
      layout.step[k] = total == 1 ? elem : 0;
    } else {
      layout.step[k] = elem;
      layout.linear = t.shape() == out.shape() && t.is_contiguous();
    }
  }
  return layout;
}

// Whether every input has out's shape and strides (so is contiguous as out is) and is stored in
// the type the kernel reads, and out in the type it writes: the tiny ops' common case, tested
// in a few comparisons before any layout analysis.
template <size_t N>
bool same_layout_arrays(const Tensor& out, const std::array<const Tensor*, N>& inputs,
                        const std::array<DType, N>& in_types, DType result_type) {
  if (out.dtype() != result_type) return false;
  for (size_t k = 0; k < N; ++k) {
    const Tensor& t = *inputs[k];
    if (t.dtype() != in_types[k] || t.shape() != out.shape() || t.strides() != out.strides()) {
      return false;
    }
  }
  return true;
}

// Runs row() over every element of `out` and its broadcast inputs, split across threads: over
// one linear range when the layout allows, else over the strided iterator's rows.
template <size_t M, class Row>
void for_each_elementwise_row(const Tensor& out, const std::array<const Tensor*, M>& operands,
                              const LinearLayout<M>& layout, Row& row, int64_t grain) {
  if (layout.linear) {
    parallel_for(0, out.numel(), grain, [&](int64_t lo, int64_t hi) {
      std::array<char*, M> ptr;
      for (size_t k = 0; k < M; ++k) ptr[k] = layout.base[k] + lo * layout.step[k];
      row(ptr, layout.step, hi - lo);
    });
    return;
  }
  parallel_rows(make_iter<M>(out.shape(), operands), row, grain);
}

// out = fn(inputs) with inputs[k] converted to in_types[k] and fn writing `result_type`, which
// is converted to out's dtype. All tensors are on the CPU; out is contiguous with the
// broadcast shape of the inputs.
template <size_t N>
void run_elementwise(const Tensor& out, const std::array<const Tensor*, N>& inputs,
                     const std::array<DType, N>& in_types, DType result_type, vec::ArrayFn fn,
                     const vec::Params& params, int64_t grain) {
  const int64_t total = out.numel();
  if (total == 0) return;
  if (same_layout_arrays(out, inputs, in_types, result_type)) {
    parallel_for(0, total, grain, [&](int64_t lo, int64_t hi) {
      std::array<const void*, N> src;
      for (size_t k = 0; k < N; ++k) {
        src[k] = static_cast<const char*>(inputs[k]->data_ptr()) + lo * dtype_size(in_types[k]);
      }
      fn(src.data(), static_cast<char*>(out.data_ptr()) + lo * dtype_size(result_type), hi - lo,
         params);
    });
    return;
  }
  constexpr size_t M = N + 1;  // operand 0 is the output
  constexpr int64_t kChunk = 512;
  std::array<const Tensor*, M> operands;
  std::array<DType, M> compute_type;
  operands[0] = &out;
  compute_type[0] = result_type;
  for (size_t k = 0; k < N; ++k) {
    operands[k + 1] = inputs[k];
    compute_type[k + 1] = in_types[k];
  }
  const LinearLayout<M> layout = linear_layout(out, operands);
  bool direct_range = layout.linear;  // and every operand an array of its compute type
  for (size_t k = 0; k < M && direct_range; ++k) {
    direct_range = operands[k]->dtype() == compute_type[k] &&
                   layout.step[k] == static_cast<int64_t>(dtype_size(compute_type[k]));
  }
  if (direct_range) {
    parallel_for(0, total, grain, [&](int64_t lo, int64_t hi) {
      std::array<const void*, N> src;
      for (size_t k = 0; k < N; ++k) src[k] = layout.base[k + 1] + lo * layout.step[k + 1];
      fn(src.data(), layout.base[0] + lo * layout.step[0], hi - lo, params);
    });
    return;
  }

  std::array<ConvertFn, M> convert;
  std::array<int64_t, M> compute_size;
  std::array<bool, M> native;  // stored in the compute type already
  for (size_t k = 0; k < M; ++k) {
    const DType stored = operands[k]->dtype();
    convert[k] = k == 0 ? convert_fn(result_type, stored) : convert_fn(stored, compute_type[k]);
    compute_size[k] = static_cast<int64_t>(dtype_size(compute_type[k]));
    native[k] = compute_type[k] == stored;
  }
  auto row = [&](const std::array<char*, M>& ptr, const std::array<int64_t, M>& stride, int64_t n) {
    std::array<bool, M> direct;
    bool all_direct = true;
    for (size_t k = 0; k < M; ++k) {
      direct[k] = native[k] && stride[k] == compute_size[k];
      all_direct = all_direct && direct[k];
    }
    std::array<const void*, N> src;
    if (all_direct) {
      for (size_t k = 0; k < N; ++k) src[k] = ptr[k + 1];
      fn(src.data(), ptr[0], n, params);
      return;
    }
    alignas(64) char buffer[M][kChunk * 8];
    std::array<bool, M> repeated{};
    for (size_t k = 1; k < M; ++k) {  // a broadcast scalar: convert it once for the row
      if (direct[k] || stride[k] != 0) continue;
      convert[k](ptr[k], 0, buffer[k], compute_size[k], std::min(n, kChunk));
      repeated[k] = true;
    }
    for (int64_t i = 0; i < n; i += kChunk) {
      const int64_t count = std::min(kChunk, n - i);
      for (size_t k = 1; k < M; ++k) {
        const char* at = ptr[k] + i * stride[k];
        if (!direct[k] && !repeated[k]) {
          convert[k](at, stride[k], buffer[k], compute_size[k], count);
        }
        src[k - 1] = direct[k] ? at : buffer[k];
      }
      char* dst = ptr[0] + i * stride[0];
      fn(src.data(), direct[0] ? dst : buffer[0], count, params);
      if (!direct[0]) convert[0](buffer[0], compute_size[0], dst, stride[0], count);
    }
  };
  for_each_elementwise_row<M>(out, operands, layout, row, grain);
}

}  // namespace tenflowers::cpu
