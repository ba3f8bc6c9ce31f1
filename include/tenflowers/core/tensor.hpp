#pragma once
// Tensor: a handle to a dtype, shape, strides and offset over reference-counted Storage.
// Copying a Tensor copies the handle; views share storage; copy() and contiguous() copy data.
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tenflowers/core/device.hpp"
#include "tenflowers/core/dims.hpp"
#include "tenflowers/core/dtype.hpp"
#include "tenflowers/core/error.hpp"
#include "tenflowers/core/memory.hpp"

namespace tenflowers {

struct TensorImpl {
  std::shared_ptr<Storage> storage;  // null for a meta tensor (graph shape inference)
  Dims shape;
  Dims strides;        // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;
  Device device;
  uint64_t id = 0;  // unique per TensorImpl; tapes and tracers key on it

  static uint64_t next_id();
  // A new TensorImpl with a fresh id, its memory from a per-thread pool of blocks (cheaper than
  // make_shared when many tensors are made and dropped, as op calls do).
  static std::shared_ptr<TensorImpl> create(std::shared_ptr<Storage> storage, Dims shape,
                                            Dims strides, int64_t offset, DType dtype,
                                            Device device);
};

class Tensor {
 public:
  Tensor() = default;  // undefined: holds nothing
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation -----------------------------------------------------------------------------
  // Uninitialized contiguous tensor from the device's pool.
  static Tensor empty(Dims shape, DType dtype = DType::F32, std::optional<Device> device = {});
  // Metadata only, no storage: what graph shape inference passes to infer rules.
  static Tensor meta(Dims shape, DType dtype, Device device = Device::cpu());
  template <class T>
  static Tensor from_vec(std::initializer_list<T> values, Dims shape,
                         std::optional<Device> device = {}) {
    return from_data(values.begin(), values.size(), dtype_v<T>, std::move(shape), device);
  }
  template <class T>
  static Tensor from_vec(const std::vector<T>& values, Dims shape,
                         std::optional<Device> device = {}) {
    static_assert(!std::is_same_v<T, bool>, "use from_vec with a std::vector<uint8_t> and cast");
    return from_data(values.data(), values.size(), dtype_v<T>, std::move(shape), device);
  }
  // A 0-d tensor. The dtype defaults to the C++ type's (double gives f64).
  template <class T>
  static Tensor from_scalar(T value, std::optional<Device> device = {}) {
    return from_data(&value, 1, dtype_v<T>, Dims{}, device);
  }
  static Tensor scalar(double value, DType dtype, std::optional<Device> device = {});
  // Copies `count` elements of `dtype` from host memory.
  static Tensor from_data(const void* data, size_t count, DType dtype, Dims shape,
                          std::optional<Device> device = {});
  // Wraps external memory without copying; `deleter` runs when the last view is gone.
  static Tensor from_blob(void* data, Dims shape, Dims strides, DType dtype, Device device,
                          std::function<void(void*)> deleter);

  // ---- metadata -----------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Dims& shape() const { return checked().shape; }
  const Dims& strides() const { return checked().strides; }
  int64_t offset() const { return checked().offset; }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().device; }
  int64_t rank() const { return static_cast<int64_t>(shape().size()); }
  int64_t ndim() const { return rank(); }
  int64_t numel() const { return shape().numel(); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  bool is_contiguous() const;
  bool is_meta() const { return !checked().storage; }
  uint64_t id() const { return checked().id; }
  const std::shared_ptr<Storage>& storage() const { return checked().storage; }
  bool shares_storage(const Tensor& other) const;
  TensorImpl* impl() const { return impl_.get(); }
  // Address of element 0 (storage start + offset). Host access requires a CPU tensor.
  void* data_ptr() const {
    const TensorImpl& t = checked();
    if (!t.storage) [[unlikely]]
      throw_no_data();
    return static_cast<char*>(t.storage->data()) +
           t.offset * static_cast<int64_t>(dtype_size(t.dtype));
  }
  template <class T>
  T* data() const {
    check_host_access(dtype_v<T>);
    return static_cast<T*>(data_ptr());
  }

  // ---- handles and copies -------------------------------------------------------------------
  Tensor view() const;        // a new handle over the same storage, shape and strides
  Tensor clone() const;       // same as view(): a reference-count increment, no data copied
  Tensor copy() const;        // a contiguous deep copy on the same device
  Tensor contiguous() const;  // this tensor when already contiguous, else a contiguous copy
  // A copy on `device` (this tensor when it is already there). By default the source may be
  // changed as soon as to() returns. non_blocking = true lets a host-to-device copy from pinned
  // memory (is_pinned()) return before the device has read the source, which must then stay
  // unchanged until that device's work has run (synchronize(), or reading a result back); every
  // other copy behaves as by default. See docs/cuda.md, "Pinned host memory".
  Tensor to(Device device, bool non_blocking = false) const;
  Tensor to(DType dtype) const { return cast(dtype); }
  Tensor cpu() const { return to(Device::cpu()); }
  // A contiguous copy of this CPU tensor in page-locked host memory, or this tensor when it is
  // pinned already. It is an ordinary CPU tensor for every op; copies from it to a GPU are
  // direct DMA. DeviceError for a tensor not on the CPU, or without a CUDA device.
  Tensor pin_memory() const;
  bool is_pinned() const;  // its storage is page-locked host memory

  // ---- element access (any device; copies to host when needed) ------------------------------
  template <class T>
  T item() const;  // the single element of a one-element tensor, converted to T
  template <class T>
  T at(std::initializer_list<int64_t> index) const;  // negative indices count from the end
  template <class T>
  std::vector<T> to_vector() const;  // all elements in row-major order, converted to T
  std::string str() const;           // NumPy-like printing
  friend std::ostream& operator<<(std::ostream& out, const Tensor& t);

  // ---- views (no data copied) ---------------------------------------------------------------
  Tensor reshape(Dims shape) const;  // a view when the strides allow it, else a copy; -1 infers
  Tensor flatten(int64_t start_axis = 0, int64_t end_axis = -1) const;
  Tensor transpose(int64_t axis0 = -2, int64_t axis1 = -1) const;
  Tensor permute(Dims axes) const;
  Tensor t() const { return transpose(); }
  Tensor slice(int64_t axis, std::optional<int64_t> start, std::optional<int64_t> stop,
               int64_t step = 1) const;
  Tensor select(int64_t axis, int64_t index) const;  // drops the axis
  Tensor narrow(int64_t axis, int64_t start, int64_t length) const;
  Tensor expand(Dims shape) const;  // -1 keeps an extent
  Tensor broadcast_to(Dims shape) const;
  Tensor squeeze(std::optional<std::vector<int64_t>> axes = {}) const;
  Tensor unsqueeze(int64_t axis) const;
  Tensor diagonal(int64_t offset = 0, int64_t axis0 = 0, int64_t axis1 = 1) const;

  // ---- math as methods (see ops.hpp for the free functions and their meaning) ---------------
  Tensor neg() const;
  Tensor abs() const;
  Tensor sign() const;
  Tensor exp() const;
  Tensor expm1() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor square() const;
  Tensor reciprocal() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tan() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor erf() const;
  Tensor floor() const;
  Tensor ceil() const;
  Tensor round() const;
  Tensor pow(const Tensor& exponent) const;
  Tensor pow(double exponent) const;
  Tensor matmul(const Tensor& other) const;
  Tensor cast(DType dtype) const;
  Tensor clamp(std::optional<double> min, std::optional<double> max) const;

  Tensor sum(std::vector<int64_t> axes = {}, bool keepdims = false) const;
  Tensor mean(std::vector<int64_t> axes = {}, bool keepdims = false) const;
  Tensor max(std::vector<int64_t> axes = {}, bool keepdims = false) const;
  Tensor min(std::vector<int64_t> axes = {}, bool keepdims = false) const;
  Tensor argmax(std::optional<int64_t> axis = {}, bool keepdims = false) const;
  Tensor argmin(std::optional<int64_t> axis = {}, bool keepdims = false) const;
  Tensor softmax(int64_t axis = -1) const;
  Tensor log_softmax(int64_t axis = -1) const;

 private:
  // Throws InvalidArgument for an undefined tensor; inline, since every accessor goes through it.
  const TensorImpl& checked() const {
    if (!impl_) [[unlikely]]
      throw_undefined();
    return *impl_;
  }
  [[noreturn]] static void throw_undefined();
  [[noreturn]] static void throw_no_data();
  void check_host_access(DType requested) const;
  Tensor host_contiguous() const;
  std::shared_ptr<TensorImpl> impl_;
};

// ---- element access, defined in terms of a host copy ---------------------------------------
template <class T>
std::vector<T> Tensor::to_vector() const {
  const Tensor host = host_contiguous().cast(dtype_v<T>);
  const T* p = static_cast<const T*>(host.data_ptr());
  return std::vector<T>(p, p + host.numel());
}

template <class T>
T Tensor::item() const {
  TF_CHECK(numel() == 1, InvalidArgument, "item() needs a tensor with one element, got shape ",
           shape());
  return to_vector<T>()[0];
}

int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index);

template <class T>
T Tensor::at(std::initializer_list<int64_t> index) const {
  const int64_t linear = element_offset(*this, index);
  Tensor one = Tensor(std::make_shared<TensorImpl>(
      TensorImpl{storage(), Dims{}, Dims{}, linear, dtype(), device(), TensorImpl::next_id()}));
  return one.item<T>();
}

}  // namespace tenflowers
