#include "tenflowers/io/file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tenflowers/core/error.hpp"
#include "tests/support/scratch_dir.hpp"

namespace tenflowers::io {
namespace {

std::vector<std::byte> random_bytes(size_t n, uint64_t seed) {
  std::vector<std::byte> out(n);
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& b : out) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    b = static_cast<std::byte>(s >> 56);
  }
  return out;
}

TEST(File, AtomicWriteReplacesContentAndLeavesNoTemporaryFile) {
  const testing::ScratchDir dir;
  const auto path = dir / "data.bin";
  const auto first = random_bytes(1000, 1), second = random_bytes(37, 2);
  write_file_atomic(path, first);
  EXPECT_EQ(read_file(path), first);
  write_file_atomic(path, second);
  EXPECT_EQ(read_file(path), second);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
}

TEST(File, FailedWriteKeepsTheOldFile) {
  const testing::ScratchDir dir;
  const auto old_bytes = random_bytes(64, 3);
  write_file_atomic(dir / "keep.bin", old_bytes);
  // A folder where the file should go: the rename fails, the old content elsewhere is intact
  // and no temporary file is left behind.
  std::filesystem::create_directories(dir / "taken" / "child");
  EXPECT_THROW(write_file_atomic(dir / "taken", random_bytes(8, 4)), IoError);
  EXPECT_EQ(read_file(dir / "keep.bin"), old_bytes);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 2);
}

TEST(File, MissingFilesAndFoldersAreIoErrors) {
  const testing::ScratchDir dir;
  EXPECT_THROW(read_file(dir / "absent.bin"), IoError);
  EXPECT_THROW(write_file_atomic(dir / "no" / "such" / "dir.bin", random_bytes(4, 5)), IoError);
  EXPECT_THROW(write_file_atomic("", random_bytes(4, 5)), IoError);
}

}  // namespace
}  // namespace tenflowers::io
