#pragma once
// A bounds-checked cursor over a file's bytes: every read past the end is an IoError naming
// the file and offset, so parsers never index out of range.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "tenflowers/core/error.hpp"

namespace tenflowers::data::detail {

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, std::string what)
      : bytes_(bytes), what_(std::move(what)) {}

  const std::string& what() const { return what_; }
  size_t position() const { return position_; }
  size_t remaining() const { return bytes_.size() - position_; }

  std::span<const std::byte> take(size_t count, const char* field) {
    TF_CHECK(count <= remaining(), IoError, "'", what_, "' is truncated: ", field, " needs ", count,
             " bytes at offset ", position_, " but only ", remaining(), " remain");
    const auto out = bytes_.subspan(position_, count);
    position_ += count;
    return out;
  }

  template <class T>
  T read(std::endian order, const char* field) {
    T value;
    std::memcpy(&value, take(sizeof(T), field).data(), sizeof(T));
    if (order != std::endian::native) value = byteswap_value(value);
    return value;
  }

  template <class T>
  static T byteswap_value(T value) {
    auto bytes = std::bit_cast<std::array<std::byte, sizeof(T)>>(value);
    std::reverse(bytes.begin(), bytes.end());
    return std::bit_cast<T>(bytes);
  }

 private:
  std::span<const std::byte> bytes_;
  std::string what_;
  size_t position_ = 0;
};

// Reverses each element's bytes in place (`count` elements of `size` bytes).
inline void byteswap_elements(std::byte* data, size_t count, size_t size) {
  for (size_t i = 0; i < count; ++i) std::reverse(data + i * size, data + (i + 1) * size);
}

// a * b, or IoError naming `what` when it exceeds `limit`.
inline uint64_t checked_mul(uint64_t a, uint64_t b, uint64_t limit, const std::string& what,
                            const char* quantity) {
  TF_CHECK(b == 0 || a <= limit / b, IoError, "'", what, "': ", quantity, " overflows (", a, " * ",
           b, ")");
  return a * b;
}

}  // namespace tenflowers::data::detail
