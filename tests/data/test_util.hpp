#pragma once
// Helpers shared by the data tests: draining passes, scratch folders and the NumPy oracle.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tenflowers/tenflowers.hpp"
#include "tests/support/scratch_dir.hpp"

namespace tenflowers::data::test {

inline std::vector<Element> drain(Iterator pass) {
  std::vector<Element> out;
  while (std::optional<Element> e = pass.next()) out.push_back(std::move(*e));
  return out;
}

inline std::vector<Element> drain(const Dataset& ds) {
  return drain(ds.iterator());
}

// The single i64 component of each element of a pass over ds.
inline std::vector<int64_t> scalars(const Dataset& ds) {
  std::vector<int64_t> out;
  for (const Element& e : drain(ds)) out.push_back(e.at(0).item<int64_t>());
  return out;
}

using tenflowers::testing::ScratchDir;

// Replaces the file rather than truncating it: ext4 flushes a truncated-and-rewritten file to
// disk on close, which makes the fuzz loops crawl.
inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::remove(path);
  std::ofstream(path, std::ios::binary) << bytes;
}

// Writes `bytes` as one gzip member per part (zlib's gz writer; "ab" appends a new member).
inline void write_gzip(const std::filesystem::path& path, const std::string& bytes, int parts = 1) {
  std::filesystem::remove(path);
  const size_t step = std::max<size_t>(1, (bytes.size() + parts - 1) / parts);
  size_t start = 0;
  do {
    gzFile f = gzopen(path.c_str(), "ab");
    ASSERT_NE(f, nullptr);
    const size_t n = std::min(step, bytes.size() - start);
    if (n > 0) {
      ASSERT_EQ(gzwrite(f, bytes.data() + start, static_cast<unsigned>(n)), int(n));
    }
    ASSERT_EQ(gzclose(f), Z_OK);
    start += n;
  } while (start < bytes.size());
}

inline bool python_available() {
  return std::filesystem::exists(TF_TEST_PYTHON);
}

// Runs a Python script with the project venv's interpreter and returns its standard output;
// fails the test when the script fails.
inline std::string run_python(const ScratchDir& dir, const std::string& script) {
  const auto script_path = dir / "oracle.py";
  const auto output_path = dir / "oracle.out";
  std::ofstream(script_path) << script;
  const std::string command = std::string(TF_TEST_PYTHON) + " " + script_path.string() + " > " +
                              output_path.string() + " 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream in(output_path);
  std::stringstream out;
  out << in.rdbuf();
  EXPECT_EQ(rc, 0) << "python oracle failed:\n" << script << "\n---\n" << out.str();
  return out.str();
}

}  // namespace tenflowers::data::test
