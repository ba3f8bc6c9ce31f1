#pragma once
// Gzip detection and inflation (zlib) for the readers that accept gzipped files.
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tenflowers::data::detail {

bool is_gzip(std::span<const std::byte> bytes);  // starts with the magic 1f 8b
// Inflates every gzip member of `bytes`; IoError naming `what` on corrupt or truncated data.
std::vector<std::byte> gunzip(std::span<const std::byte> bytes, const std::string& what);
// The file's bytes, inflated when it is gzipped.
std::vector<std::byte> read_maybe_gzipped(const std::filesystem::path& path);

}  // namespace tenflowers::data::detail
