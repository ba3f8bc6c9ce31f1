// sort and topk along an axis. NaN ranks above every number (last ascending, first descending)
// and equal values keep their index order, so the order is stable and total. Long lines sort
// with an LSD radix sort on order-preserving unsigned keys (stable by construction, O(n));
// topk of a few elements keeps the best k in one pass; other short lines and topk load (key,
// index) pairs and use std::sort / std::partial_sort with the index as tie-break. NaNs are set
// aside in index order in every path. Lines run in parallel.
#include <bit>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "src/backends/cpu/shape_common.hpp"

namespace tenflowers::cpu {
namespace {

template <class T>
bool is_nan(T value) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return std::isnan(static_cast<float>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(value);
  } else {
    return false;
  }
}

// One line's ordering state, reused across the lines of a parallel task. Index is int32_t when
// the line is short enough: smaller entries sort faster.
template <class T, class Index>
class LineOrder {
 public:
  using Key = compute_t<T>;
  using Entry = std::pair<Key, Index>;

  // Loads `length` elements, setting NaNs aside; both lists are in index order.
  void load(const T* line, int64_t step, int64_t length) {
    numbers_.clear();
    nans_.clear();
    for (int64_t i = 0; i < length; ++i) {
      const Key key = static_cast<Key>(line[i * step]);
      if (is_nan(key)) {
        nans_.push_back(static_cast<Index>(i));
      } else {
        numbers_.emplace_back(key, static_cast<Index>(i));
      }
    }
  }

  // Writes the first `count` (<= length) indices of the stable order: descending with NaNs
  // first, or ascending with NaNs last.
  void first(int64_t count, bool descending, int64_t* out, int64_t out_step) {
    int64_t written = 0;
    auto emit_nans = [&](int64_t n) {
      for (int64_t i = 0; i < n; ++i) out[(written++) * out_step] = nans_[static_cast<size_t>(i)];
    };
    auto emit_numbers = [&](int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        out[(written++) * out_step] = numbers_[static_cast<size_t>(i)].second;
      }
    };
    if (descending) {
      const int64_t nan_count = std::min(static_cast<int64_t>(nans_.size()), count);
      emit_nans(nan_count);
      order_numbers(count - nan_count, greater);
      emit_numbers(count - nan_count);
    } else {
      const int64_t number_count = std::min(static_cast<int64_t>(numbers_.size()), count);
      order_numbers(number_count, less);
      emit_numbers(number_count);
      emit_nans(count - number_count);
    }
  }

 private:
  static bool less(const Entry& a, const Entry& b) {
    return a.first < b.first || (!(b.first < a.first) && a.second < b.second);
  }
  static bool greater(const Entry& a, const Entry& b) {
    return b.first < a.first || (!(a.first < b.first) && a.second < b.second);
  }
  // Puts the first `count` entries of the order at the front, ordered.
  template <class Compare>
  void order_numbers(int64_t count, Compare compare) {
    const auto end = numbers_.begin() + count;
    if (count == static_cast<int64_t>(numbers_.size())) {
      std::sort(numbers_.begin(), end, compare);
    } else if (count > 0) {
      std::partial_sort(numbers_.begin(), end, numbers_.end(), compare);
    }
  }

  std::vector<Entry> numbers_;
  std::vector<Index> nans_;
};

// Flips IEEE sign-magnitude bits into unsigned keys that order like the numbers they encode.
template <class U>
U sign_magnitude_key(U bits) {
  constexpr U sign = U(1) << (8 * sizeof(U) - 1);
  return (bits & sign) ? U(~bits) : U(bits | sign);
}

// OrderedKey<T>::of(v): an unsigned key with a < b exactly when key(a) < key(b), and 0 and -0
// sharing one key so they tie. Not called for NaN.
template <class T>
struct OrderedKey {  // bool and u8
  using U = uint8_t;
  static U of(T v) { return static_cast<U>(v); }
};
template <class T>
requires std::is_integral_v<T> && std::is_signed_v<T>
struct OrderedKey<T> {
  using U = std::make_unsigned_t<T>;
  static U of(T v) { return static_cast<U>(static_cast<U>(v) ^ (U(1) << (8 * sizeof(U) - 1))); }
};
template <class T>
requires std::is_floating_point_v<T>
struct OrderedKey<T> {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  static U of(T v) { return sign_magnitude_key(std::bit_cast<U>(v == T(0) ? T(0) : v)); }
};
template <class T>
requires std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>
struct OrderedKey<T> {
  using U = uint16_t;
  static U of(T v) { return sign_magnitude_key<U>((v.bits & 0x7fffu) == 0 ? 0 : v.bits); }
};

// Radix sorting pays off once a line is long enough to amortize its 256-entry histograms.
template <class T>
constexpr int64_t kRadixMinLength = 64 * static_cast<int64_t>(sizeof(typename OrderedKey<T>::U));

// LSD radix sort of one whole line, one byte of the key per pass; passes where every key has
// the same byte are skipped (small integers in wide types). Descending order sorts inverted
// keys, which keeps equal values in index order.
template <class T, class Index>
class RadixLineSort {
 public:
  using U = typename OrderedKey<T>::U;
  static constexpr size_t kPasses = sizeof(U);

  void sort(const T* line, int64_t step, int64_t length, bool descending, int64_t* out,
            int64_t out_step) {
    keys_.resize(static_cast<size_t>(length));
    spare_keys_.resize(static_cast<size_t>(length));
    indices_.resize(static_cast<size_t>(length));
    spare_indices_.resize(static_cast<size_t>(length));
    nans_.clear();
    for (auto& h : histograms_) h.fill(0);
    const U flip = descending ? U(~U(0)) : U(0);
    size_t count = 0;
    for (int64_t i = 0; i < length; ++i) {
      const T v = line[i * step];
      if (is_nan(v)) {
        nans_.push_back(static_cast<Index>(i));
        continue;
      }
      const U key = static_cast<U>(OrderedKey<T>::of(v) ^ flip);
      keys_[count] = key;
      indices_[count] = static_cast<Index>(i);
      for (size_t p = 0; p < kPasses; ++p) ++histograms_[p][(key >> (8 * p)) & 0xff];
      ++count;
    }
    for (size_t p = 0; p < kPasses && count > 0; ++p) {
      auto& histogram = histograms_[p];
      const unsigned shift = 8 * static_cast<unsigned>(p);
      if (histogram[(keys_[0] >> shift) & 0xff] == count) continue;
      size_t start = 0;
      for (size_t& bucket : histogram) start += std::exchange(bucket, start);
      for (size_t j = 0; j < count; ++j) {
        const size_t position = histogram[(keys_[j] >> shift) & 0xff]++;
        spare_keys_[position] = keys_[j];
        spare_indices_[position] = indices_[j];
      }
      keys_.swap(spare_keys_);
      indices_.swap(spare_indices_);
    }
    int64_t written = 0;
    auto emit = [&](Index index) { out[(written++) * out_step] = index; };
    if (descending) std::for_each(nans_.begin(), nans_.end(), emit);
    std::for_each(indices_.begin(), indices_.begin() + static_cast<std::ptrdiff_t>(count), emit);
    if (!descending) std::for_each(nans_.begin(), nans_.end(), emit);
  }

 private:
  std::vector<U> keys_, spare_keys_;
  std::vector<Index> indices_, spare_indices_, nans_;
  std::array<std::array<size_t, 256>, kPasses> histograms_;
};

// topk for small k in one pass: the best k numbers seen so far stay ordered, best first; a later
// equal value never displaces an earlier one, so ties keep index order. The first k NaNs are
// kept aside.
template <class T, class Index>
class SmallTopK {
 public:
  using Key = compute_t<T>;
  static constexpr int64_t kMaxK = 32;

  void select(const T* line, int64_t step, int64_t length, int64_t k, bool largest, int64_t* out,
              int64_t out_step) {
    if (largest) {
      scan<true>(line, step, length, static_cast<size_t>(k));
    } else {
      scan<false>(line, step, length, static_cast<size_t>(k));
    }
    int64_t written = 0;
    auto emit = [&](const std::vector<Index>& from, int64_t n) {
      for (int64_t i = 0; i < n; ++i) out[(written++) * out_step] = from[static_cast<size_t>(i)];
    };
    const auto numbers = static_cast<int64_t>(indices_.size());
    const auto nans = static_cast<int64_t>(nans_.size());
    if (largest) {
      emit(nans_, std::min(nans, k));
      emit(indices_, k - std::min(nans, k));
    } else {
      emit(indices_, std::min(numbers, k));
      emit(nans_, k - std::min(numbers, k));
    }
  }

 private:
  template <bool kLargest>
  static bool ranks_above(Key a, Key b) {
    return kLargest ? b < a : a < b;
  }
  // The common case, a value that does not make the cut, stays in registers: `size` and
  // `worst` are locals, and the vectors are touched only on insertion.
  template <bool kLargest>
  void scan(const T* line, int64_t step, int64_t length, size_t k) {
    keys_.clear();
    indices_.clear();
    nans_.clear();
    size_t size = 0;
    Key worst{};  // the last kept key once `size` reached k
    for (int64_t i = 0; i < length; ++i) {
      const Key v = static_cast<Key>(line[i * step]);
      if (size == k && !ranks_above<kLargest>(v, worst) && !is_nan(v)) continue;
      if (is_nan(v)) {
        if (nans_.size() < k) nans_.push_back(static_cast<Index>(i));
        continue;
      }
      size_t position = std::min(size, k - 1);
      if (size < k) {
        keys_.push_back(v);
        indices_.push_back(static_cast<Index>(i));
        ++size;
      }
      for (; position > 0 && ranks_above<kLargest>(v, keys_[position - 1]); --position) {
        keys_[position] = keys_[position - 1];
        indices_[position] = indices_[position - 1];
      }
      keys_[position] = v;
      indices_[position] = static_cast<Index>(i);
      worst = keys_[size - 1];
    }
  }

  std::vector<Key> keys_;
  std::vector<Index> indices_, nans_;
};

// values[i] = x[indices[i]] along each line, after the indices were chosen.
template <class T, class Index>
void order_lines(const Tensor& x, const Tensor& values, const Tensor& indices, int64_t axis,
                 int64_t count, bool descending) {
  if (values.numel() == 0) return;
  const T* src = static_cast<const T*>(x.data_ptr());
  T* dst = static_cast<T*>(values.data_ptr());
  int64_t* idx = static_cast<int64_t*>(indices.data_ptr());
  const AxisLines<3> lines(x.shape(), axis, {&x, &values, &indices});
  const int64_t in_step = lines.step(0), value_step = lines.step(1), index_step = lines.step(2);
  const int64_t length = lines.length();
  parallel_for(0, lines.count(), lines.grain(), [&](int64_t lo, int64_t hi) {
    LineOrder<T, Index> order;
    RadixLineSort<T, Index> radix;
    SmallTopK<T, Index> small;
    const bool use_radix = count == length && length >= kRadixMinLength<T>;
    const bool use_small = count < length && count <= SmallTopK<T, Index>::kMaxK;
    lines.for_range(lo, hi, [&](const std::array<int64_t, 3>& offsets) {
      const T* line = src + offsets[0];
      int64_t* line_idx = idx + offsets[2];
      if (use_radix) {
        radix.sort(line, in_step, length, descending, line_idx, index_step);
      } else if (use_small) {
        small.select(line, in_step, length, count, descending, line_idx, index_step);
      } else {
        order.load(line, in_step, length);
        order.first(count, descending, line_idx, index_step);
      }
      T* line_values = dst + offsets[1];
      for (int64_t i = 0; i < count; ++i) {
        line_values[i * value_step] = line[line_idx[i * index_step] * in_step];
      }
    });
  });
}

template <class T>
void order_lines(const Tensor& x, const Tensor& values, const Tensor& indices, int64_t axis,
                 int64_t count, bool descending) {
  const int64_t length = x.rank() == 0 ? 1 : x.shape()[static_cast<size_t>(axis)];
  if (length <= std::numeric_limits<int32_t>::max()) {
    order_lines<T, int32_t>(x, values, indices, axis, count, descending);
  } else {
    order_lines<T, int64_t>(x, values, indices, axis, count, descending);
  }
}

void sort_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const bool descending = ctx.attrs.get_bool("descending");
  const int64_t length = x.rank() == 0 ? 1 : x.shape()[static_cast<size_t>(axis)];
  TF_DISPATCH_ALL(x.dtype(), "sort", [&] {
    order_lines<scalar_t>(x, ctx.outputs[0], ctx.outputs[1], axis, length, descending);
  });
}

void topk_kernel(KernelContext& ctx) {
  const Tensor& x = ctx.inputs[0];
  const int64_t axis = normalize_axis(ctx.attrs.get_int("axis"), x.rank());
  const int64_t k = ctx.attrs.get_int("k");
  const bool largest = ctx.attrs.get_bool("largest");
  TF_DISPATCH_ALL(x.dtype(), "topk", [&] {
    order_lines<scalar_t>(x, ctx.outputs[0], ctx.outputs[1], axis, k, largest);
  });
}

}  // namespace

void register_cpu_sort_kernels(OpRegistry& r) {
  r.add_kernel("sort", DeviceType::CPU, sort_kernel, kAllDTypes);
  r.add_kernel("topk", DeviceType::CPU, topk_kernel, kAllDTypes);
}

}  // namespace tenflowers::cpu
