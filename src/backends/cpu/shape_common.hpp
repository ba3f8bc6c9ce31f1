#pragma once
// Helpers shared by the shape family's CPU kernels (shape.cpp, shape_sort.cpp, shape_scan.cpp):
// iteration over the lines of a tensor along one axis, and the registration entry points.
#include <algorithm>
#include <array>
#include <cstdint>

#include "src/backends/cpu/loops.hpp"
#include "tenflowers/core/op_registry.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {

void register_cpu_sort_kernels(OpRegistry& r);  // shape_sort.cpp: sort, topk
void register_cpu_scan_kernels(OpRegistry& r);  // shape_scan.cpp: cumsum, cumprod

// The lines of a shape along `axis`: one per index combination of the other axes, in row-major
// order. For each of N tensors of that shape it yields the element offset of the line's start
// (relative to the tensor's data_ptr) and the element stride along the line. A 0-d shape has
// one line of length 1.
template <size_t N>
class AxisLines {
 public:
  AxisLines(const Dims& shape, int64_t axis, const std::array<const Tensor*, N>& tensors) {
    length_ = shape.empty() ? 1 : shape[static_cast<size_t>(axis)];
    for (size_t k = 0; k < N; ++k) {
      step_[k] = shape.empty() ? 0 : tensors[k]->strides()[static_cast<size_t>(axis)];
    }
    for (size_t a = 0; a < shape.size(); ++a) {
      if (static_cast<int64_t>(a) == axis) continue;
      outer_.push_back(shape[a]);
      for (size_t k = 0; k < N; ++k) strides_[k].push_back(tensors[k]->strides()[a]);
    }
  }
  int64_t length() const { return length_; }
  int64_t count() const { return outer_.numel(); }
  int64_t step(size_t k) const { return step_[k]; }
  // Lines per parallel task so that each task handles about kDefaultGrain elements.
  int64_t grain() const {
    return std::max<int64_t>(1, kDefaultGrain / std::max<int64_t>(1, length_));
  }

  // Calls line(offsets) for lines [begin, end), stepping the offsets like an odometer.
  template <class Line>
  void for_range(int64_t begin, int64_t end, Line&& line) const {
    if (begin >= end) return;
    const size_t rank = outer_.size();
    Dims index(rank, 0);
    std::array<int64_t, N> offsets{};
    int64_t rem = begin;
    for (size_t d = rank; d-- > 0;) {
      index[d] = rem % outer_[d];
      rem /= outer_[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += index[d] * strides_[k][d];
    }
    for (int64_t l = begin; l < end; ++l) {
      line(offsets);
      for (size_t d = rank; d-- > 0;) {
        for (size_t k = 0; k < N; ++k) offsets[k] += strides_[k][d];
        if (++index[d] < outer_[d]) break;
        for (size_t k = 0; k < N; ++k) offsets[k] -= outer_[d] * strides_[k][d];
        index[d] = 0;
      }
    }
  }

 private:
  int64_t length_ = 1;
  Dims outer_;
  std::array<Dims, N> strides_;
  std::array<int64_t, N> step_{};
};

}  // namespace tenflowers::cpu
