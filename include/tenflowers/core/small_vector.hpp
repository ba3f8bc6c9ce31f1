#pragma once
// SmallVector<T, N>: a vector that keeps up to N elements inside the object and moves them to
// the heap only when it grows past N. The op-call path uses it for what an op makes and records
// (output tensors, inferred metadata, a tape node's operands): nearly every op has one or two
// outputs and at most a few inputs, so these cost no heap allocation.
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace tenflowers {

template <class T, size_t N>
class SmallVector {
  static_assert(N > 0, "SmallVector needs an inline capacity of at least one element");

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  static constexpr size_t kInline = N;

  SmallVector() noexcept : data_(inline_data()) {}
  explicit SmallVector(size_t n) : SmallVector() { resize(n); }
  SmallVector(size_t n, const T& value) : SmallVector() { assign(n, value); }
  SmallVector(std::initializer_list<T> values) : SmallVector() {
    append(values.begin(), values.end());
  }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>>
  SmallVector(It first, It last) : SmallVector() {
    append(first, last);
  }
  SmallVector(const SmallVector& other) : SmallVector() { append(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : SmallVector() {
    take(other);
  }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      clear();
      append(other.begin(), other.end());
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      clear();
      release_heap();
      take(other);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  ~SmallVector() {
    std::destroy_n(data_, size_);
    release_heap();
  }

  // ---- access -------------------------------------------------------------------------------
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return capacity_; }
  bool is_inline() const noexcept { return data_ == inline_data(); }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(size_t i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at: index out of range");
    return data_[i];
  }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at: index out of range");
    return data_[i];
  }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

  // ---- modifiers ----------------------------------------------------------------------------
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) return grow_and_emplace(std::forward<Args>(args)...);
    T* slot = std::construct_at(data_ + size_, std::forward<Args>(args)...);
    ++size_;
    return *slot;
  }
  void push_back(const T& value) { emplace_back(value); }
  void push_back(T&& value) { emplace_back(std::move(value)); }
  void pop_back() {
    --size_;
    std::destroy_at(data_ + size_);
  }
  void clear() noexcept {
    std::destroy_n(data_, size_);
    size_ = 0;
  }
  void reserve(size_t n) {
    if (n > capacity_) reallocate(n);
  }
  void resize(size_t n) {
    if (n <= size_) {
      std::destroy(data_ + n, data_ + size_);
    } else {
      reserve(n);
      std::uninitialized_value_construct(data_ + size_, data_ + n);
    }
    size_ = n;
  }
  void resize(size_t n, const T& value) {
    if (n <= size_) {
      std::destroy(data_ + n, data_ + size_);
      size_ = n;
      return;
    }
    if (n > capacity_) {
      const T copy = value;  // `value` may be an element of this vector
      reserve(n);
      std::uninitialized_fill(data_ + size_, data_ + n, copy);
    } else {
      std::uninitialized_fill(data_ + size_, data_ + n, value);
    }
    size_ = n;
  }
  void assign(size_t n, const T& value) {
    const T copy = value;
    clear();
    resize(n, copy);
  }
  template <class It>
  void assign(It first, It last) {
    clear();
    append(first, last);
  }
  // The range must not lie in this vector.
  template <class It>
  void append(It first, It last) {
    if constexpr (std::is_base_of_v<std::forward_iterator_tag,
                                    typename std::iterator_traits<It>::iterator_category>) {
      const auto count = static_cast<size_t>(std::distance(first, last));
      reserve(size_ + count);
      std::uninitialized_copy(first, last, data_ + size_);
      size_ += count;
    } else {
      for (; first != last; ++first) emplace_back(*first);
    }
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  T* inline_data() noexcept { return std::launder(reinterpret_cast<T*>(inline_)); }
  const T* inline_data() const noexcept {
    return std::launder(reinterpret_cast<const T*>(inline_));
  }

  static T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void release_heap() noexcept {
    if (!is_inline()) {
      std::allocator<T>().deallocate(data_, capacity_);
      data_ = inline_data();
      capacity_ = N;
    }
  }

  // Moves the elements to a heap block of `n` elements (n >= size_).
  void reallocate(size_t n) {
    T* fresh = allocate(n);
    try {
      relocate(data_, size_, fresh);
    } catch (...) {
      std::allocator<T>().deallocate(fresh, n);
      throw;
    }
    std::destroy_n(data_, size_);
    release_heap();
    data_ = fresh;
    capacity_ = n;
  }

  // Move-constructs `count` elements into uninitialized memory; copies them instead when a move
  // could throw and a copy is possible, so that a failure leaves the source intact.
  static void relocate(T* from, size_t count, T* to) {
    if constexpr (std::is_nothrow_move_constructible_v<T> || !std::is_copy_constructible_v<T>) {
      std::uninitialized_move_n(from, count, to);
    } else {
      std::uninitialized_copy_n(from, count, to);
    }
  }

  // The element is built in the new block before the old ones move, so arguments that refer to
  // elements of this vector (v.push_back(v[0])) stay valid.
  template <class... Args>
  T& grow_and_emplace(Args&&... args) {
    const size_t n = std::max(capacity_ * 2, size_ + 1);
    T* fresh = allocate(n);
    T* slot = nullptr;
    try {
      slot = std::construct_at(fresh + size_, std::forward<Args>(args)...);
      try {
        relocate(data_, size_, fresh);
      } catch (...) {
        std::destroy_at(slot);
        throw;
      }
    } catch (...) {
      std::allocator<T>().deallocate(fresh, n);
      throw;
    }
    std::destroy_n(data_, size_);
    release_heap();
    data_ = fresh;
    capacity_ = n;
    ++size_;
    return *slot;
  }

  // Takes other's elements: its heap block when it has one, else element by element. Leaves
  // `other` empty and inline. Expects this vector empty and inline.
  void take(SmallVector& other) {
    if (!other.is_inline()) {
      data_ = other.data_;
      capacity_ = other.capacity_;
      size_ = other.size_;
      other.data_ = other.inline_data();
      other.capacity_ = N;
      other.size_ = 0;
      return;
    }
    std::uninitialized_move_n(other.data_, other.size_, data_);
    size_ = other.size_;
    other.clear();
  }

  T* data_;
  size_t size_ = 0;
  size_t capacity_ = N;
  alignas(T) unsigned char inline_[N * sizeof(T)];
};

}  // namespace tenflowers
