// sort and topk along an axis. Each line is loaded as (key, index) pairs with NaNs set aside
// (NaN ranks above every number, so it comes last ascending and first descending, in index
// order), the rest ordered by key then index, which makes the order stable and total; topk is
// the first k of that order found with a partial sort. Lines run in parallel.
#include <cmath>
#include <utility>
#include <vector>

#include "src/backends/cpu/shape_common.hpp"

namespace tenflowers::cpu {
namespace {

template <class Key>
bool is_nan(Key key) {
  if constexpr (std::is_floating_point_v<Key>) {
    return std::isnan(key);
  } else {
    return false;
  }
}

// One line's ordering state, reused across the lines of a parallel task.
template <class T>
class LineOrder {
 public:
  using Key = compute_t<T>;
  using Entry = std::pair<Key, int64_t>;

  // Loads `length` elements; afterwards numbers() holds the non-NaN entries in index order.
  void load(const T* line, int64_t step, int64_t length) {
    numbers_.clear();
    nans_.clear();
    for (int64_t i = 0; i < length; ++i) {
      const Key key = static_cast<Key>(line[i * step]);
      if (is_nan(key)) {
        nans_.push_back(i);
      } else {
        numbers_.emplace_back(key, i);
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
  std::vector<int64_t> nans_;
};

// values[i] = x[indices[i]] along each line, after the indices were chosen.
template <class T>
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
    LineOrder<T> order;
    lines.for_range(lo, hi, [&](const std::array<int64_t, 3>& offsets) {
      const T* line = src + offsets[0];
      int64_t* line_idx = idx + offsets[2];
      order.load(line, in_step, length);
      order.first(count, descending, line_idx, index_step);
      T* line_values = dst + offsets[1];
      for (int64_t i = 0; i < count; ++i) {
        line_values[i * value_step] = line[line_idx[i * index_step] * in_step];
      }
    });
  });
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
