// CPU kernels of the indexing ops. Every kernel that reads indices validates all of them first
// (in parallel) and throws IndexError naming the first bad one, so the copy loops after it
// address memory without checks. Pure data movement (gather, scatter, take, index_select, the
// masks) runs on unsigned integers of the element's size: one instantiation per size, not per
// dtype.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "src/backends/common/index_check.hpp"
#include "src/backends/cpu/loops.hpp"
#include "src/backends/cpu/register.hpp"
#include "tenflowers/core/convert.hpp"

namespace tenflowers::cpu {
namespace {

template <class T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <class T>
void store(char* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Runs f.template operator()<U>() with U the unsigned integer as wide as one element.
template <class F>
void dispatch_by_size(size_t bytes, F&& f) {
  switch (bytes) {
    case 1:
      f.template operator()<uint8_t>();
      break;
    case 2:
      f.template operator()<uint16_t>();
      break;
    case 4:
      f.template operator()<uint32_t>();
      break;
    case 8:
      f.template operator()<uint64_t>();
      break;
    default:
      throw InternalError("no element copy for elements of " + std::to_string(bytes) + " bytes");
  }
}

// Runs f.template operator()<IndexT>() for an i32 or i64 index tensor (the infer rules have
// rejected every other dtype).
template <class F>
void dispatch_index(DType dtype, F&& f) {
  if (dtype == DType::I32) {
    f.template operator()<int32_t>();
  } else if (dtype == DType::I64) {
    f.template operator()<int64_t>();
  } else {
    throw DTypeError("index tensors must be i32 or i64, got " + std::string(dtype_name(dtype)));
  }
}

// A valid index after validation: negative values count from the end.
template <class IndexT>
int64_t wrap(IndexT i, int64_t extent) {
  const auto v = static_cast<int64_t>(i);
  return v < 0 ? v + extent : v;
}

// Calls f(position, element) for elements [begin, end) of a one-operand iteration, positions
// being row-major linear indices into the tensor's shape.
template <class F>
void for_each_position(const StridedIter<1>& it, int64_t begin, int64_t end, F&& f) {
  int64_t pos = begin;
  auto row = [&](std::array<char*, 1> p, std::array<int64_t, 1> s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) f(pos + i, p[0] + i * s[0]);
    pos += n;
  };
  for_each_row(it, begin, end, row);
}

// Throws IndexError unless every element of `index` lies in [low, high). `what` completes
// "out of range ..." (e.g. "for axis 1 of extent 4").
void validate_indices(const Tensor& index, int64_t low, int64_t high, const std::string& what) {
  constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  std::atomic<int64_t> first_bad{kNone};
  const auto it = make_iter<1>(index.shape(), {&index});
  dispatch_index(index.dtype(), [&]<class IndexT>() {
    parallel_for(0, it.numel(), kDefaultGrain, [&](int64_t begin, int64_t end) {
      int64_t local = kNone;
      for_each_position(it, begin, end, [&](int64_t pos, const char* p) {
        const auto v = static_cast<int64_t>(load<IndexT>(p));
        if ((v < low || v >= high) && local == kNone) local = pos;
      });
      int64_t seen = first_bad.load();
      while (local < seen && !first_bad.compare_exchange_weak(seen, local)) {
      }
    });
  });
  if (first_bad.load() == kNone) return;
  const auto [position, offset] = locate(index, first_bad.load());
  int64_t value = 0;
  dispatch_index(index.dtype(), [&]<class IndexT>() {
    value = static_cast<int64_t>(static_cast<const IndexT*>(index.data_ptr())[offset]);
  });
  throw_index_out_of_range(value, position, low, high, what);
}

// dst = src elementwise (same shape and dtype, any layouts).
void copy_into(const Tensor& dst, const Tensor& src) {
  dispatch_by_size(dtype_size(dst.dtype()), [&]<class U>() {
    const auto it = make_iter<2>(dst.shape(), {&dst, &src});
    parallel_rows(it, [](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
      if (s[0] == sizeof(U) && s[1] == sizeof(U)) {
        std::memcpy(p[0], p[1], static_cast<size_t>(n) * sizeof(U));
        return;
      }
      for (int64_t i = 0; i < n; ++i) store(p[0] + i * s[0], load<U>(p[1] + i * s[1]));
    });
  });
}

// The loop behind gather, take and index_select: over out's shape,
// out[p] = source[p + wrap(index[p]) * axis_bytes], where `index` and `source` are views with
// out's shape (source with the indexed axis' stride zeroed). Indices are already validated.
template <class U, class IndexT>
void gather_loop(const Tensor& out, const Tensor& index, const Tensor& source, int64_t extent,
                 int64_t axis_bytes) {
  const auto it = make_iter<3>(out.shape(), {&out, &index, &source});
  parallel_rows(it, [=](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
    if (s[1] == 0) {  // one index for the whole row: copy a run of the source
      const char* from = p[2] + wrap(load<IndexT>(p[1]), extent) * axis_bytes;
      if (s[0] == sizeof(U) && s[2] == sizeof(U)) {
        std::memcpy(p[0], from, static_cast<size_t>(n) * sizeof(U));
      } else {
        for (int64_t i = 0; i < n; ++i) store(p[0] + i * s[0], load<U>(from + i * s[2]));
      }
      return;
    }
    if (s[0] == sizeof(U) && s[1] == sizeof(IndexT)) {  // dense output and index
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = wrap(load<IndexT>(p[1] + i * sizeof(IndexT)), extent);
        store(p[0] + i * sizeof(U), load<U>(p[2] + i * s[2] + k * axis_bytes));
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = wrap(load<IndexT>(p[1] + i * s[1]), extent);
      store(p[0] + i * s[0], load<U>(p[2] + i * s[2] + k * axis_bytes));
    }
  });
}

void run_gather_loop(const Tensor& out, const Tensor& index, const Tensor& source, int64_t extent,
                     int64_t axis_bytes) {
  if (out.numel() == 0) return;
  dispatch_by_size(dtype_size(out.dtype()), [&]<class U>() {
    dispatch_index(index.dtype(), [&]<class IndexT>() {
      gather_loop<U, IndexT>(out, index, source, extent, axis_bytes);
    });
  });
}

void gather_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t extent = axis_extent(x, axis);
  validate_indices(index, -extent, extent, axis_range(axis, extent));
  run_gather_loop(ctx.outputs[0], index, along_axis_view(x, axis, index.shape()), extent,
                  axis_bytes(x, axis));
}

void take_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const int64_t n = x.numel();
  validate_indices(index, -n, n, "for x with " + std::to_string(n) + " elements");
  if (index.numel() == 0) return;
  // Flat indices address row-major order: read from a dense copy when x is strided.
  Tensor dense = x;
  if (!x.is_contiguous()) {
    dense = Tensor::empty(x.shape(), x.dtype(), x.device());
    copy_into(dense, x);
  }
  const Tensor source = restrided(dense, index.shape(), Dims(index.shape().size(), 0));
  run_gather_loop(ctx.outputs[0], index, source, n, static_cast<int64_t>(dtype_size(x.dtype())));
}

void index_select_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t extent = x.shape()[static_cast<size_t>(axis)];
  validate_indices(index, -extent, extent, axis_range(axis, extent));
  // The 1-d index runs along `axis` of the output and is broadcast over the other axes.
  Dims index_strides(out.shape().size(), 0);
  if (index.rank() == 1) index_strides[static_cast<size_t>(axis)] = index.strides()[0];
  run_gather_loop(out, restrided(index, out.shape(), std::move(index_strides)),
                  along_axis_view(x, axis, out.shape()), extent, byte_stride(x, axis));
}

// bool accumulates as logical or; integers wrap around (two's complement, no UB); 16-bit floats
// add in float and round once per addition.
template <class T>
T accumulate(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return a || b;
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return static_cast<T>(static_cast<compute_t<T>>(a) + static_cast<compute_t<T>>(b));
  }
}

// out = x, then out[p with axis -> wrap(index[p])] = src[p] (or += for Accumulate) for every
// index position p. The iteration puts the scattered axis innermost, and whole rows go to
// threads: a row is then every index position writing into one output line, taken in index
// order. So duplicates resolve the same way whatever the thread count: the last write along the
// axis wins, and additions happen in index order.
template <bool Accumulate>
void scatter_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& index = ctx.inputs[1];
  const Tensor& src = ctx.inputs[2];
  const Tensor& out = ctx.outputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t extent = axis_extent(x, axis);
  validate_indices(index, -extent, extent, axis_range(axis, extent));
  copy_into(out, x);
  if (index.numel() == 0) return;

  Dims order;  // the non-scattered axes, then the scattered one
  for (int64_t d = 0; d < x.rank(); ++d)
    if (d != axis) order.push_back(d);
  if (x.rank() > 0) order.push_back(axis);
  Dims out_strides = out.strides();  // the axis is addressed through the index
  if (x.rank() > 0) out_strides[static_cast<size_t>(axis)] = 0;
  Dims shape, out_s, index_s, src_s;
  for (int64_t d : order) {
    const auto a = static_cast<size_t>(d);
    shape.push_back(index.shape()[a]);
    out_s.push_back(out_strides[a]);
    index_s.push_back(index.strides()[a]);
    src_s.push_back(src.strides()[a]);
  }
  const Tensor out_v = restrided(out, shape, out_s);
  const Tensor index_v = restrided(index, shape, index_s);
  const Tensor src_v = restrided(src, shape, src_s);
  const int64_t line_bytes = axis_bytes(out, axis);
  const auto it = make_iter<3>(shape, {&out_v, &index_v, &src_v});
  const int64_t inner = it.shape.back();

  auto run = [&]<class T, class IndexT>() {
    auto row = [=](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        char* dst = p[0] + i * s[0] + wrap(load<IndexT>(p[1] + i * s[1]), extent) * line_bytes;
        const T value = load<T>(p[2] + i * s[2]);
        if constexpr (Accumulate) {
          store(dst, accumulate(load<T>(dst), value));
        } else {
          store(dst, value);
        }
      }
    };
    const int64_t rows = it.numel() / inner;
    parallel_for(0, rows, std::max<int64_t>(1, kDefaultGrain / inner),
                 [&](int64_t lo, int64_t hi) { for_each_row(it, lo * inner, hi * inner, row); });
  };
  dispatch_index(index.dtype(), [&]<class IndexT>() {
    if constexpr (Accumulate) {
      TF_DISPATCH_ALL(x.dtype(), "scatter_add",
                      [&] { run.template operator()<scalar_t, IndexT>(); });
    } else {
      dispatch_by_size(dtype_size(x.dtype()),
                       [&]<class U>() { run.template operator()<U, IndexT>(); });
    }
  });
}

void one_hot_kernel(KernelContext& ctx) {
  const Tensor& indices = ctx.inputs[0];
  const Tensor& out = ctx.outputs[0];
  const int64_t depth = ctx.attrs.get_int("depth");
  validate_indices(indices, 0, depth, "for depth " + std::to_string(depth));
  if (out.numel() == 0) return;
  const auto it = make_iter<1>(indices.shape(), {&indices});
  TF_DISPATCH_ALL(out.dtype(), "one_hot", [&] {
    const auto zero = convert<scalar_t>(0);
    const auto one = convert<scalar_t>(1);
    scalar_t* lines = out.data<scalar_t>();
    dispatch_index(indices.dtype(), [&]<class IndexT>() {
      const int64_t grain = std::max<int64_t>(1, kDefaultGrain / depth);
      parallel_for(0, it.numel(), grain, [&](int64_t begin, int64_t end) {
        for_each_position(it, begin, end, [&](int64_t pos, const char* p) {
          scalar_t* line = lines + pos * depth;
          std::fill(line, line + depth, zero);
          line[load<IndexT>(p)] = one;
        });
      });
    });
  });
}

void masked_fill_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& mask = ctx.inputs[1];
  const Tensor& out = ctx.outputs[0];
  const double value = ctx.attrs.get_float("value");
  uint64_t fill_bits = 0;  // the value converted to x's dtype (saturating), as raw bytes
  TF_DISPATCH_ALL(x.dtype(), "masked_fill", [&] {
    const auto fill = convert<scalar_t>(value);
    std::memcpy(&fill_bits, &fill, sizeof(scalar_t));
  });
  const auto it = make_iter<3>(out.shape(), {&out, &x, &mask});
  dispatch_by_size(dtype_size(x.dtype()), [&]<class U>() {
    U fill;
    std::memcpy(&fill, &fill_bits, sizeof(U));
    parallel_rows(it, [fill](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n) {
      if (s[0] == sizeof(U) && s[1] == sizeof(U) && s[2] == 1) {  // dense: vectorizes
        for (int64_t i = 0; i < n; ++i) {
          const U kept = load<U>(p[1] + i * sizeof(U));
          store(p[0] + i * sizeof(U), load<uint8_t>(p[2] + i) ? fill : kept);
        }
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        const bool masked = load<uint8_t>(p[2] + i * s[2]) != 0;
        store(p[0] + i * s[0], masked ? fill : load<U>(p[1] + i * s[1]));
      }
    });
  });
}

// Two passes over the same fixed chunks of the broadcast iteration: count the selected elements
// per chunk, then copy each chunk's selection to its offset. Order is row-major, as NumPy.
void masked_select_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const Tensor& mask = ctx.inputs[1];
  const auto it = make_iter<2>(broadcast_shapes(x.shape(), mask.shape()), {&x, &mask});
  const int64_t n = it.numel();
  const int64_t chunks = std::clamp<int64_t>(n / kDefaultGrain, 1, get_num_threads());
  auto chunk_begin = [&](int64_t c) { return n * c / chunks; };
  std::vector<int64_t> offsets(static_cast<size_t>(chunks) + 1, 0);
  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      int64_t count = 0;
      auto row = [&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t len) {
        for (int64_t i = 0; i < len; ++i) count += load<uint8_t>(p[1] + i * s[1]) != 0;
      };
      for_each_row(it, chunk_begin(c), chunk_begin(c + 1), row);
      offsets[static_cast<size_t>(c) + 1] = count;
    }
  });
  for (size_t c = 1; c < offsets.size(); ++c) offsets[c] += offsets[c - 1];
  Tensor out = Tensor::empty(Dims{offsets.back()}, x.dtype(), ctx.device);
  char* base = static_cast<char*>(out.data_ptr());
  dispatch_by_size(dtype_size(x.dtype()), [&]<class U>() {
    parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        char* dst = base + offsets[static_cast<size_t>(c)] * static_cast<int64_t>(sizeof(U));
        auto row = [&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t len) {
          for (int64_t i = 0; i < len; ++i) {
            if (load<uint8_t>(p[1] + i * s[1]) == 0) continue;
            store(dst, load<U>(p[0] + i * s[0]));
            dst += sizeof(U);
          }
        };
        for_each_row(it, chunk_begin(c), chunk_begin(c + 1), row);
      }
    });
  });
  ctx.outputs[0] = out;
}

}  // namespace

void register_cpu_index_kernels(OpRegistry& r) {
  r.add_kernel("gather", DeviceType::CPU, gather_kernel, kAllDTypes);
  r.add_kernel("scatter", DeviceType::CPU, scatter_kernel<false>, kAllDTypes);
  r.add_kernel("scatter_add", DeviceType::CPU, scatter_kernel<true>, kAllDTypes);
  r.add_kernel("take", DeviceType::CPU, take_kernel, kAllDTypes);
  r.add_kernel("index_select", DeviceType::CPU, index_select_kernel, kAllDTypes);
  r.add_kernel("one_hot", DeviceType::CPU, one_hot_kernel, dtype_mask({DType::I32, DType::I64}));
  r.add_kernel("masked_fill", DeviceType::CPU, masked_fill_kernel, kAllDTypes);
  r.add_kernel("masked_select", DeviceType::CPU, masked_select_kernel, kAllDTypes);
}

}  // namespace tenflowers::cpu
