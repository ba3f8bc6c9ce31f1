#pragma once
// Readers and writers of common data files. Every reader validates the whole file (magic,
// header, sizes against the file length, dimension overflow) and throws IoError naming the file
// and what was wrong; corrupt input never crashes. Gzipped files (magic 1f 8b) are inflated
// transparently where noted.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tenflowers/core/tensor.hpp"

namespace tenflowers::data {

// ---- IDX (the MNIST format), plain or gzipped --------------------------------------------------
// Element types: 0x08 u8, 0x09 i8, 0x0B i16 (read as i32), 0x0C i32, 0x0D f32, 0x0E f64; the
// dimensions and data are big-endian.
Tensor load_idx(const std::filesystem::path& path);

struct ImageLabelSplit {
  Tensor images;  // u8 [N, rows, cols]
  Tensor labels;  // [N], i64 or u8
};
struct MnistLikeData {
  ImageLabelSplit train, test;
};
// Reads dir/<prefix>{train,t10k}-{images-idx3,labels-idx1}-ubyte, each with or without ".gz"
// (the gzipped name is tried first). IoError when a file is missing, images are not u8 rank 3,
// labels not u8 rank 1, or the counts differ. label_dtype is I64 or U8 (InvalidArgument else).
MnistLikeData load_mnist_like(const std::filesystem::path& dir, const std::string& prefix = "",
                              DType label_dtype = DType::I64);
// Fashion-MNIST from Debian's dataset-fashion-mnist package by default.
MnistLikeData load_fashion_mnist(
    const std::filesystem::path& dir = "/usr/share/datasets/fashion-mnist",
    DType label_dtype = DType::I64);

// ---- CSV, plain or gzipped ---------------------------------------------------------------------
enum class CsvHeader { Auto, Yes, No };  // Auto: a header when a first-row field is no number

struct CsvOptions {
  CsvHeader header = CsvHeader::Auto;
  char delimiter = ',';
  // The column returned separately as i64 labels: by header name or by 0-based index (negative
  // counts from the end); none by default.
  std::variant<std::monostate, std::string, int64_t> label_column{};
  DType dtype = DType::F32;  // of the features; a floating dtype
};

struct CsvData {
  std::vector<std::string> feature_names;  // from the header; empty without one
  Tensor features;                         // [rows, feature columns]
  Tensor labels;                           // i64 [rows]; undefined without a label column
};

// RFC 4180 fields: a field may be quoted ("a, b"), a doubled quote inside is a quote, and a
// quoted field may span lines. Fields are numbers (strtod syntax, surrounding spaces allowed,
// nan and inf included); label fields are integers. Blank lines are skipped and a UTF-8 byte
// order mark is ignored. A ragged row, an empty or non-numeric field, a bad quote: IoError
// naming the line and column (both 1-based).
CsvData load_csv(const std::filesystem::path& path, const CsvOptions& options = {});

// ---- NPY / NPZ (NumPy) -------------------------------------------------------------------------
// Reads format versions 1.0, 2.0 and 3.0 with dtypes b1 u1 i1 i4 i8 f2 f4 f8 in either byte
// order (big-endian data is converted), C or Fortran order (the result is always C-contiguous),
// 0-d and empty arrays. Other dtypes: UnsupportedError naming the descr.
Tensor load_npy(const std::filesystem::path& path);
// Writes format 1.0 (2.0 when the header needs it) with little-endian data, atomically.
// UnsupportedError for bf16, which NumPy has no type for.
void save_npy(const std::filesystem::path& path, const Tensor& tensor);

// An NPZ archive's arrays in archive order, named as NumPy names them (the member name without
// ".npy"). Stored and deflated members are read.
std::vector<std::pair<std::string, Tensor>> load_npz(const std::filesystem::path& path);
// np.savez (stored members) or, when compressed, np.savez_compressed (deflated members). Names
// must be unique and non-empty (InvalidArgument).
void save_npz(const std::filesystem::path& path,
              const std::vector<std::pair<std::string, Tensor>>& arrays, bool compressed = false);

}  // namespace tenflowers::data
