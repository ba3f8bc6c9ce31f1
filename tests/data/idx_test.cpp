#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <sstream>

#include "tenflowers/data/readers.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

void append_big_endian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

std::string idx_header(uint8_t type, const std::vector<uint32_t>& dims) {
  std::string out;
  out += '\0';
  out += '\0';
  out += static_cast<char>(type);
  out += static_cast<char>(dims.size());
  for (uint32_t d : dims) append_big_endian(out, d, 4);
  return out;
}

TEST(Idx, ReadsEveryElementTypePlainAndGzipped) {
  test::ScratchDir dir;
  std::mt19937_64 gen(17);
  const std::vector<uint32_t> dims = {3, 4, 5};
  const size_t n = 60;
  struct Case {
    uint8_t code;
    int bytes;
    DType dtype;
  };
  for (const Case& c :
       {Case{0x08, 1, DType::U8}, Case{0x09, 1, DType::I8}, Case{0x0B, 2, DType::I32},
        Case{0x0C, 4, DType::I32}, Case{0x0D, 4, DType::F32}, Case{0x0E, 8, DType::F64}}) {
    std::string file = idx_header(c.code, dims);
    std::vector<double> expected;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t bits = gen();
      if (c.code == 0x0D) {
        const float v = static_cast<float>(static_cast<int64_t>(bits % 2000001) - 1000000) / 7.0f;
        uint32_t raw;
        std::memcpy(&raw, &v, 4);
        append_big_endian(file, raw, 4);
        expected.push_back(v);
      } else if (c.code == 0x0E) {
        const double v = static_cast<double>(static_cast<int64_t>(bits % 2000001) - 1000000) / 7.0;
        uint64_t raw;
        std::memcpy(&raw, &v, 8);
        append_big_endian(file, raw, 8);
        expected.push_back(v);
      } else {
        // Two's complement of the low `bytes` bytes, sign-extended for the signed types.
        const uint64_t raw = bits & ((c.bytes == 8 ? 0 : (uint64_t{1} << (8 * c.bytes))) - 1);
        append_big_endian(file, raw, c.bytes);
        const bool negative = c.code != 0x08 && (raw >> (8 * c.bytes - 1)) != 0;
        expected.push_back(negative ? static_cast<double>(static_cast<int64_t>(raw) -
                                                          (int64_t{1} << (8 * c.bytes)))
                                    : static_cast<double>(raw));
      }
    }
    const auto plain = dir / "plain.idx";
    const auto gzipped = dir / "packed.idx.gz";
    test::write_bytes(plain, file);
    test::write_gzip(gzipped, file, 3);  // three concatenated gzip members
    for (const auto& path : {plain, gzipped}) {
      const Tensor t = load_idx(path);
      EXPECT_EQ(t.dtype(), c.dtype) << int{c.code};
      EXPECT_EQ(t.shape(), Dims({3, 4, 5}));
      EXPECT_EQ(t.to_vector<double>(), expected) << "type 0x" << std::hex << int{c.code};
    }
  }
}

TEST(Idx, RejectsMalformedFiles) {
  test::ScratchDir dir;
  const auto path = dir / "bad.idx";
  auto expect_io_error = [&](const std::string& bytes, const std::string& fragment) {
    test::write_bytes(path, bytes);
    try {
      load_idx(path);
      ADD_FAILURE() << "expected IoError containing '" << fragment << "'";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  const std::string good = idx_header(0x08, {2, 2}) + std::string(4, '\x07');
  expect_io_error(good.substr(0, 3), "truncated");
  expect_io_error(good.substr(0, 10), "truncated");
  expect_io_error(good.substr(0, good.size() - 1), "needs 4 data bytes");
  expect_io_error(good + "x", "needs 4 data bytes");
  expect_io_error("\x01" + good.substr(1), "not an IDX file");
  expect_io_error(idx_header(0x0A, {1}) + "x", "unknown IDX element type");
  // Extents whose product overflows, and a huge claim against a tiny file.
  expect_io_error(idx_header(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}), "overflows");
  expect_io_error(idx_header(0x08, {0xFFFFFFFF, 0x10}), "needs");
  std::string gz_truncated;
  test::write_gzip(path, good);
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    gz_truncated = s.str().substr(0, s.str().size() - 6);
  }
  expect_io_error(gz_truncated, "");
  expect_io_error(std::string("\x1f\x8b") + "garbage that is no deflate stream", "");
  EXPECT_THROW(load_idx(dir / "missing.idx"), IoError);
  // Empty extents are fine.
  test::write_bytes(path, idx_header(0x0C, {0, 5}));
  EXPECT_EQ(load_idx(path).shape(), Dims({0, 5}));
}

TEST(Idx, MnistLikeLayoutWithAPrefix) {
  test::ScratchDir dir;
  std::mt19937 gen(3);
  for (const std::string split : {"train", "t10k"}) {
    const uint32_t count = split == "train" ? 5 : 3;
    std::string images = idx_header(0x08, {count, 28, 28}), labels = idx_header(0x08, {count});
    for (uint32_t i = 0; i < count * 28 * 28; ++i) images += static_cast<char>(gen() & 0xff);
    for (uint32_t i = 0; i < count; ++i) labels += static_cast<char>(gen() % 10);
    test::write_gzip(dir / ("emnist-" + split + "-images-idx3-ubyte.gz"), images);
    test::write_bytes(dir / ("emnist-" + split + "-labels-idx1-ubyte"), labels);  // not gzipped
  }
  const MnistLikeData data = load_mnist_like(dir.path(), "emnist-");
  EXPECT_EQ(data.train.images.shape(), Dims({5, 28, 28}));
  EXPECT_EQ(data.test.images.shape(), Dims({3, 28, 28}));
  EXPECT_EQ(data.train.labels.dtype(), DType::I64);
  EXPECT_EQ(load_mnist_like(dir.path(), "emnist-", DType::U8).test.labels.dtype(), DType::U8);
  EXPECT_THROW(load_mnist_like(dir.path(), "emnist-", DType::F32), InvalidArgument);
  EXPECT_THROW(load_mnist_like(dir.path(), "missing-"), IoError);
  // Counts that disagree.
  test::write_bytes(dir / "emnist-t10k-labels-idx1-ubyte", idx_header(0x08, {2}) + "\x01\x02");
  EXPECT_THROW(load_mnist_like(dir.path(), "emnist-"), IoError);
}

TEST(Idx, FashionMnistMatchesNumpy) {
  const std::filesystem::path root = TF_TEST_FASHION_MNIST_DIR;
  if (!std::filesystem::exists(root / "train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)";
  }
  if (!test::python_available()) GTEST_SKIP() << "no Python venv at " << TF_TEST_PYTHON;
  const MnistLikeData data = load_fashion_mnist(root);
  ASSERT_EQ(data.train.images.shape(), Dims({60000, 28, 28}));
  ASSERT_EQ(data.test.images.shape(), Dims({10000, 28, 28}));
  ASSERT_EQ(data.train.labels.shape(), Dims({60000}));
  // NumPy reads the same files its own way (gzip module, fixed header offsets) and prints
  // statistics that any misplaced byte changes.
  test::ScratchDir dir;
  const std::string out = test::run_python(dir, R"(
import gzip, numpy as np
root = ")" + root.string() + R"("
for split in ("train", "t10k"):
    img = np.frombuffer(gzip.open(f"{root}/{split}-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    lab = np.frombuffer(gzip.open(f"{root}/{split}-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    flat = img.reshape(len(lab), -1).astype(np.uint64)
    weights = (np.arange(flat.shape[1], dtype=np.uint64) % 13) + 1
    print(len(lab), int(flat[0].sum()), int(flat.sum()), int((flat * weights).sum() % 1000000007),
          int((flat.sum(1) * (np.arange(len(lab), dtype=np.uint64) % 9973)).sum()),
          int((lab.astype(np.uint64) * np.arange(len(lab), dtype=np.uint64)).sum()),
          *np.bincount(lab, minlength=10).tolist())
)");
  std::istringstream lines(out);
  for (const ImageLabelSplit* split : {&data.train, &data.test}) {
    const std::vector<uint8_t> pixels = split->images.to_vector<uint8_t>();
    const std::vector<int64_t> labels = split->labels.to_vector<int64_t>();
    const size_t n = labels.size(), per = 28 * 28;
    uint64_t first = 0, total = 0, weighted = 0, by_image = 0, label_moment = 0;
    std::vector<uint64_t> counts(10, 0);
    for (size_t i = 0; i < n; ++i) {
      uint64_t image_sum = 0;
      for (size_t p = 0; p < per; ++p) {
        const uint64_t v = pixels[i * per + p];
        image_sum += v;
        weighted = (weighted + v * (p % 13 + 1)) % 1000000007;
      }
      if (i == 0) first = image_sum;
      total += image_sum;
      by_image += image_sum * (i % 9973);
      ASSERT_GE(labels[i], 0);
      ASSERT_LE(labels[i], 9);
      label_moment += static_cast<uint64_t>(labels[i]) * i;
      ++counts[static_cast<size_t>(labels[i])];
    }
    uint64_t py_n, py_first, py_total, py_weighted, py_by_image, py_label_moment;
    ASSERT_TRUE(lines >> py_n >> py_first >> py_total >> py_weighted >> py_by_image >>
                py_label_moment)
        << out;
    EXPECT_EQ(n, py_n);
    EXPECT_EQ(first, py_first);
    EXPECT_EQ(total, py_total);
    EXPECT_EQ(weighted, py_weighted);
    EXPECT_EQ(by_image, py_by_image);
    EXPECT_EQ(label_moment, py_label_moment);
    for (uint64_t& c : counts) {
      uint64_t py_count;
      ASSERT_TRUE(lines >> py_count);
      EXPECT_EQ(c, py_count);
    }
  }
}

}  // namespace
}  // namespace tenflowers::data
