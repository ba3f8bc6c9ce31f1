#include "tests/support/reference.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "tenflowers/core/convert.hpp"

namespace tenflowers::testing {

std::vector<int64_t> Ref::strides() const {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * shape[i];
  return s;
}

namespace {
int64_t ref_offset(const Ref& r, const std::vector<int64_t>& index) {
  // Right-aligned broadcasting: extra leading index axes are ignored, extent-1 axes read 0.
  const auto strides = r.strides();
  const size_t lead = index.size() - r.shape.size();
  int64_t offset = 0;
  for (size_t i = 0; i < r.shape.size(); ++i) {
    const int64_t idx = r.shape[i] == 1 ? 0 : index[i + lead];
    offset += idx * strides[i];
  }
  return offset;
}
}  // namespace

double Ref::at(const std::vector<int64_t>& index) const {
  return data[ref_offset(*this, index)];
}
double& Ref::at(const std::vector<int64_t>& index) {
  return data[ref_offset(*this, index)];
}

Ref to_ref(const Tensor& t) {
  return Ref(t.shape().vec(), t.to_vector<double>());
}

Tensor from_ref(const Ref& r, DType dtype) {
  return Tensor::from_vec(r.data, Dims(r.shape)).cast(dtype);
}

void for_each_index(const std::vector<int64_t>& shape,
                    const std::function<void(const std::vector<int64_t>&)>& f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (n == 0) return;
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    f(index);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

Rng Rng::for_test() {
  uint64_t seed;
  if (const char* env = std::getenv("TF_TEST_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed =
        static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
  }
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return Rng(seed);
}

Tensor random_tensor(Rng& rng, std::vector<int64_t> shape, DType dtype, double lo, double hi,
                     Layout layout) {
  Ref values(shape);
  for (double& v : values.data) {
    if (dtype == DType::Bool) {
      v = static_cast<double>(rng.integer(0, 1));
    } else if (is_integral(dtype)) {
      v = static_cast<double>(
          rng.integer(static_cast<int64_t>(std::ceil(lo)), static_cast<int64_t>(std::floor(hi))));
    } else {
      v = rng.uniform(lo, hi);
    }
  }
  Tensor dense = from_ref(values, dtype);
  const int64_t rank = static_cast<int64_t>(shape.size());
  if (layout == Layout::Transposed && rank >= 2) {
    std::vector<int64_t> reversed(shape.rbegin(), shape.rend());
    Dims axes;
    for (int64_t i = rank - 1; i >= 0; --i) axes.push_back(i);
    // Store the reversed-axes array contiguously, then view it back in the requested order.
    Tensor stored = dense.permute(axes).contiguous();
    return stored.permute(axes);
  }
  if (layout == Layout::Strided && rank >= 1) {
    // Interleave with garbage along the last axis, then take every second element.
    std::vector<int64_t> wide = shape;
    wide.back() *= 2;
    Tensor buffer = from_ref(
        Ref(wide, std::vector<double>(static_cast<size_t>(Ref(wide).numel()), 1e30)), dtype);
    Tensor view = buffer.slice(rank - 1, 0, {}, 2);
    // Fill the view's elements through a strided copy of the values.
    Tensor host = view;
    const std::vector<double> src = values.data;
    int64_t k = 0;
    for_each_index(shape, [&](const std::vector<int64_t>& index) {
      int64_t offset = host.offset();
      for (size_t d = 0; d < index.size(); ++d) offset += index[d] * host.strides()[d];
      TF_DISPATCH_ALL(dtype, "random_tensor", [&] {
        static_cast<scalar_t*>(host.storage()->data())[offset] =
            convert<scalar_t>(src[static_cast<size_t>(k)]);
      });
      ++k;
    });
    return view;
  }
  return dense;
}

Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::F64:
      return {1e-10, 1e-12};
    case DType::F32:
      return {1e-5, 1e-6};
    case DType::F16:
      return {2e-3, 1e-3};
    case DType::BF16:
      return {1.6e-2, 1e-2};
    default:
      return {0.0, 0.0};
  }
}

::testing::AssertionResult close_to(const Tensor& actual, const Ref& expected, Tolerance tol) {
  if (actual.shape().vec() != expected.shape) {
    return ::testing::AssertionFailure() << "shape " << actual.shape() << " differs from expected "
                                         << format_dims(expected.shape);
  }
  const std::vector<double> got = actual.to_vector<double>();
  std::ostringstream errors;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double a = got[i], e = expected.data[i];
    bool ok;
    if (std::isnan(e)) {
      ok = std::isnan(a);
    } else if (std::isinf(e)) {
      ok = a == e;
    } else {
      ok = std::abs(a - e) <= tol.atol + tol.rtol * std::abs(e);
    }
    if (!ok && bad++ < 5)
      errors << "\n  at flat index " << i << ": got " << a << ", expected " << e;
  }
  if (bad) {
    return ::testing::AssertionFailure()
           << bad << " of " << got.size() << " elements differ (dtype "
           << dtype_name(actual.dtype()) << ", rtol " << tol.rtol << ", atol " << tol.atol
           << "):" << errors.str();
  }
  return ::testing::AssertionSuccess();
}

std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return broadcast_shapes(Dims(a), Dims(b)).vec();
}

Tensor to_device_keeping_layout(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  const std::shared_ptr<Storage>& storage = t.storage();
  const auto count = static_cast<int64_t>(storage->nbytes() / dtype_size(t.dtype()));
  const Tensor buffer = Tensor::from_blob(storage->data(), {count}, {1}, t.dtype(), t.device(),
                                          [keep = storage](void*) {});
  return as_strided(buffer.to(device), t.shape(), t.strides(), t.offset());
}

double compute_roundoff(DType dtype) {
  return dtype == DType::F64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
}

double output_roundoff(DType dtype) {
  switch (dtype) {
    case DType::F16:
      return std::ldexp(1.0, -11);
    case DType::BF16:
      return std::ldexp(1.0, -8);
    case DType::F64:
      return std::ldexp(1.0, -53);
    default:
      return std::ldexp(1.0, -24);
  }
}

double tiny_error(DType dtype) {
  switch (dtype) {
    case DType::F16:
      return std::ldexp(1.0, -25);
    case DType::BF16:
      return std::ldexp(1.0, -134);
    case DType::F64:
      return std::ldexp(1.0, -1074);  // 2^-1075 is not representable
    default:
      return std::ldexp(1.0, -150);
  }
}

void expect_within(const Tensor& actual, const Ref& expected, const std::vector<double>& bound,
                   const std::string& what) {
  ASSERT_EQ(actual.shape().vec(), expected.shape) << what;
  const std::vector<double> got = actual.to_vector<double>();
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double error = std::abs(got[i] - expected.data[i]);
    if (!(error <= bound[i]) && bad++ < 5) {
      ADD_FAILURE() << what << ": at flat index " << i << " got " << got[i] << ", expected "
                    << expected.data[i] << " (error " << error << ", bound " << bound[i] << ")";
    }
  }
}

std::string describe(const Tensor& t) {
  return std::string(dtype_name(t.dtype())) + format_dims(t.shape().vec()) +
         (t.is_contiguous() ? "" : " strided");
}

}  // namespace tenflowers::testing
