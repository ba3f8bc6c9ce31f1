#pragma once
// Whole-file reads and crash-safe writes shared by every reader and writer of user files
// (checkpoints, NPY, ONNX, graphs).
#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace tenflowers::io {

// The file's bytes; IoError naming the path when it cannot be opened or read.
std::vector<std::byte> read_file(const std::filesystem::path& path);

// Writes `bytes` to a temporary file in the same folder, flushes it to disk and renames it over
// `path`, so a crash leaves either the old file or the new one, never a torn one. IoError on
// any failure (the temporary file is removed).
void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);

}  // namespace tenflowers::io
