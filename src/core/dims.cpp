#include "tenflowers/core/dims.hpp"

#include <string>

#include "tenflowers/core/error.hpp"

namespace tenflowers {

std::ostream& operator<<(std::ostream& out, const Dims& d) {
  return out << format_dims(d.vec());
}

int64_t normalize_axis(int64_t axis, int64_t rank, const char* what) {
  const int64_t bound = std::max<int64_t>(rank, 1);
  if (axis < -bound || axis >= bound) {
    throw IndexError(std::string(what) + " " + std::to_string(axis) +
                     " is out of range for a tensor of rank " + std::to_string(rank) +
                     " (expected -" + std::to_string(bound) + " <= axis < " +
                     std::to_string(bound) + ")");
  }
  return axis < 0 ? axis + bound : axis;
}

Dims broadcast_shapes(const Dims& a, const Dims& b) {
  if (a == b) return a;
  const size_t rank = std::max(a.size(), b.size());
  Dims out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw ShapeError("shapes " + format_dims(a.vec()) + " and " + format_dims(b.vec()) +
                       " cannot be broadcast together: axis " + std::to_string(i) + " has " +
                       std::to_string(da) + " and " + std::to_string(db) +
                       " (expected equal extents or 1)");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace tenflowers
