#pragma once
// Dims: a vector of int64 extents or strides that stores up to kInline values without a heap
// allocation; shapes and strides of nearly every tensor fit, which keeps small ops cheap.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <span>
#include <vector>

namespace tenflowers {

class Dims {
 public:
  static constexpr size_t kInline = 6;
  using value_type = int64_t;

  Dims() = default;
  explicit Dims(size_t n, int64_t value = 0) { assign(n, value); }
  Dims(std::initializer_list<int64_t> values) { assign(values.begin(), values.end()); }
  Dims(std::span<const int64_t> values) { assign(values.begin(), values.end()); }     // NOLINT
  Dims(const std::vector<int64_t>& values) { assign(values.begin(), values.end()); }  // NOLINT
  template <class It>
  Dims(It first, It last) {
    assign(first, last);
  }
  Dims(const Dims& other) { copy_from(other); }
  Dims(Dims&& other) noexcept { move_from(other); }
  Dims& operator=(const Dims& other) {
    if (this != &other) copy_from(other);
    return *this;
  }
  Dims& operator=(Dims&& other) noexcept {
    if (this != &other) move_from(other);
    return *this;
  }
  ~Dims() = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t* data() { return heap_ ? heap_.get() : inline_; }
  const int64_t* data() const { return heap_ ? heap_.get() : inline_; }
  int64_t& operator[](size_t i) { return data()[i]; }
  int64_t operator[](size_t i) const { return data()[i]; }
  int64_t* begin() { return data(); }
  int64_t* end() { return data() + size_; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + size_; }
  int64_t back() const { return data()[size_ - 1]; }

  void push_back(int64_t v) {
    reserve(size_ + 1);
    data()[size_++] = v;
  }
  void pop_back() { --size_; }
  void insert(size_t pos, int64_t v) {
    push_back(0);
    std::copy_backward(begin() + pos, end() - 1, end());
    data()[pos] = v;
  }
  void erase(size_t pos) {
    std::copy(begin() + pos + 1, end(), begin() + pos);
    --size_;
  }
  void resize(size_t n, int64_t value = 0) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data()[i] = value;
    size_ = n;
  }
  void assign(size_t n, int64_t value) {
    size_ = 0;
    resize(n, value);
  }
  template <class It>
  void assign(It first, It last) {
    size_ = 0;
    reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) data()[size_++] = static_cast<int64_t>(*first);
  }
  void reserve(size_t n) {
    if (n <= capacity()) return;
    auto grown = std::make_unique<int64_t[]>(n * 2);
    std::copy(begin(), end(), grown.get());
    heap_ = std::move(grown);
    heap_capacity_ = n * 2;
  }

  int64_t numel() const {  // product of extents; 1 for a scalar shape
    int64_t n = 1;
    for (int64_t d : *this) n *= d;
    return n;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }
  operator std::span<const int64_t>() const { return {data(), size_}; }  // NOLINT

  friend bool operator==(const Dims& a, const Dims& b) {
    if (a.size_ != b.size_) return false;
    const int64_t* pa = a.data();
    const int64_t* pb = b.data();
    for (size_t i = 0; i < a.size_; ++i) {  // a loop, not memcmp: shapes are a few extents
      if (pa[i] != pb[i]) return false;
    }
    return true;
  }
  friend std::ostream& operator<<(std::ostream& out, const Dims& d);

 private:
  size_t capacity() const { return heap_ ? heap_capacity_ : kInline; }
  // Inline contents are copied whole: a fixed 48 bytes, which the compiler copies in registers
  // (std::copy of the same range becomes a call to memmove).
  void copy_from(const Dims& other) {
    if (!heap_ && !other.heap_) {
      std::memcpy(inline_, other.inline_, sizeof(inline_));  // constant size: inlined
      size_ = other.size_;
    } else {
      assign(other.begin(), other.end());
    }
  }
  void move_from(Dims& other) {
    if (other.heap_) {
      heap_ = std::move(other.heap_);
      heap_capacity_ = other.heap_capacity_;
    } else {
      heap_.reset();
      std::memcpy(inline_, other.inline_, sizeof(inline_));
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  int64_t inline_[kInline] = {};
  std::unique_ptr<int64_t[]> heap_;
  size_t heap_capacity_ = 0;
  size_t size_ = 0;
};

// Row-major (C-contiguous) strides for a shape. Inline: every op output computes them.
inline Dims contiguous_strides(const Dims& shape) {
  Dims strides(shape.size());
  int64_t running = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = running;
    running *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}
// Normalizes a possibly negative axis against rank; throws IndexError when out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* what = "axis");
// NumPy broadcasting of two shapes; throws ShapeError naming both when incompatible.
Dims broadcast_shapes(const Dims& a, const Dims& b);

}  // namespace tenflowers
