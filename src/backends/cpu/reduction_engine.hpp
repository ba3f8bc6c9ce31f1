#pragma once
// The CPU reduction engine. A reduction op supplies an accumulator type and four functions:
//   Acc init();                                   the identity
//   Acc step(Acc a, In x, int64_t index, Center c); folds one element (index: its position in
//                                                  the reduced space, for argmax/argmin)
//   Acc merge(Acc a, Acc b);                      combines two partial results
//   Out finish(Acc a, int64_t count, Center c);   makes the output element
// Center is NoCenter, or a per-output value computed by a first pass (the mean for var, the
// maximum for logsumexp). The engine picks a loop order from the strides:
//   rows:    the innermost reduced axis is walked per output; unit stride gets a vectorizable
//            loop with several independent accumulators (lanes), other strides a strided loop;
//   columns: the innermost kept axis is contiguous, so each reduced position adds a contiguous
//            block of inputs to a block of accumulators (vectorizes over the output axis).
// Both sum pairwise over fixed-size leaves, so the rounding error grows with log2 of the
// reduced length, and both split long reductions across threads at fixed points, so results
// do not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "src/backends/cpu/parallel.hpp"
#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers::cpu {

struct NoCenter {};

struct ReducePlan {
  Dims kept_shape, kept_strides;  // coalesced kept axes; the output is contiguous over them
  Dims red_shape, red_strides;    // coalesced reduced axes, outermost first
  int64_t out_numel = 1, red_numel = 1;
};

// `axes` are normalized and sorted. keep_order keeps the reduced axes in logical order, so that
// a position in the reduced space is the row-major index (argmax); otherwise they are ordered by
// stride for locality.
ReducePlan make_reduce_plan(const Tensor& x, const std::vector<int64_t>& axes, bool keep_order);

// Steps through the row-major multi-indices of the first `rank` axes of a shape, tracking the
// element offset they address.
class OffsetWalker {
 public:
  OffsetWalker(const Dims& shape, const Dims& strides, size_t rank)
      : shape_(shape), strides_(strides), index_(rank, 0), rank_(rank) {}
  void seek(int64_t linear) {
    offset_ = 0;
    for (size_t d = rank_; d-- > 0;) {
      index_[d] = linear % shape_[d];
      linear /= shape_[d];
      offset_ += index_[d] * strides_[d];
    }
  }
  void next() {
    for (size_t d = rank_; d-- > 0;) {
      offset_ += strides_[d];
      if (++index_[d] < shape_[d]) return;
      offset_ -= index_[d] * strides_[d];
      index_[d] = 0;
    }
  }
  int64_t offset() const { return offset_; }

 private:
  const Dims& shape_;
  const Dims& strides_;
  Dims index_;
  size_t rank_;
  int64_t offset_ = 0;
};

template <class Op>
class Reducer {
  using In = typename Op::In;
  using Acc = typename Op::Acc;
  using Out = typename Op::Out;
  using Center = typename Op::Center;
  static constexpr bool kHasCenter = !std::is_same_v<Center, NoCenter>;
  // Independent accumulators per row leaf: enough to fill several vector registers.
  static constexpr int kLanes = sizeof(Acc) <= 4 ? 16 : sizeof(Acc) <= 8 ? 8 : 4;
  static constexpr int64_t kLeafElements = 1024;  // pairwise leaf of a row reduction
  static constexpr int64_t kLeafRows = 32;        // pairwise leaf of a column reduction
  static constexpr int64_t kColumnBlock = 256;    // outputs one column task accumulates
  static constexpr int64_t kGrain = 32768;        // input elements per parallel task, at least
  static constexpr int64_t kMaxSplits = 64;       // parallel pieces of one long reduction
  static constexpr int64_t kRowsPerSplit = 256;   // column reductions split beyond this

 public:
  // `centers` holds one value per output element when the op has a Center.
  Reducer(const Op& op, const ReducePlan& plan, const In* in, Out* out,
          const Center* centers = nullptr)
      : op_(op), plan_(plan), in_(in), out_(out), centers_(centers) {}

  void run() const {
    const int64_t outputs = plan_.out_numel, count = plan_.red_numel;
    if (outputs == 0) return;
    if (count == 0) {
      for (int64_t o = 0; o < outputs; ++o) out_[o] = op_.finish(op_.init(), 0, center(o));
      return;
    }
    const bool columns = plan_.kept_shape.back() > 1 && plan_.kept_strides.back() == 1 &&
                         plan_.red_strides.back() != 1;
    if (columns) {
      run_columns();
    } else if (plan_.red_strides.back() == 1) {
      run_rows<true>();
    } else {
      run_rows<false>();
    }
  }

 private:
  Center center(int64_t o) const {
    if constexpr (kHasCenter) {
      return centers_[o];
    } else {
      return {};
    }
  }

  // Pairwise combination of n partial results, left to right.
  Acc merge_tree(Acc* items, int64_t n) const {
    for (int64_t width = 1; width < n; width *= 2) {
      for (int64_t i = 0; i + width < n; i += 2 * width)
        items[i] = op_.merge(items[i], items[i + width]);
    }
    return items[0];
  }

  // Midpoint of [r0, r1) on a multiple of `leaf` from r0; needs r1 - r0 > leaf.
  static int64_t split_point(int64_t r0, int64_t r1, int64_t leaf) {
    const int64_t leaves = (r1 - r0 + leaf - 1) / leaf;
    return r0 + (leaves / 2) * leaf;
  }

  // ---- rows: the innermost reduced axis is the inner loop ------------------------------------

  template <bool kUnitStride>
  void accumulate_row(Acc* lanes, const In* x, int64_t n, int64_t index, Center c) const {
    const int64_t stride = kUnitStride ? 1 : plan_.red_strides.back();
    Acc local[kLanes];  // a local copy the compiler can keep in registers
    std::copy(lanes, lanes + kLanes, local);
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        local[l] = op_.step(local[l], x[(i + l) * stride], index + i + l, c);
      }
    }
    for (int l = 0; i < n; ++i, ++l) local[l] = op_.step(local[l], x[i * stride], index + i, c);
    std::copy(local, local + kLanes, lanes);
  }

  // Reduces positions [r0, r1) of the reduced space (at most one leaf) for the output at `base`.
  template <bool kUnitStride>
  Acc reduce_leaf(const In* base, int64_t r0, int64_t r1, Center c) const {
    const int64_t row_length = plan_.red_shape.back();
    const int64_t row_stride = plan_.red_strides.back();
    const int64_t used = std::min<int64_t>(kLanes, r1 - r0);
    Acc lanes[kLanes];
    std::fill(lanes, lanes + used, op_.init());
    OffsetWalker rows(plan_.red_shape, plan_.red_strides, plan_.red_shape.size() - 1);
    rows.seek(r0 / row_length);
    int64_t position = r0 % row_length;
    for (int64_t r = r0; r < r1;) {
      const int64_t n = std::min(row_length - position, r1 - r);
      accumulate_row<kUnitStride>(lanes, base + rows.offset() + position * row_stride, n, r, c);
      r += n;
      position = 0;
      rows.next();
    }
    return merge_tree(lanes, used);
  }

  template <bool kUnitStride>
  Acc reduce_range(const In* base, int64_t r0, int64_t r1, Center c) const {
    if (r1 - r0 <= kLeafElements) return reduce_leaf<kUnitStride>(base, r0, r1, c);
    const int64_t mid = split_point(r0, r1, kLeafElements);
    return op_.merge(reduce_range<kUnitStride>(base, r0, mid, c),
                     reduce_range<kUnitStride>(base, mid, r1, c));
  }

  template <bool kUnitStride>
  void run_rows() const {
    const int64_t outputs = plan_.out_numel, count = plan_.red_numel;
    const size_t kept_rank = plan_.kept_shape.size();
    const int64_t splits =
        outputs < kMaxSplits && count >= 2 * kGrain ? std::min(kMaxSplits, count / kGrain) : 1;
    if (splits == 1) {
      parallel_for(0, outputs, std::max<int64_t>(1, kGrain / count), [&](int64_t lo, int64_t hi) {
        OffsetWalker kept(plan_.kept_shape, plan_.kept_strides, kept_rank);
        kept.seek(lo);
        for (int64_t o = lo; o < hi; ++o, kept.next()) {
          const Center c = center(o);
          out_[o] =
              op_.finish(reduce_range<kUnitStride>(in_ + kept.offset(), 0, count, c), count, c);
        }
      });
      return;
    }
    const int64_t chunk = round_up((count + splits - 1) / splits, kLeafElements);
    const int64_t pieces = (count + chunk - 1) / chunk;
    std::vector<Acc> partial(static_cast<size_t>(outputs * pieces));
    parallel_for(0, outputs * pieces, 1, [&](int64_t lo, int64_t hi) {
      OffsetWalker kept(plan_.kept_shape, plan_.kept_strides, kept_rank);
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t o = t / pieces, piece = t % pieces;
        kept.seek(o);
        partial[t] = reduce_range<kUnitStride>(in_ + kept.offset(), piece * chunk,
                                               std::min(count, (piece + 1) * chunk), center(o));
      }
    });
    for (int64_t o = 0; o < outputs; ++o) {
      out_[o] = op_.finish(merge_tree(&partial[o * pieces], pieces), count, center(o));
    }
  }

  // ---- columns: the innermost kept axis is contiguous and is the inner loop -------------------

  // Folds reduced positions [r0, r1) into acc[0, width) for the column block at `base`.
  void column_leaf(const In* base, const Center* centers, int64_t width, int64_t r0, int64_t r1,
                   Acc* __restrict acc) const {
    OffsetWalker rows(plan_.red_shape, plan_.red_strides, plan_.red_shape.size());
    rows.seek(r0);
    for (int64_t r = r0; r < r1; ++r, rows.next()) {
      const In* x = base + rows.offset();
      for (int64_t j = 0; j < width; ++j) {
        if constexpr (kHasCenter) {
          acc[j] = op_.step(acc[j], x[j], r, centers[j]);
        } else {
          acc[j] = op_.step(acc[j], x[j], r, NoCenter{});
        }
      }
    }
  }

  // Pairwise over reduced positions; `scratch` holds one block of accumulators per level.
  void column_range(const In* base, const Center* centers, int64_t width, int64_t r0, int64_t r1,
                    Acc* acc, Acc* scratch) const {
    if (r1 - r0 <= kLeafRows) {
      column_leaf(base, centers, width, r0, r1, acc);
      return;
    }
    const int64_t mid = split_point(r0, r1, kLeafRows);
    column_range(base, centers, width, r0, mid, acc, scratch + kColumnBlock);
    std::fill(scratch, scratch + width, op_.init());
    column_range(base, centers, width, mid, r1, scratch, scratch + kColumnBlock);
    for (int64_t j = 0; j < width; ++j) acc[j] = op_.merge(acc[j], scratch[j]);
  }

  void run_columns() const {
    const int64_t outputs = plan_.out_numel, count = plan_.red_numel;
    const int64_t columns = plan_.kept_shape.back();
    const int64_t blocks = (columns + kColumnBlock - 1) / kColumnBlock;
    const int64_t tasks = outputs / columns * blocks;
    const int64_t splits =
        tasks >= kMaxSplits ? 1 : std::clamp<int64_t>(count / kRowsPerSplit, 1, kMaxSplits);
    const int64_t chunk = round_up((count + splits - 1) / splits, kLeafRows);
    const int64_t pieces = (count + chunk - 1) / chunk;
    int64_t levels = 1;
    for (int64_t leaves = (chunk + kLeafRows - 1) / kLeafRows; leaves > 1;
         leaves = (leaves + 1) / 2)
      ++levels;
    const size_t outer_rank = plan_.kept_shape.size() - 1;
    // Task t covers column block t % blocks of outer output row t / blocks, for reduced piece p.
    auto run_task = [&](int64_t t, int64_t piece, Acc* acc, Acc* scratch) {
      OffsetWalker outer(plan_.kept_shape, plan_.kept_strides, outer_rank);
      outer.seek(t / blocks);
      const int64_t j0 = (t % blocks) * kColumnBlock;
      const int64_t width = std::min(kColumnBlock, columns - j0);
      const int64_t first = t / blocks * columns + j0;  // output index of the block's column 0
      std::fill(acc, acc + width, op_.init());
      column_range(in_ + outer.offset() + j0, kHasCenter ? centers_ + first : nullptr, width,
                   piece * chunk, std::min(count, (piece + 1) * chunk), acc, scratch);
      return std::pair{first, width};
    };
    const int64_t work_per_task = std::min(columns, kColumnBlock) * chunk;
    if (pieces == 1) {
      parallel_for(0, tasks, std::max<int64_t>(1, kGrain / work_per_task),
                   [&](int64_t lo, int64_t hi) {
                     std::vector<Acc> buffer(static_cast<size_t>((levels + 1) * kColumnBlock));
                     for (int64_t t = lo; t < hi; ++t) {
                       const auto [first, width] =
                           run_task(t, 0, buffer.data(), buffer.data() + kColumnBlock);
                       for (int64_t j = 0; j < width; ++j) {
                         out_[first + j] = op_.finish(buffer[j], count, center(first + j));
                       }
                     }
                   });
      return;
    }
    std::vector<Acc> partial(static_cast<size_t>(pieces * outputs));
    parallel_for(0, tasks * pieces, 1, [&](int64_t lo, int64_t hi) {
      std::vector<Acc> scratch(static_cast<size_t>(levels * kColumnBlock));
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t piece = t % pieces, task = t / pieces;
        const int64_t first = task / blocks * columns + (task % blocks) * kColumnBlock;
        run_task(task, piece, &partial[piece * outputs + first], scratch.data());
      }
    });
    parallel_for(0, outputs, std::max<int64_t>(1, kGrain / pieces), [&](int64_t lo, int64_t hi) {
      Acc gathered[kMaxSplits]{};
      for (int64_t o = lo; o < hi; ++o) {
        for (int64_t p = 0; p < pieces; ++p) gathered[p] = partial[p * outputs + o];
        out_[o] = op_.finish(merge_tree(gathered, pieces), count, center(o));
      }
    });
  }

  static int64_t round_up(int64_t n, int64_t multiple) {
    return (n + multiple - 1) / multiple * multiple;
  }

  const Op& op_;
  const ReducePlan& plan_;
  const In* in_;
  Out* out_;
  const Center* centers_;
};

template <class Op>
void run_reduction(const Op& op, const ReducePlan& plan, const typename Op::In* in,
                   typename Op::Out* out, const typename Op::Center* centers = nullptr) {
  Reducer<Op>(op, plan, in, out, centers).run();
}

}  // namespace tenflowers::cpu
