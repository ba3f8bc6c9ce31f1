#include "src/backends/cpu/reduction_engine.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>

namespace tenflowers::cpu {
namespace {

// Merges neighbouring axes (in the given order) that address memory as one axis and drops
// extent-1 axes; an empty result becomes a single extent-1 axis.
void coalesce(const Tensor& x, const std::vector<size_t>& order, Dims& shape, Dims& strides) {
  for (size_t axis : order) {
    const int64_t extent = x.shape()[axis], stride = x.strides()[axis];
    if (extent == 1) continue;
    if (!shape.empty() && strides.back() == stride * extent) {
      shape[shape.size() - 1] *= extent;
      strides[strides.size() - 1] = stride;
    } else {
      shape.push_back(extent);
      strides.push_back(stride);
    }
  }
  if (shape.empty()) {
    shape.push_back(1);
    strides.push_back(0);
  }
}

}  // namespace

ReducePlan make_reduce_plan(const Tensor& x, const std::vector<int64_t>& axes, bool keep_order) {
  std::vector<size_t> kept, reduced;
  for (size_t i = 0; i < x.shape().size(); ++i) {
    const bool is_reduced = std::binary_search(axes.begin(), axes.end(), static_cast<int64_t>(i));
    (is_reduced ? reduced : kept).push_back(i);
  }
  if (!keep_order) {
    // Largest stride outermost, so the inner loops walk memory in order.
    std::stable_sort(reduced.begin(), reduced.end(), [&](size_t a, size_t b) {
      return std::abs(x.strides()[a]) > std::abs(x.strides()[b]);
    });
  }
  ReducePlan plan;
  coalesce(x, kept, plan.kept_shape, plan.kept_strides);
  coalesce(x, reduced, plan.red_shape, plan.red_strides);
  plan.out_numel = plan.kept_shape.numel();
  plan.red_numel = plan.red_shape.numel();
  return plan;
}

}  // namespace tenflowers::cpu
