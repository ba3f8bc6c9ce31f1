#include "tenflowers/core/tensor.hpp"

#include <atomic>
#include <cstring>

#include "src/core/object_pool.hpp"
#include "tenflowers/core/backend.hpp"
#include "tenflowers/core/dispatch.hpp"
#include "tenflowers/core/ops.hpp"

namespace tenflowers {

// Ids are handed to each thread in blocks, so making a tensor needs no atomic operation: a
// locked instruction costs several nanoseconds, a few percent of a small op's whole call.
uint64_t TensorImpl::next_id() {
  constexpr uint64_t kBlock = 4096;
  static std::atomic<uint64_t> counter{1};
  constinit thread_local uint64_t next = 0;
  constinit thread_local uint64_t end = 0;
  if (next == end) {
    next = counter.fetch_add(kBlock, std::memory_order_relaxed);
    end = next + kBlock;
  }
  return next++;
}

namespace {
// Builds the TensorImpl in place (no default construction then assignment of each field), in a
// block of the per-thread pool.
std::shared_ptr<TensorImpl> make_impl(std::shared_ptr<Storage> storage, Dims&& shape,
                                      Dims&& strides, int64_t offset, DType dtype, Device device) {
  return std::allocate_shared<TensorImpl>(detail::PoolAllocator<TensorImpl>(), std::move(storage),
                                          std::move(shape), std::move(strides), offset, dtype,
                                          device, TensorImpl::next_id());
}

[[noreturn, gnu::cold, gnu::noinline]] void throw_negative_extent(const Dims& shape,
                                                                  const char* what) {
  throw ShapeError(std::string(what) + ": negative extent in shape " + format_dims(shape.vec()) +
                   " (expected extents >= 0)");
}

// Inline with its error out of line: every op output passes here.
inline void check_shape(const Dims& shape, const char* what) {
  for (int64_t d : shape) {
    if (d < 0) throw_negative_extent(shape, what);
  }
}
}  // namespace

std::shared_ptr<TensorImpl> TensorImpl::create(std::shared_ptr<Storage> storage, Dims shape,
                                               Dims strides, int64_t offset, DType dtype,
                                               Device device) {
  return make_impl(std::move(storage), std::move(shape), std::move(strides), offset, dtype, device);
}

Tensor Tensor::empty(Dims shape, DType dtype, std::optional<Device> device) {
  check_shape(shape, "empty");
  const Device dev = device.value_or(default_device());
  const size_t nbytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  auto storage = std::allocate_shared<Storage>(detail::PoolAllocator<Storage>(), nbytes,
                                               backend_for(dev).pool(dev.index));
  Dims strides = contiguous_strides(shape);
  return Tensor(make_impl(std::move(storage), std::move(shape), std::move(strides), 0, dtype, dev));
}

Tensor Tensor::meta(Dims shape, DType dtype, Device device) {
  Dims strides = contiguous_strides(shape);
  return Tensor(make_impl(nullptr, std::move(shape), std::move(strides), 0, dtype, device));
}

Tensor Tensor::scalar(double value, DType dtype, std::optional<Device> device) {
  return Tensor::from_scalar(value, device).cast(dtype);
}

Tensor Tensor::from_data(const void* data, size_t count, DType dtype, Dims shape,
                         std::optional<Device> device) {
  check_shape(shape, "from_vec");
  if (static_cast<int64_t>(count) != shape.numel()) {
    throw ShapeError("from_vec: " + std::to_string(count) + " values do not fill shape " +
                         format_dims(shape.vec()),
                     {static_cast<int64_t>(count)}, {shape.numel()});
  }
  Tensor host = Tensor::empty(std::move(shape), dtype, Device::cpu());
  if (count) std::memcpy(host.data_ptr(), data, count * dtype_size(dtype));
  const Device dev = device.value_or(default_device());
  return dev.is_cpu() ? host : host.to(dev);
}

Tensor Tensor::from_blob(void* data, Dims shape, Dims strides, DType dtype, Device device,
                         std::function<void(void*)> deleter) {
  check_shape(shape, "from_blob");
  TF_CHECK(strides.size() == shape.size(), ShapeError, "from_blob: ", strides.size(),
           " strides for a shape of rank ", shape.size());
  TF_CHECK(data != nullptr || shape.numel() == 0, InvalidArgument,
           "from_blob: null data for a non-empty shape");
  int64_t span = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    TF_CHECK(strides[i] >= 0, InvalidArgument, "from_blob: negative strides are not supported");
    if (shape[i] > 0) span += (shape[i] - 1) * strides[i];
  }
  const size_t nbytes = shape.numel() == 0 ? 0 : static_cast<size_t>(span) * dtype_size(dtype);
  auto storage = std::make_shared<Storage>(data, nbytes, device, std::move(deleter));
  return Tensor(
      make_impl(std::move(storage), std::move(shape), std::move(strides), 0, dtype, device));
}

void Tensor::throw_undefined() {
  throw InvalidArgument("the tensor is undefined (default-constructed or moved from)");
}

int64_t Tensor::size(int64_t axis) const {
  return shape()[static_cast<size_t>(normalize_axis(axis, rank()))];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked();
  int64_t expected = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && storage() && storage() == other.storage();
}

void Tensor::throw_no_data() {
  throw InvalidArgument(
      "a meta tensor has no data (a graph trace runs code on meta tensors: code that reads "
      "values cannot be traced)");
}

void Tensor::check_host_access(DType requested) const {
  TF_CHECK(device().is_cpu(), DeviceError, "host access to a tensor on ", device().str(),
           "; copy it with cpu() first");
  TF_CHECK(dtype() == requested, DTypeError, "data<", dtype_name(requested),
           ">() on a tensor of dtype ", dtype_name(dtype()));
}

Tensor Tensor::host_contiguous() const {
  return cpu().contiguous();
}

Tensor Tensor::view() const {
  const TensorImpl& t = checked();
  return Tensor(make_impl(t.storage, Dims(t.shape), Dims(t.strides), t.offset, t.dtype, t.device));
}

Tensor Tensor::clone() const {
  return view();
}

Tensor Tensor::copy() const {
  static const OpDef& op = registry().get("copy");
  return dispatch1(op, {*this});
}

void copy_into(const Tensor& dst, const Tensor& src) {
  static const OpDef& op = registry().get("copy");
  HooksPaused paused;  // an in-place write is not part of a differentiated computation
  Tensor target = dst;
  const Tensor source = src.to(dst.device()).cast(dst.dtype()).broadcast_to(dst.shape());
  dispatch_into(op, {source}, {}, target);
}

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : copy();
}

Tensor Tensor::to(Device device, bool non_blocking) const {
  if (device == this->device()) return *this;
  static const OpDef& op = registry().get("to_device");
  // The flag is only recorded when set, so traced graphs of ordinary copies are unchanged.
  if (non_blocking) {
    return dispatch1(op, {*this}, Attrs{{"device", device}, {"non_blocking", true}});
  }
  return dispatch1(op, {*this}, Attrs{{"device", device}});
}

Tensor Tensor::pin_memory() const {
  TF_CHECK(device().is_cpu(), DeviceError,
           "pin_memory() needs a CPU tensor (pinned memory is host memory), got one on ",
           device().str());
  if (is_meta()) throw_no_data();
  if (is_pinned()) return *this;
  const Tensor src = contiguous();
  std::shared_ptr<Storage> storage = pinned_memory().allocate(src.nbytes());
  if (src.nbytes() > 0) std::memcpy(storage->data(), src.data_ptr(), src.nbytes());
  return Tensor(make_impl(std::move(storage), Dims(src.shape()), contiguous_strides(src.shape()), 0,
                          src.dtype(), Device::cpu()));
}

bool Tensor::is_pinned() const {
  const std::shared_ptr<Storage>& s = storage();
  return s && s->page_locked();
}

int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index) {
  TF_CHECK(static_cast<int64_t>(index.size()) == t.rank(), IndexError, "at(): ", index.size(),
           " indices for a tensor of rank ", t.rank());
  int64_t offset = t.offset();
  size_t axis = 0;
  for (int64_t i : index) {
    const int64_t extent = t.shape()[axis];
    TF_CHECK(i >= -extent && i < extent, IndexError, "at(): index ", i,
             " is out of range for axis ", axis, " of extent ", extent);
    offset += (i < 0 ? i + extent : i) * t.strides()[axis];
    ++axis;
  }
  return offset;
}

}  // namespace tenflowers
