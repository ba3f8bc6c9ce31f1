#pragma once
// NPY encoding and decoding in memory, shared by the NPY and NPZ readers and writers.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::data::detail {

// The array in `bytes` (a whole .npy file); IoError / UnsupportedError naming `what`.
Tensor decode_npy(std::span<const std::byte> bytes, const std::string& what);
// A whole .npy file holding `tensor`; UnsupportedError for bf16.
std::vector<std::byte> encode_npy(const Tensor& tensor);

}  // namespace tenflowers::data::detail
