#pragma once
// Safetensors checkpoints (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// padded with spaces to a multiple of 8, then the tensors' bytes, offsets counting from the
// start of that buffer. Files are written as the Python package writes them: tensors ordered by
// dtype (I64, F64, F32, I32, BF16, F16, I8, U8, BOOL: largest items first, so each tensor's data
// is aligned to its item size), then by name; compact JSON. The same tensors with at most one
// metadata entry give byte-identical files.
#include <cstddef>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using SafetensorsMetadata = std::map<std::string, std::string>;

struct SafetensorsContents {
  NamedTensors tensors;  // contiguous host tensors, sorted by name
  SafetensorsMetadata metadata;
};

// The file's bytes. Tensors may live on any device and have any layout. InvalidArgument for an
// undefined tensor, a duplicate name, the reserved name "__metadata__", or a name or metadata
// string that is not valid UTF-8.
std::vector<std::byte> serialize_safetensors(const NamedTensors& tensors,
                                             const SafetensorsMetadata& metadata = {});

// Parses and validates a whole file's bytes; `source` names it in error messages. Every
// malformation is an IoError saying what and where: a header length beyond the file or over
// 100 MB, invalid JSON or UTF-8, a JSON shape other than the format's, an unknown dtype, a
// negative or non-integer extent, a byte range that does not match numel * item size, ranges
// outside the buffer, overlapping or leaving bytes uncovered, duplicate names, BOOL bytes other
// than 0 and 1. Dtypes of the format that tenflowers lacks (F8_*, I16, U16, U32, U64, ...)
// throw UnsupportedError naming the dtype and the tensor.
SafetensorsContents parse_safetensors(std::span<const std::byte> bytes,
                                      const std::string& source = "<memory>");

// serialize_safetensors written with write_file_atomic (a crash leaves the old file or the new).
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});
// read_file + parse_safetensors.
SafetensorsContents load_safetensors(const std::filesystem::path& path);

// Copies the file's tensors into existing tensors in place (e.g. Variable::handle()s, which
// keep their identity), matched by name. Before anything is written, every problem is collected
// into one InvalidArgument listing them all: target names missing from the file, file names
// absent from the targets (when strict), shape and dtype mismatches, duplicate target names,
// undefined or non-contiguous targets. The file itself is validated as parse_safetensors does.
void load_into(const std::filesystem::path& path, std::span<std::pair<std::string, Tensor>> targets,
               bool strict = true);
// The same for contents already parsed; `source_name` names them in the error.
void load_into(const SafetensorsContents& contents,
               std::span<std::pair<std::string, Tensor>> targets, bool strict,
               const std::string& source_name);

}  // namespace tenflowers::io
