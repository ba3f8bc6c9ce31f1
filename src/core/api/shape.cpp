// Public joining, splitting and rearranging functions. concat, pad, sort, topk, cumsum and
// cumprod dispatch their registered ops, as does split (a multi-output view); the rest are
// compositions of views and concat, so autograd and graph tracing see only registered ops. split,
// chunk and flip return views.
#include <algorithm>

#include "src/core/api/op_call.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  TF_CHECK(!tensors.empty(), InvalidArgument,
           "concat: expected at least one tensor, got an empty list");
  return dispatch1(TF_OP("concat"), tensors, Attrs{{"axis", axis}});
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t axis) {
  TF_CHECK(!tensors.empty(), InvalidArgument,
           "stack: expected at least one tensor, got an empty list");
  const Dims& shape = tensors[0].shape();
  for (size_t i = 1; i < tensors.size(); ++i) {
    TF_CHECK(tensors[i].shape() == shape, ShapeError, "stack: tensor ", i, " has shape ",
             tensors[i].shape(), " but tensor 0 has shape ", shape,
             " (expected every tensor to have the same shape)");
  }
  const int64_t at = normalize_axis(axis, tensors[0].rank() + 1);
  std::vector<Tensor> expanded;
  expanded.reserve(tensors.size());
  for (const Tensor& t : tensors) expanded.push_back(t.unsqueeze(at));
  return concat(expanded, at);
}

std::vector<Tensor> split(const Tensor& x, std::vector<int64_t> sizes, int64_t axis) {
  return dispatch(TF_OP("split"), std::span(&x, 1),
                  Attrs{{"axis", axis}, {"sizes", std::move(sizes)}});
}

// PyTorch's rule: pieces of ceil(extent / chunks), the last one smaller, so there may be fewer
// than `chunks` pieces; an empty axis gives one empty piece.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t axis) {
  TF_CHECK(chunks >= 1, InvalidArgument, "chunk: chunks must be >= 1, got ", chunks);
  TF_CHECK(x.rank() > 0, ShapeError, "chunk: cannot split a 0-d tensor");
  const int64_t extent = x.size(axis);
  if (extent == 0) return {x};
  const int64_t piece = (extent + chunks - 1) / chunks;
  std::vector<int64_t> sizes(static_cast<size_t>(extent / piece), piece);
  if (extent % piece) sizes.push_back(extent % piece);
  return split(x, std::move(sizes), axis);
}

// NumPy's np.tile: the shorter of x's shape and `repeats` is padded with leading 1s. Each axis
// of extent s repeated r times becomes an [r, s] pair of a broadcast view, and one reshape
// copies the result out.
Tensor tile(const Tensor& x, std::vector<int64_t> repeats) {
  for (int64_t r : repeats) {
    TF_CHECK(r >= 0, InvalidArgument, "tile: repeats must be >= 0, got ", format_dims(repeats));
  }
  const size_t rank = std::max(repeats.size(), static_cast<size_t>(x.rank()));
  repeats.insert(repeats.begin(), rank - repeats.size(), 1);
  Dims shape = x.shape();
  for (size_t i = shape.size(); i < rank; ++i) shape.insert(0, 1);
  Tensor pairs = x.reshape(shape);
  Dims expanded, tiled;
  for (size_t a = 0; a < rank; ++a) {
    pairs = pairs.unsqueeze(static_cast<int64_t>(2 * a));
    expanded.push_back(repeats[a]);
    expanded.push_back(shape[a]);
    tiled.push_back(repeats[a] * shape[a]);
  }
  return pairs.expand(expanded).reshape(tiled);
}

// NumPy's np.repeat along an axis: each element is followed by its copies. A 0-d x counts as
// one element along axis 0.
Tensor repeat(const Tensor& x, int64_t repeats, int64_t axis) {
  TF_CHECK(repeats >= 0, InvalidArgument, "repeat: repeats must be >= 0, got ", repeats);
  const Tensor base = x.rank() == 0 ? x.reshape({1}) : x;
  const int64_t at = normalize_axis(axis, base.rank());
  Dims expanded = base.shape(), repeated = base.shape();
  expanded.insert(static_cast<size_t>(at) + 1, repeats);
  repeated[static_cast<size_t>(at)] *= repeats;
  return base.unsqueeze(at + 1).expand(expanded).reshape(repeated);
}

// pads holds exactly 2 * rank values. Constant mode crops where a pad is negative; reflect mode
// (NumPy's, the edge not repeated) needs 0 <= pad < extent, as PyTorch. The fill value converts
// to x's dtype like a cast (saturating for integers).
Tensor pad(const Tensor& x, std::vector<int64_t> pads, const std::string& mode, double value) {
  return dispatch1(TF_OP("pad"), {x},
                   Attrs{{"pads", std::move(pads)}, {"mode", mode}, {"value", value}});
}

namespace {
// Normalized axes, each at most once; a 0-d tensor accepts axis 0 / -1 as NumPy's scalars do.
std::vector<int64_t> distinct_axes(const std::vector<int64_t>& axes, int64_t rank,
                                   const char* what) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    const int64_t axis = normalize_axis(a, rank);
    TF_CHECK(std::find(out.begin(), out.end(), axis) == out.end(), InvalidArgument, what, ": axis ",
             axis, " appears more than once in ", format_dims(axes));
    out.push_back(axis);
  }
  return out;
}
}  // namespace

Tensor flip(const Tensor& x, std::vector<int64_t> axes) {
  Tensor out = x;
  for (int64_t axis : distinct_axes(axes, x.rank(), "flip")) {
    if (x.rank() > 0) out = out.slice(axis, {}, {}, -1);
  }
  return out;
}

// Rolling an axis by s is concat(x[n - s:], x[:n - s]): one block copy per rolled axis, and
// autograd comes from slice and concat. With no axes the flattened tensor rolls.
Tensor roll(const Tensor& x, std::vector<int64_t> shifts, std::vector<int64_t> axes) {
  if (axes.empty()) {
    TF_CHECK(shifts.size() == 1, InvalidArgument,
             "roll: without axes, expected one shift for the flattened tensor, got ",
             format_dims(shifts));
    return roll(x.flatten(), shifts, {0}).reshape(x.shape());
  }
  TF_CHECK(shifts.size() == axes.size(), InvalidArgument, "roll: ", shifts.size(), " shifts for ",
           axes.size(), " axes (expected one shift per axis)");
  Tensor out = x;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t axis = normalize_axis(axes[i], x.rank());
    if (x.rank() == 0) continue;
    const int64_t extent = x.size(axis);
    if (extent == 0) continue;
    const int64_t shift = ((shifts[i] % extent) + extent) % extent;
    if (shift == 0) continue;
    out = concat({out.slice(axis, extent - shift, {}), out.slice(axis, 0, extent - shift)}, axis);
  }
  return out;
}

// Stable in both directions; NaN ranks above every number (last ascending as NumPy, first
// descending as PyTorch) and -0 ties with 0.
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t axis, bool descending) {
  std::vector<Tensor> out =
      dispatch(TF_OP("sort"), {&x, 1}, Attrs{{"axis", axis}, {"descending", descending}});
  return {std::move(out[0]), std::move(out[1])};
}

Tensor argsort(const Tensor& x, int64_t axis, bool descending) {
  return sort(x, axis, descending).second;
}

// The first k of the stable sort (descending when largest): equal values come in index order
// and NaN ranks above every number. A 0-d x needs k = 1.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t axis, bool largest) {
  std::vector<Tensor> out =
      dispatch(TF_OP("topk"), {&x, 1}, Attrs{{"k", k}, {"axis", axis}, {"largest", largest}});
  return {std::move(out[0]), std::move(out[1])};
}

Tensor cumsum(const Tensor& x, int64_t axis) {
  return dispatch1(TF_OP("cumsum"), {x}, Attrs{{"axis", axis}});
}

Tensor cumprod(const Tensor& x, int64_t axis) {
  return dispatch1(TF_OP("cumprod"), {x}, Attrs{{"axis", axis}});
}

}  // namespace tenflowers
