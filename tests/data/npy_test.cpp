#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <sstream>

#include "tenflowers/core/ops.hpp"
#include "tenflowers/data/readers.hpp"
#include "tests/data/test_util.hpp"

namespace tenflowers::data {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The tensor's elements as C-order little-endian bytes (the test machine is little-endian).
std::string contiguous_bytes(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

// A random tensor of the dtype (bools 0/1, integers over their range, floats with fractions).
Tensor random_tensor(DType dtype, Dims shape, uint64_t seed) {
  const Tensor u = uniform(shape, -100.0, 100.0, DType::F64, seed);
  if (dtype == DType::Bool) return u > zeros({}, DType::F64);
  if (is_floating(dtype)) return u.cast(dtype);
  return (u * 1.27).cast(dtype);
}

// Writes a Python list of (name, np.dtype string, shape tuple) for the oracle scripts.
const std::vector<std::pair<DType, std::string>> kNumpyTypes = {
    {DType::Bool, "|b1"}, {DType::U8, "|u1"},  {DType::I8, "|i1"},  {DType::I32, "<i4"},
    {DType::I64, "<i8"},  {DType::F16, "<f2"}, {DType::F32, "<f4"}, {DType::F64, "<f8"}};

TEST(Npy, ReadsWhatNumpyWrites) {
  if (!test::python_available()) GTEST_SKIP() << "no Python venv at " << TF_TEST_PYTHON;
  test::ScratchDir dir;
  // NumPy writes each case as .npy (several versions, byte orders and layouts) and the expected
  // C-order little-endian bytes as .raw, plus the shape.
  const std::string out = test::run_python(dir, R"(
import numpy as np, os
os.chdir(")" + dir.path().string() + R"(")
rng = np.random.default_rng(7)
def values(descr, shape):
    kind = np.dtype(descr).kind
    if kind == "b": return rng.integers(0, 2, shape).astype(descr)
    if kind in "iu":
        info = np.iinfo(np.dtype(descr))
        return rng.integers(info.min, info.max, shape, endpoint=True).astype(descr)
    return (rng.standard_normal(shape) * 100).astype(descr)
cases = []
for descr in ["|b1", "|u1", "|i1", "<i4", "<i8", "<f2", "<f4", "<f8", ">i4", ">i8", ">f2", ">f4", ">f8"]:
    for shape in [(3, 4), (), (0, 5), (2, 3, 4), (7,)]:
        cases.append((descr, shape, False, (1, 0)))
    cases.append((descr, (2, 3, 4), True, (1, 0)))
    cases.append((descr, (5, 2), False, (2, 0)))
    cases.append((descr, (5, 2), True, (3, 0)))
for i, (descr, shape, fortran, version) in enumerate(cases):
    a = values(descr, shape)
    if fortran: a = np.asfortranarray(a)
    with open(f"case{i}.npy", "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    np.ascontiguousarray(a).astype(np.dtype(descr).newbyteorder("<")).tofile(f"case{i}.raw")
    print(i, descr, len(shape), *shape)
)");
  std::istringstream lines(out);
  int cases = 0;
  for (int index; lines >> index; ++cases) {
    std::string descr;
    int rank;
    lines >> descr >> rank;
    Dims shape;
    for (int d = 0; d < rank; ++d) {
      int64_t extent;
      lines >> extent;
      shape.push_back(extent);
    }
    const std::string name = "case" + std::to_string(index);
    const Tensor t = load_npy(dir / (name + ".npy"));
    EXPECT_EQ(t.shape(), shape) << name << " " << descr;
    EXPECT_TRUE(t.is_contiguous());
    const auto expected_type = std::find_if(kNumpyTypes.begin(), kNumpyTypes.end(), [&](auto& p) {
      return p.second.substr(1) == descr.substr(1);
    });
    ASSERT_NE(expected_type, kNumpyTypes.end());
    EXPECT_EQ(t.dtype(), expected_type->first) << name;
    EXPECT_EQ(contiguous_bytes(t), read_text(dir / (name + ".raw"))) << name << " " << descr;
  }
  EXPECT_EQ(cases, 13 * 8);
}

TEST(Npy, NumpyReadsWhatWeWrite) {
  if (!test::python_available()) GTEST_SKIP() << "no Python venv at " << TF_TEST_PYTHON;
  test::ScratchDir dir;
  std::vector<std::pair<std::string, Tensor>> arrays;
  uint64_t seed = 1;
  for (const auto& [dtype, descr] : kNumpyTypes) {
    const std::string base = std::string(dtype_name(dtype));
    arrays.emplace_back(base + "_matrix", random_tensor(dtype, {4, 3}, seed++));
    arrays.emplace_back(base + "_scalar", random_tensor(dtype, {}, seed++));
    arrays.emplace_back(base + "_empty", random_tensor(dtype, {0, 2}, seed++));
    // A transposed view: written in C order of the view.
    arrays.emplace_back(base + "_view", random_tensor(dtype, {3, 5, 2}, seed++).transpose(0, 2));
  }
  for (const auto& [name, t] : arrays) save_npy(dir / (name + ".npy"), t);
  save_npz(dir / "stored.npz", arrays);
  save_npz(dir / "deflated.npz", arrays, true);
  save_npz(dir / "none.npz", {});
  std::string names;
  for (const auto& [name, t] : arrays) names += "\"" + name + "\", ";
  const std::string out = test::run_python(dir, R"(
import numpy as np, os, zipfile
os.chdir(")" + dir.path().string() + R"(")
names = [)" + names + R"(]
for source in ["npy", "stored.npz", "deflated.npz"]:
    archive = None if source == "npy" else np.load(source)
    if archive is not None:
        assert list(archive.keys()) == names, archive.keys()
        method = zipfile.ZIP_STORED if source == "stored.npz" else zipfile.ZIP_DEFLATED
        assert all(i.compress_type == method for i in zipfile.ZipFile(source).infolist())
    for name in names:
        a = np.load(name + ".npy") if archive is None else archive[name]
        np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tofile(f"{source}.{name}.raw")
        print(source, name, a.dtype.str, a.ndim, *a.shape)
assert len(np.load("none.npz").files) == 0
)");
  std::istringstream lines(out);
  size_t checked = 0;
  for (std::string source, name, descr; lines >> source >> name >> descr; ++checked) {
    int rank;
    lines >> rank;
    Dims shape;
    for (int d = 0; d < rank; ++d) {
      int64_t extent;
      lines >> extent;
      shape.push_back(extent);
    }
    const auto it =
        std::find_if(arrays.begin(), arrays.end(), [&](const auto& a) { return a.first == name; });
    ASSERT_NE(it, arrays.end()) << name;
    const Tensor& t = it->second;
    const auto type = std::find_if(kNumpyTypes.begin(), kNumpyTypes.end(),
                                   [&](auto& p) { return p.first == t.dtype(); });
    EXPECT_EQ(descr, type->second) << source << " " << name;
    EXPECT_EQ(shape, t.shape()) << source << " " << name;
    EXPECT_EQ(read_text(dir / (source + "." + name + ".raw")), contiguous_bytes(t))
        << source << " " << name;
  }
  EXPECT_EQ(checked, 3 * arrays.size());
}

TEST(Npy, RoundTripsEveryDtypeAndLoadsNpzInOrder) {
  test::ScratchDir dir;
  std::vector<std::pair<std::string, Tensor>> arrays;
  uint64_t seed = 100;
  for (const auto& [dtype, descr] : kNumpyTypes) {
    for (const Dims& shape : {Dims{2, 3}, Dims{}, Dims{0}, Dims{3, 1, 4}}) {
      const Tensor t = random_tensor(dtype, shape, seed++);
      save_npy(dir / "one.npy", t);
      const Tensor back = load_npy(dir / "one.npy");
      EXPECT_EQ(back.dtype(), dtype);
      EXPECT_EQ(back.shape(), shape);
      EXPECT_EQ(contiguous_bytes(back), contiguous_bytes(t));
      arrays.emplace_back(std::string("a").append(std::to_string(seed)), t);
    }
  }
  for (bool compressed : {false, true}) {
    save_npz(dir / "all.npz", arrays, compressed);
    const auto back = load_npz(dir / "all.npz");
    ASSERT_EQ(back.size(), arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
      EXPECT_EQ(back[i].first, arrays[i].first);
      EXPECT_EQ(back[i].second.shape(), arrays[i].second.shape());
      EXPECT_EQ(contiguous_bytes(back[i].second), contiguous_bytes(arrays[i].second));
    }
  }
  // Files are 64-byte aligned at the data, as NumPy writes them.
  save_npy(dir / "aligned.npy", zeros({3}));
  EXPECT_EQ(std::filesystem::file_size(dir / "aligned.npy"), 128u + 12u);
  // A header too long for version 1.0 (a rank-22000 shape) switches to version 2.0.
  const Tensor wide = zeros(Dims(std::vector<int64_t>(22000, 1)), DType::U8);
  save_npy(dir / "wide.npy", wide);
  EXPECT_EQ(read_text(dir / "wide.npy")[6], '\x02');
  EXPECT_EQ(load_npy(dir / "wide.npy").shape(), wide.shape());
}

TEST(Npy, RejectsWhatItCannotRepresent) {
  test::ScratchDir dir;
  EXPECT_THROW(save_npy(dir / "x.npy", zeros({2}, DType::BF16)), UnsupportedError);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.npy"));
  EXPECT_THROW(save_npz(dir / "x.npz", {{"a", zeros({1})}, {"a", zeros({1})}}), InvalidArgument);
  EXPECT_THROW(save_npz(dir / "x.npz", {{"", zeros({1})}}), InvalidArgument);
  EXPECT_THROW(load_npy(dir / "missing.npy"), IoError);
  EXPECT_THROW(load_npz(dir / "missing.npz"), IoError);
}

// A version 1.0 file with the given header dict and data.
std::string npy_file(const std::string& dict, const std::string& data, char major = 1) {
  std::string header = dict;
  header += '\n';
  std::string out = "\x93NUMPY";
  out += major;
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

TEST(Npy, RejectsMalformedFilesWithTypedErrors) {
  test::ScratchDir dir;
  const auto path = dir / "bad.npy";
  auto load = [&](const std::string& bytes) {
    test::write_bytes(path, bytes);
    return load_npy(path);
  };
  const std::string four_bytes(4, '\x01');
  EXPECT_EQ(load(npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", four_bytes))
                .item<int32_t>(),
            0x01010101);
  // Big-endian is converted.
  EXPECT_EQ(load(npy_file("{\"descr\": \">i4\", \"fortran_order\": False, \"shape\": (1,)}",
                          std::string("\x00\x00\x01\x02", 4)))
                .item<int32_t>(),
            0x0102);
  EXPECT_THROW(
      load(npy_file("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", four_bytes)),
      UnsupportedError);
  EXPECT_THROW(load(npy_file("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,)}",
                             four_bytes)),
               UnsupportedError);
  const std::vector<std::string> broken = {
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",  // too little data
      "{'descr': '<i4', 'fortran_order': False, 'shape': (), } x",  // text after the dict
      "{'descr': '<i4', 'fortran_order': False}",                   // no shape
      "{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': ()}",
      "{'descr': '<i4', 'fortran_order': Maybe, 'shape': ()}",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (-1,)}",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 99999999999999999999)}",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}",
      "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
      "{'descr': '<i4, 'fortran_order': False, 'shape': (1,)}",
      "['descr', '<i4']",
  };
  for (const std::string& dict : broken) {
    EXPECT_THROW(load(npy_file(dict, four_bytes)), IoError) << dict;
  }
  const std::string ok = "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }";
  EXPECT_THROW(load(npy_file(ok, four_bytes, 4)), IoError);  // version 4.0
  EXPECT_THROW(load(npy_file(ok, four_bytes).substr(0, 9)), IoError);
  std::string bad_magic = npy_file(ok, four_bytes);
  bad_magic[5] = 'Z';
  EXPECT_THROW(load(bad_magic), IoError);
  EXPECT_THROW(load(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}",
                             std::string("\x01\x02", 2))),
               IoError);  // a bool byte other than 0 or 1
  test::write_bytes(dir / "bad.npz", "PK\x03\x04 this is not a zip archive");
  EXPECT_THROW(load_npz(dir / "bad.npz"), IoError);
}

}  // namespace
}  // namespace tenflowers::data
