// Mutates valid files thousands of times; every reader must either succeed or throw a typed
// TensorError, never crash or throw anything else (run under ASan/UBSan in CI).
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <sstream>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/data/readers.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One random mutation: flip bits, overwrite bytes with interesting values, truncate, insert
// or duplicate a chunk.
std::string mutate(std::string bytes, std::mt19937_64& gen) {
  auto pick = [&](size_t n) { return n == 0 ? 0 : static_cast<size_t>(gen() % n); };
  const int edits = 1 + static_cast<int>(gen() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (gen() % 6) {
      case 0:
        if (!bytes.empty()) bytes[pick(bytes.size())] ^= static_cast<char>(1u << (gen() % 8));
        break;
      case 1: {
        static const char interesting[] = {0, 1, 0x7f, '\x80', '\xff', ',', '"', '\n', '(', ')'};
        if (!bytes.empty()) bytes[pick(bytes.size())] = interesting[gen() % sizeof interesting];
        break;
      }
      case 2:
        bytes.resize(pick(bytes.size() + 1));
        break;
      case 3:
        bytes.insert(pick(bytes.size() + 1), std::string(1 + pick(16), static_cast<char>(gen())));
        break;
      case 4: {
        const size_t start = pick(bytes.size()), length = pick(bytes.size() - start + 1);
        bytes.insert(pick(bytes.size() + 1), bytes.substr(start, length));
        break;
      }
      default:
        if (bytes.size() > 4) bytes[pick(bytes.size())] = static_cast<char>(gen());
        break;
    }
  }
  return bytes;
}

void fuzz(const std::string& name, const std::filesystem::path& valid,
          const std::function<void(const std::filesystem::path&)>& load, int iterations,
          uint64_t seed) {
  const std::string original = file_bytes(valid);
  ASSERT_NO_THROW(load(valid)) << name << ": the unmutated file must load";
  std::mt19937_64 gen(seed);
  const auto path = valid.parent_path() / ("mutated_" + valid.filename().string());
  int typed_errors = 0;
  for (int i = 0; i < iterations; ++i) {
    test::write_bytes(path, mutate(original, gen));
    try {
      load(path);
    } catch (const TensorError&) {
      ++typed_errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << " iteration " << i << ": untyped error " << e.what();
    }
  }
  EXPECT_GT(typed_errors, 0) << name << ": mutations should break some files";
}

constexpr int kIterations = 3000;

TEST(Fuzz, Idx) {
  test::ScratchDir dir;
  std::string file("\0\0\x08\x03\0\0\0\x02\0\0\0\x03\0\0\0\x04", 16);
  for (int i = 0; i < 24; ++i) file += static_cast<char>(i * 7);
  test::write_bytes(dir / "plain.idx", file);
  test::write_gzip(dir / "packed.idx.gz", file);
  fuzz(
      "idx", dir / "plain.idx", [](const auto& p) { load_idx(p); }, kIterations, 1);
  fuzz(
      "idx.gz", dir / "packed.idx.gz", [](const auto& p) { load_idx(p); }, kIterations, 2);
}

TEST(Fuzz, Npy) {
  test::ScratchDir dir;
  save_npy(dir / "a.npy", uniform({3, 4}, -1, 1, DType::F32, 3));
  save_npy(dir / "b.npy", Tensor::from_vec<uint8_t>({1, 0, 1}, {3}).cast(DType::Bool));
  fuzz(
      "npy f32", dir / "a.npy", [](const auto& p) { load_npy(p); }, kIterations, 3);
  fuzz(
      "npy bool", dir / "b.npy", [](const auto& p) { load_npy(p); }, kIterations, 4);
}

TEST(Fuzz, Npz) {
  test::ScratchDir dir;
  const std::vector<std::pair<std::string, Tensor>> arrays = {
      {"x", uniform({4, 3}, -1, 1, DType::F64, 5)}, {"y", arange(6)}};
  save_npz(dir / "stored.npz", arrays);
  save_npz(dir / "deflated.npz", arrays, true);
  fuzz(
      "npz stored", dir / "stored.npz", [](const auto& p) { load_npz(p); }, kIterations, 6);
  fuzz(
      "npz deflated", dir / "deflated.npz", [](const auto& p) { load_npz(p); }, kIterations, 7);
}

TEST(Fuzz, Csv) {
  test::ScratchDir dir;
  test::write_bytes(dir / "a.csv", "x,\"y, quoted\",label\n1.5,2,3\n-4,5e3,6\n7,8,9\n");
  test::write_gzip(dir / "b.csv.gz", "1,2\n3,4\n");
  const CsvOptions options{.label_column = std::string("label")};
  fuzz(
      "csv", dir / "a.csv", [&](const auto& p) { load_csv(p, options); }, kIterations, 8);
  fuzz(
      "csv.gz", dir / "b.csv.gz", [](const auto& p) { load_csv(p); }, kIterations, 9);
}

}  // namespace
}  // namespace tenflowers::data
