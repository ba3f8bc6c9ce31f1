// Checks for views, copy, cast and to_device: results compared element by element with index
// arithmetic done on float64 reference arrays.
#include <numeric>

#include "tests/support/conformance.hpp"

namespace tenflowers::testing {
namespace {

const DType kViewDTypes[] = {DType::F32, DType::F64, DType::I64, DType::Bool, DType::F16};
const Layout kLayouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};

std::vector<int64_t> random_shape(Rng& rng, int64_t rank, int64_t max_extent = 5) {
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) d = rng.integer(1, max_extent);
  return shape;
}

// Runs `body(x, ref)` for random inputs of every view dtype and layout.
template <class Body>
void for_random_inputs(Rng& rng, Device device, Body body, int64_t min_rank = 1) {
  for (DType dtype : kViewDTypes) {
    for (Layout layout : kLayouts) {
      const int64_t rank = rng.integer(min_rank, 4);
      Tensor x = to_device_keeping_layout(
          random_tensor(rng, random_shape(rng, rank), dtype, -3, 3, layout), device);
      body(x, to_ref(x));
    }
  }
}

void check_reshape(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    const int64_t n = x.numel();
    std::vector<int64_t> target = {n};
    if (n % 2 == 0) target = {2, -1};
    Tensor y = x.reshape(Dims(target));
    // Row-major order is preserved by reshape.
    EXPECT_EQ(y.numel(), n);
    EXPECT_CLOSE_TO_REF(y.flatten(), Ref({n}, ref.data), tolerance_for(x.dtype()));
    if (x.is_contiguous()) EXPECT_TRUE(y.shares_storage(x));
  });
}

void check_permute(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    std::vector<int64_t> axes(static_cast<size_t>(x.rank()));
    std::iota(axes.begin(), axes.end(), 0);
    std::shuffle(axes.begin(), axes.end(), rng.engine());
    Tensor y = x.permute(Dims(axes));
    EXPECT_TRUE(y.shares_storage(x));
    std::vector<int64_t> shape;
    for (int64_t a : axes) shape.push_back(ref.shape[static_cast<size_t>(a)]);
    Ref expected(shape);
    for_each_index(shape, [&](const std::vector<int64_t>& out) {
      std::vector<int64_t> in(out.size());
      for (size_t i = 0; i < axes.size(); ++i) in[static_cast<size_t>(axes[i])] = out[i];
      expected.at(out) = ref.at(in);
    });
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(x.dtype()));
  });
}

// Random sizes (some empty) along a random axis; the parts are views, in order, covering it.
void check_split(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    const int64_t axis = rng.integer(-x.rank(), x.rank() - 1);
    const auto at = static_cast<size_t>(axis < 0 ? axis + x.rank() : axis);
    std::vector<int64_t> sizes;
    for (int64_t left = ref.shape[at]; left > 0;) {
      sizes.push_back(rng.integer(0, left));
      left -= sizes.back();
    }
    const std::vector<Tensor> parts = split(x, sizes, axis);
    ASSERT_EQ(parts.size(), sizes.size());
    int64_t start = 0;
    for (size_t p = 0; p < parts.size(); ++p) {
      EXPECT_TRUE(parts[p].shares_storage(x));
      std::vector<int64_t> shape = ref.shape;
      shape[at] = sizes[p];
      Ref expected(shape);
      for_each_index(shape, [&](const std::vector<int64_t>& out) {
        std::vector<int64_t> in = out;
        in[at] += start;
        expected.at(out) = ref.at(in);
      });
      EXPECT_CLOSE_TO_REF(parts[p], expected, tolerance_for(x.dtype()));
      start += sizes[p];
    }
  });
}

void check_slice(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    const int64_t axis = rng.integer(0, x.rank() - 1);
    const int64_t extent = ref.shape[static_cast<size_t>(axis)];
    int64_t step = rng.integer(1, 3) * (rng.integer(0, 1) ? 1 : -1);
    const int64_t start = rng.integer(-extent, extent - 1);
    const int64_t stop = rng.integer(-extent - 1, extent);
    Tensor y = x.slice(axis, start, stop, step);
    EXPECT_TRUE(y.shares_storage(x));
    // Python's slice semantics, computed by enumeration.
    std::vector<int64_t> picked;
    const int64_t s0 = start < 0 ? start + extent : start;
    int64_t s1 = stop < 0 ? stop + extent : stop;
    if (step > 0) {
      for (int64_t i = std::max<int64_t>(s0, 0); i < std::min(s1, extent); i += step)
        picked.push_back(i);
    } else {
      s1 = std::max<int64_t>(s1, -1);
      for (int64_t i = std::min(s0, extent - 1); i > s1 && i >= 0; i += step) picked.push_back(i);
    }
    std::vector<int64_t> shape = ref.shape;
    shape[static_cast<size_t>(axis)] = static_cast<int64_t>(picked.size());
    Ref expected(shape);
    for_each_index(shape, [&](const std::vector<int64_t>& out) {
      std::vector<int64_t> in = out;
      in[static_cast<size_t>(axis)] = picked[static_cast<size_t>(out[static_cast<size_t>(axis)])];
      expected.at(out) = ref.at(in);
    });
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(x.dtype()));
  });
}

void check_select(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    const int64_t axis = rng.integer(0, x.rank() - 1);
    const int64_t extent = ref.shape[static_cast<size_t>(axis)];
    const int64_t index = rng.integer(-extent, extent - 1);
    Tensor y = x.select(axis, index);
    std::vector<int64_t> shape = ref.shape;
    shape.erase(shape.begin() + axis);
    Ref expected(shape);
    for_each_index(shape, [&](const std::vector<int64_t>& out) {
      std::vector<int64_t> in = out;
      in.insert(in.begin() + axis, index < 0 ? index + extent : index);
      expected.at(out) = ref.at(in);
    });
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(x.dtype()));
    EXPECT_THROW(x.select(axis, extent), IndexError);
  });
}

void check_expand(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    // Set a random axis to extent 1 by selecting one slice, then broadcast it back out.
    const int64_t axis = rng.integer(0, x.rank() - 1);
    Tensor one = x.narrow(axis, 0, 1);
    Ref one_ref = to_ref(one);
    std::vector<int64_t> target = ref.shape;
    target[static_cast<size_t>(axis)] = rng.integer(1, 4);
    target.insert(target.begin(), 2);
    Tensor y = one.expand(Dims(target));
    EXPECT_TRUE(y.shares_storage(x));
    Ref expected(target);
    for_each_index(target,
                   [&](const std::vector<int64_t>& out) { expected.at(out) = one_ref.at(out); });
    EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(x.dtype()));
  });
}

void check_squeeze_unsqueeze(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    const int64_t axis = rng.integer(-x.rank() - 1, x.rank());
    Tensor u = x.unsqueeze(axis);
    std::vector<int64_t> shape = ref.shape;
    shape.insert(shape.begin() + (axis < 0 ? axis + x.rank() + 1 : axis), 1);
    EXPECT_CLOSE_TO_REF(u, Ref(shape, ref.data), tolerance_for(x.dtype()));
    Tensor s = u.squeeze(std::vector<int64_t>{axis});
    EXPECT_CLOSE_TO_REF(s, ref, tolerance_for(x.dtype()));
    std::vector<int64_t> squeezed;
    for (int64_t d : ref.shape)
      if (d != 1) squeezed.push_back(d);
    EXPECT_CLOSE_TO_REF(u.squeeze(), Ref(squeezed, ref.data), tolerance_for(x.dtype()));
    EXPECT_TRUE(s.shares_storage(x));
  });
}

void check_diagonal(Rng& rng, Device device) {
  for_random_inputs(
      rng, device,
      [&](const Tensor& x, const Ref& ref) {
        const int64_t offset = rng.integer(-2, 2);
        Tensor y = x.diagonal(offset, 0, 1);
        const int64_t rows = ref.shape[0], cols = ref.shape[1];
        const int64_t length = std::max<int64_t>(
            0, offset >= 0 ? std::min(rows, cols - offset) : std::min(rows + offset, cols));
        std::vector<int64_t> shape(ref.shape.begin() + 2, ref.shape.end());
        shape.push_back(length);
        Ref expected(shape);
        for_each_index(shape, [&](const std::vector<int64_t>& out) {
          const int64_t k = out.back();
          std::vector<int64_t> in = {offset >= 0 ? k : k - offset, offset >= 0 ? k + offset : k};
          in.insert(in.end(), out.begin(), out.end() - 1);
          expected.at(out) = ref.at(in);
        });
        EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(x.dtype()));
      },
      2);
}

void check_stop_gradient(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    Tensor y = stop_gradient(x);
    EXPECT_TRUE(y.shares_storage(x));
    EXPECT_NE(y.id(), x.id());
    EXPECT_CLOSE_TO_REF(y, ref, tolerance_for(x.dtype()));
  });
}

void check_as_strided(Rng& rng, Device device) {
  for_random_inputs(
      rng, device,
      [&](const Tensor& x, const Ref& ref) {
        // A window of every step-th element along the flattened rows.
        const int64_t cols = ref.shape.back();
        const int64_t rows = ref.numel() / cols;
        const int64_t step = rng.integer(1, 2);
        const int64_t picked = (cols + step - 1) / step;
        const int64_t offset = 0;
        Tensor y = as_strided(x, {rows, picked}, {cols, step}, offset);
        Ref expected({rows, picked});
        for (int64_t i = 0; i < rows; ++i) {
          for (int64_t j = 0; j < picked; ++j) {
            expected.data[static_cast<size_t>(i * picked + j)] =
                ref.data[static_cast<size_t>(offset + i * cols + j * step)];
          }
        }
        EXPECT_CLOSE_TO_REF(y, expected, tolerance_for(x.dtype()));
        Tensor back = as_strided_scatter(y, Dims(ref.shape), {cols, step}, offset);
        Ref scattered(ref.shape);
        for (int64_t i = 0; i < rows; ++i) {
          for (int64_t j = 0; j < picked; ++j) {
            scattered.data[static_cast<size_t>(i * cols + j * step)] =
                expected.data[static_cast<size_t>(i * picked + j)];
          }
        }
        EXPECT_CLOSE_TO_REF(back, scattered, tolerance_for(x.dtype()));
        EXPECT_THROW(as_strided(x, {rows + 1, picked}, {cols, step}, offset), IndexError);
        if (ref.numel() >= 3) EXPECT_THROW(as_strided(x, {2, 2}, {1, 1}, 0), InvalidArgument);
      },
      2);
}

void check_copy(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    Tensor y = x.copy();
    EXPECT_TRUE(y.is_contiguous());
    EXPECT_FALSE(y.shares_storage(x));
    EXPECT_CLOSE_TO_REF(y, ref, tolerance_for(x.dtype()));
  });
}

void check_cast(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    for (DType to : kViewDTypes) {
      Tensor y = x.cast(to);
      EXPECT_EQ(y.dtype(), to);
      Ref expected = ref;
      for (double& v : expected.data) {
        if (to == DType::Bool)
          v = v != 0.0;
        else if (is_integral(to))
          v = std::trunc(v);
      }
      // Going through a 16-bit float on either side rounds the values.
      Tolerance tol =
          tolerance_for(is_floating(to) && dtype_size(to) < dtype_size(x.dtype()) ? to : x.dtype());
      if (is_integral(to) || to == DType::Bool) tol = {0, 0};
      EXPECT_CLOSE_TO_REF(y, expected, tol);
    }
  });
}

void check_to_device(Rng& rng, Device device) {
  for_random_inputs(rng, device, [&](const Tensor& x, const Ref& ref) {
    Tensor y = x.to(Device::cpu());
    EXPECT_TRUE(y.device().is_cpu());
    EXPECT_CLOSE_TO_REF(y, ref, tolerance_for(x.dtype()));
    Tensor back = y.to(device);
    EXPECT_EQ(back.device(), device);
    EXPECT_CLOSE_TO_REF(back, ref, tolerance_for(x.dtype()));
  });
}

}  // namespace

void register_view_checks(CheckRegistry& r) {
  r.add({"reshape_view"}, check_reshape);
  r.add({"permute"}, check_permute);
  r.add({"split"}, check_split);
  r.add({"slice"}, check_slice);
  r.add({"select"}, check_select);
  r.add({"expand"}, check_expand);
  r.add({"squeeze", "unsqueeze"}, check_squeeze_unsqueeze);
  r.add({"diagonal"}, check_diagonal);
  r.add({"copy"}, check_copy);
  r.add({"as_strided", "as_strided_scatter"}, check_as_strided);
  r.add({"stop_gradient"}, check_stop_gradient);
  r.add({"cast"}, check_cast);
  r.add({"to_device"}, check_to_device);
}

}  // namespace tenflowers::testing
