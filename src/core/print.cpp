// NumPy-like printing of tensors:
//   tensor([[1.0000, 2.5000],
//           [3.0000, 4.0000]], dtype=f32)
// Floats share one format chosen from the shown values (whole numbers as "3.", fixed with four
// decimals, or scientific when magnitudes are very large, very small or far apart), integers
// and bools print plainly, and columns are right-aligned to a common width. Tensors with more
// than 1000 elements show the first and last three entries of each long axis around "...".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "tenflowers/core/convert.hpp"
#include "tenflowers/core/tensor.hpp"

namespace tenflowers {
namespace {

constexpr int64_t kSummarizeAbove = 1000;
constexpr int64_t kEdgeItems = 3;
constexpr int64_t kGap = -1;  // marks the "..." entry among shown indices
const std::string kPrefix = "tensor(";

std::vector<int64_t> shown_indices(int64_t extent, bool summarize) {
  std::vector<int64_t> out;
  if (summarize && extent > 2 * kEdgeItems) {
    for (int64_t i = 0; i < kEdgeItems; ++i) out.push_back(i);
    out.push_back(kGap);
    for (int64_t i = extent - kEdgeItems; i < extent; ++i) out.push_back(i);
  } else {
    for (int64_t i = 0; i < extent; ++i) out.push_back(i);
  }
  return out;
}

std::string printf_string(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

// One format for all shown floats, as NumPy and PyTorch choose it.
std::vector<std::string> format_floats(const std::vector<double>& values) {
  bool all_whole = true;
  double max_abs = 0.0, min_nonzero = INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    all_whole = all_whole && std::nearbyint(v) == v;
    max_abs = std::max(max_abs, std::abs(v));
    if (v != 0.0) min_nonzero = std::min(min_nonzero, std::abs(v));
  }
  const char* format = "%.4f";
  if (max_abs >= 1e8) {
    format = "%.4e";
  } else if (all_whole) {
    format = "%.0f.";
  } else if (min_nonzero < 1e-4 || max_abs / min_nonzero > 1e3) {
    format = "%.4e";
  }
  std::vector<std::string> out;
  out.reserve(values.size());
  for (double v : values) {
    if (std::isnan(v)) {
      out.emplace_back("nan");
    } else if (std::isinf(v)) {
      out.emplace_back(v > 0 ? "inf" : "-inf");
    } else {
      out.push_back(printf_string(format, v));
    }
  }
  return out;
}

class Printer {
 public:
  explicit Printer(const Tensor& host)
      : host_(host), summarize_(host.numel() > kSummarizeAbove), strides_(host.strides()) {}

  std::string body() {
    collect(0, 0);
    format_cells();
    std::string out;
    size_t next = 0;
    render(0, 0, out, next);
    return out;
  }

 private:
  // Flat offsets of the shown elements, in printing order.
  void collect(int64_t axis, int64_t offset) {
    if (axis == host_.rank()) {
      offsets_.push_back(offset);
      return;
    }
    for (int64_t i : shown_indices(host_.shape()[axis], summarize_)) {
      if (i != kGap) collect(axis + 1, offset + i * strides_[axis]);
    }
  }

  void format_cells() {
    const DType dtype = host_.dtype();
    if (is_floating(dtype)) {
      std::vector<double> values;
      TF_DISPATCH_FLOATING(dtype, "print", [&] {
        const auto* data = static_cast<const scalar_t*>(host_.data_ptr());
        for (int64_t o : offsets_) values.push_back(convert<double>(data[o]));
      });
      cells_ = format_floats(values);
    } else {
      TF_DISPATCH_ALL(dtype, "print", [&] {
        const auto* data = static_cast<const scalar_t*>(host_.data_ptr());
        for (int64_t o : offsets_) {
          if constexpr (std::is_same_v<scalar_t, bool>) {
            cells_.emplace_back(data[o] ? "True" : "False");
          } else {
            cells_.push_back(std::to_string(convert<int64_t>(data[o])));
          }
        }
      });
    }
    size_t width = 0;
    for (const auto& c : cells_) width = std::max(width, c.size());
    for (auto& c : cells_) c.insert(0, width - c.size(), ' ');
  }

  void render(int64_t axis, int64_t offset, std::string& out, size_t& next) {
    if (axis == host_.rank()) {
      out += cells_[next++];
      return;
    }
    // Rows are separated by a newline, blocks of rank k by k newlines (blank lines between
    // them); continuation lines align under the opening bracket of this axis plus one.
    const int64_t inner_rank = host_.rank() - axis - 1;
    std::string separator = ",";
    if (inner_rank == 0) {
      separator += ' ';
    } else {
      separator.append(static_cast<size_t>(inner_rank), '\n');
      separator.append(kPrefix.size() + static_cast<size_t>(axis) + 1, ' ');
    }
    out += '[';
    bool first = true;
    for (int64_t i : shown_indices(host_.shape()[axis], summarize_)) {
      if (!first) out += separator;
      first = false;
      if (i == kGap) {
        out += "...";
      } else {
        render(axis + 1, offset + i * strides_[axis], out, next);
      }
    }
    out += ']';
  }

  const Tensor& host_;
  bool summarize_;
  Dims strides_;
  std::vector<int64_t> offsets_;
  std::vector<std::string> cells_;
};

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::string suffix = ", dtype=" + std::string(dtype_name(dtype()));
  if (!device().is_cpu()) suffix += ", device=" + device().str();
  suffix += ")";
  if (is_meta()) return kPrefix + "<no data>, shape=" + format_dims(shape().vec()) + suffix;
  if (numel() == 0) {
    const std::string shape_note = rank() == 1 ? "" : ", shape=" + format_dims(shape().vec());
    return kPrefix + "[]" + shape_note + suffix;
  }
  const Tensor host = host_contiguous();
  return kPrefix + Printer(host).body() + suffix;
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  return out << t.str();
}

}  // namespace tenflowers
