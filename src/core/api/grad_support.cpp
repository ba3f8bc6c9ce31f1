#include "tenflowers/core/ops.hpp"

namespace tenflowers {

Tensor sum_to(const Tensor& x, const Dims& shape) {
  if (x.shape() == shape) return x;
  TF_CHECK(x.rank() >= static_cast<int64_t>(shape.size()), ShapeError, "sum_to: cannot reduce ",
           x.shape(), " to the larger rank of ", shape);
  const size_t lead = static_cast<size_t>(x.rank()) - shape.size();
  std::vector<int64_t> axes;
  for (size_t i = 0; i < static_cast<size_t>(x.rank()); ++i) {
    if (i < lead) {
      axes.push_back(static_cast<int64_t>(i));
    } else if (shape[i - lead] == 1 && x.shape()[i] != 1) {
      axes.push_back(static_cast<int64_t>(i));
    } else {
      TF_CHECK(shape[i - lead] == x.shape()[i], ShapeError, "sum_to: ", x.shape(),
               " does not broadcast from ", shape);
    }
  }
  if (axes.empty()) return x.reshape(shape);
  return sum(x, axes, true).reshape(shape);
}

}  // namespace tenflowers
