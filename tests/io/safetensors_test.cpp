// Safetensors: round trips of every dtype and layout, the file layout itself, load_into's
// collected mismatches, strict validation of hand-made malformed files, a mutation fuzz loop,
// and interop with the Python safetensors package.
#include "tenflowers/io/safetensors.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tenflowers/io/file.hpp"
#include "tests/support/reference.hpp"
#include "tests/support/scratch_dir.hpp"

namespace tf = tenflowers;
using tf::DType;
using tf::Tensor;
using tf::io::NamedTensors;
using tf::testing::Layout;
using tf::testing::Ref;
using tf::testing::Rng;
using Json = nlohmann::json;

namespace {

const std::vector<DType> kAllDTypes = {DType::Bool, DType::U8,   DType::I8,  DType::I32, DType::I64,
                                       DType::F16,  DType::BF16, DType::F32, DType::F64};

Tensor random_of(Rng& rng, const std::vector<int64_t>& shape, DType dtype, Layout layout) {
  switch (dtype) {
    case DType::U8:
      return tf::testing::random_tensor(rng, shape, dtype, 0, 255, layout);
    case DType::I8:
      return tf::testing::random_tensor(rng, shape, dtype, -128, 127, layout);
    case DType::I32:
    case DType::I64:
      return tf::testing::random_tensor(rng, shape, dtype, -1e6, 1e6, layout);
    default:
      return tf::testing::random_tensor(rng, shape, dtype, -100, 100, layout);
  }
}

// Random tensors of every dtype in the given dtypes, each in several shapes (0-d and empty
// included) and layouts, under unique names.
NamedTensors random_named(Rng& rng, const std::vector<DType>& dtypes) {
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {3, 0, 2}, {7}, {4, 5}, {2, 3, 4}};
  const Layout layouts[] = {Layout::Contiguous, Layout::Transposed, Layout::Strided};
  NamedTensors named;
  for (DType dtype : dtypes) {
    for (size_t s = 0; s < shapes.size(); ++s) {
      const Layout layout = layouts[(s + named.size()) % 3];
      named.emplace_back(std::string(tf::dtype_name(dtype)) + ".t" + std::to_string(s),
                         random_of(rng, shapes[s], dtype, layout));
    }
  }
  return named;
}

void expect_same(const Tensor& actual, const Tensor& expected, const std::string& what) {
  EXPECT_EQ(actual.dtype(), expected.dtype()) << what;
  EXPECT_EQ(actual.shape(), expected.shape()) << what;
  EXPECT_EQ(tf::testing::to_ref(actual).data, tf::testing::to_ref(expected).data) << what;
}

const Tensor& find(const NamedTensors& named, const std::string& name) {
  for (const auto& [n, t] : named) {
    if (n == name) return t;
  }
  throw std::runtime_error("no tensor named " + name);
}

// The file's header as JSON (bytes 8 .. 8 + N).
Json header_of(const std::vector<std::byte>& bytes) {
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
  return Json::parse(text, text + n);
}

// A file with the given header text and data buffer.
std::vector<std::byte> make_file(const std::string& header, size_t data_bytes, uint8_t fill = 0) {
  std::vector<std::byte> bytes(8 + header.size() + data_bytes, std::byte{fill});
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  return bytes;
}

}  // namespace

TEST(Safetensors, RoundTripsEveryDtypeShapeAndLayout) {
  Rng rng = Rng::for_test();
  const tf::testing::ScratchDir dir;
  const NamedTensors named = random_named(rng, kAllDTypes);
  const tf::io::SafetensorsMetadata metadata = {{"format", "pt"}, {"note", "ünïcode \"q\"\n"}};
  tf::io::save_safetensors(dir / "a.safetensors", named, metadata);
  const auto loaded = tf::io::load_safetensors(dir / "a.safetensors");
  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), named.size());
  for (size_t i = 1; i < loaded.tensors.size(); ++i) {
    EXPECT_LT(loaded.tensors[i - 1].first, loaded.tensors[i].first);
  }
  for (const auto& [name, tensor] : named) {
    const Tensor& back = find(loaded.tensors, name);
    // (Tensor::is_contiguous() says false for some empty shapes such as [3, 0, 2].)
    EXPECT_TRUE(back.numel() == 0 || back.is_contiguous()) << name;
    EXPECT_TRUE(back.device().is_cpu());
    expect_same(back, tensor, name);
  }
}

TEST(Safetensors, LayoutIsThePythonPackagesDeterministicOne) {
  Rng rng = Rng::for_test();
  NamedTensors named = random_named(rng, kAllDTypes);
  const auto bytes = tf::io::serialize_safetensors(named, {{"k", "v"}});
  std::reverse(named.begin(), named.end());
  EXPECT_EQ(tf::io::serialize_safetensors(named, {{"k", "v"}}), bytes);

  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  const std::string header(reinterpret_cast<const char*>(bytes.data() + 8), n);
  EXPECT_EQ(header.rfind("{\"__metadata__\":{\"k\":\"v\"},", 0), 0u) << header;
  const size_t end = header.find_last_not_of(' ');
  EXPECT_EQ(header[end], '}');
  EXPECT_LT(n - (end + 1), 8u);

  // Data follows the header in order of decreasing item size, then name, with no gaps, so
  // each tensor starts at a multiple of its item size.
  const Json parsed = header_of(bytes);
  std::vector<std::tuple<uint64_t, uint64_t, size_t, std::string>> ranges;
  for (const auto& [name, info] : parsed.items()) {
    if (name == "__metadata__") continue;
    const size_t itemsize = tf::dtype_size(find(named, name).dtype());
    ranges.emplace_back(info["data_offsets"][0].get<uint64_t>(),
                        info["data_offsets"][1].get<uint64_t>(), itemsize, name);
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const auto& [begin, end_offset, itemsize, name] = ranges[i];
    EXPECT_EQ(begin, covered) << name;
    EXPECT_EQ(begin % itemsize, 0u) << name;
    covered = end_offset;
  }
  EXPECT_EQ(8 + n + covered, bytes.size());
}

TEST(Safetensors, SaveRejectsBadNames) {
  const Tensor t = tf::ones({2});
  EXPECT_THROW(tf::io::serialize_safetensors({{"a", t}, {"a", t}}), tf::InvalidArgument);
  EXPECT_THROW(tf::io::serialize_safetensors({{"__metadata__", t}}), tf::InvalidArgument);
  EXPECT_THROW(tf::io::serialize_safetensors({{"a", Tensor()}}), tf::InvalidArgument);
  EXPECT_THROW(tf::io::serialize_safetensors({{"bad\xff", t}}), tf::InvalidArgument);
  EXPECT_THROW(tf::io::serialize_safetensors({{"a", t}}, {{"k", "\xc3"}}), tf::InvalidArgument);
}

TEST(Safetensors, LoadIntoCopiesInPlaceKeepingVariableIdentity) {
  Rng rng = Rng::for_test();
  const tf::testing::ScratchDir dir;
  const NamedTensors named = random_named(rng, {DType::F32, DType::I64, DType::BF16});
  tf::io::save_safetensors(dir / "w.safetensors", named);

  std::vector<tf::Variable> variables;
  std::vector<std::pair<std::string, Tensor>> targets;
  for (const auto& [name, tensor] : named) {
    variables.emplace_back(tf::zeros_like(tensor), name);
    targets.emplace_back(name, variables.back().handle());
  }
  tf::io::load_into(dir / "w.safetensors", targets);
  for (size_t i = 0; i < named.size(); ++i) {
    EXPECT_TRUE(variables[i].handle().shares_storage(targets[i].second));
    expect_same(variables[i].value(), named[i].second, named[i].first);
  }

  // Not strict: the file may hold more than the targets.
  std::vector<std::pair<std::string, Tensor>> some = {
      {named[3].first, tf::zeros_like(named[3].second)}};
  EXPECT_THROW(tf::io::load_into(dir / "w.safetensors", some), tf::InvalidArgument);
  tf::io::load_into(dir / "w.safetensors", some, false);
  expect_same(some[0].second, named[3].second, named[3].first);
}

TEST(Safetensors, LoadIntoListsEveryMismatchAndWritesNothing) {
  const tf::testing::ScratchDir dir;
  tf::io::save_safetensors(dir / "m.safetensors", {{"w", tf::ones({2, 3})},
                                                   {"b", tf::ones({3})},
                                                   {"steps", tf::ones({}, DType::I64)},
                                                   {"extra", tf::ones({1})},
                                                   {"ok", tf::ones({4})}});
  std::vector<std::pair<std::string, Tensor>> targets = {{"w", tf::zeros({3, 2})},
                                                         {"b", tf::zeros({3}, DType::F64)},
                                                         {"steps", tf::zeros({1}, DType::I32)},
                                                         {"ok", tf::zeros({4})},
                                                         {"missing", tf::zeros({1})},
                                                         {"ok", tf::zeros({4})}};
  try {
    tf::io::load_into(dir / "m.safetensors", targets);
    FAIL() << "mismatches were accepted";
  } catch (const tf::InvalidArgument& e) {
    const std::string message = e.what();
    for (const char* expected :
         {"7 problem(s)", "'w': shape [2, 3] in the file, target has [3, 2]",
          "'b': dtype f32 in the file, target has f64",
          "'steps': shape [] in the file, target has [1]",
          "'steps': dtype i64 in the file, target has i32", "'missing': missing from the file",
          "'ok': named by more than one target", "'extra': in the file but not among"}) {
      EXPECT_NE(message.find(expected), std::string::npos) << expected << "\n" << message;
    }
  }
  for (const auto& [name, target] : targets) {
    EXPECT_EQ(tf::sum(tf::abs(target.cast(DType::F64))).item<double>(), 0.0) << name;
  }
  std::vector<std::pair<std::string, Tensor>> strided = {{"w", tf::zeros({3, 2}).transpose()},
                                                         {"b", tf::zeros({3})}};
  EXPECT_THROW(tf::io::load_into(dir / "m.safetensors", strided, false), tf::InvalidArgument);
}

namespace {

struct Malformed {
  std::string what;
  std::vector<std::byte> bytes;
  std::string message;  // a part of the expected IoError message
};

std::string entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

std::vector<Malformed> malformed_files() {
  std::vector<Malformed> cases;
  auto header_only = [](const std::string& h, size_t data) { return make_file(h, data); };
  cases.push_back({"short", std::vector<std::byte>(5), "fewer than the 8-byte header length"});
  auto too_long = make_file("{}", 0);
  too_long[0] = std::byte{50};
  cases.push_back({"header past end", too_long, "runs past the end of the 10-byte file"});
  auto huge = make_file("{}", 0);
  const uint64_t big = 100'000'001;
  std::memcpy(huge.data(), &big, 8);
  cases.push_back({"header over limit", huge, "exceeds the limit"});
  cases.push_back({"not json", header_only("{\"a\":", 0), "not valid JSON"});
  cases.push_back({"empty header", header_only("", 0), "not valid JSON"});
  cases.push_back({"bad utf8", header_only("{\"a\xff\":1}", 0), "not valid JSON"});
  cases.push_back({"array", header_only("[1,2]", 0), "must be a JSON object"});
  cases.push_back({"entry not object", header_only("{\"a\":3}", 0), "'a': expected an object"});
  cases.push_back({"unknown dtype", header_only("{\"a\":" + entry("F33", "[1]", "[0,4]") + "}", 4),
                   "'a': unknown dtype \"F33\""});
  cases.push_back(
      {"dtype not string",
       header_only("{\"a\":" + entry("F32", "[1]", "[0,4]").replace(9, 5, "7") + "}", 4),
       "dtype must be a string"});
  cases.push_back({"negative extent",
                   header_only("{\"a\":" + entry("F32", "[-1]", "[0,4]") + "}", 4),
                   "shape must hold non-negative integers, got -1"});
  cases.push_back({"fractional extent",
                   header_only("{\"a\":" + entry("F32", "[1.5]", "[0,4]") + "}", 4),
                   "shape must hold non-negative integers"});
  cases.push_back(
      {"extent overflow",
       header_only("{\"a\":" + entry("U8", "[0,4294967296,4294967296]", "[0,0]") + "}", 0),
       "more elements than int64 can count"});
  cases.push_back({"size mismatch", header_only("{\"a\":" + entry("F32", "[2]", "[0,4]") + "}", 4),
                   "'a': data_offsets [0,4] span 4 bytes but shape [2] of F32 needs 2 x 4"});
  cases.push_back({"reversed offsets",
                   header_only("{\"a\":" + entry("U8", "[0]", "[4,0]") + "}", 4),
                   "end before they begin"});
  cases.push_back({"offsets not a pair",
                   header_only("{\"a\":" + entry("U8", "[0]", "[0]") + "}", 0),
                   "data_offsets must be [begin, end]"});
  cases.push_back({"past buffer", header_only("{\"a\":" + entry("F32", "[2]", "[0,8]") + "}", 4),
                   "run past the end of the 4-byte data buffer"});
  cases.push_back({"overlap",
                   header_only("{\"a\":" + entry("F32", "[2]", "[0,8]") +
                                   ",\"b\":" + entry("F32", "[1]", "[4,8]") + "}",
                               8),
                   "overlap tensor 'a'"});
  cases.push_back({"gap",
                   header_only("{\"a\":" + entry("F32", "[1]", "[0,4]") +
                                   ",\"b\":" + entry("F32", "[1]", "[8,12]") + "}",
                               12),
                   "bytes [4, 8) of the data buffer belong to no tensor"});
  cases.push_back({"trailing bytes", header_only("{\"a\":" + entry("F32", "[1]", "[0,4]") + "}", 6),
                   "bytes [4, 6) of the data buffer belong to no tensor"});
  cases.push_back({"duplicate name",
                   header_only("{\"a\":" + entry("U8", "[1]", "[0,1]") +
                                   ",\"a\":" + entry("U8", "[1]", "[1,2]") + "}",
                               2),
                   "names tensor 'a' twice"});
  cases.push_back({"missing key", header_only("{\"a\":{\"dtype\":\"U8\",\"shape\":[0]}}", 0),
                   "'a': missing key 'data_offsets'"});
  cases.push_back(
      {"extra key",
       header_only("{\"a\":" + entry("U8", "[0]", "[0,0]").insert(1, "\"x\":1,") + "}", 0),
       "'a': unexpected key 'x'"});
  cases.push_back({"metadata not strings", header_only("{\"__metadata__\":{\"k\":1}}", 0),
                   "__metadata__ value of 'k' must be a string"});
  cases.push_back({"metadata not object", header_only("{\"__metadata__\":[]}", 0),
                   "__metadata__ must be an object"});
  auto bad_bool = make_file("{\"a\":" + entry("BOOL", "[3]", "[0,3]") + "}", 3, 1);
  bad_bool.back() = std::byte{2};
  cases.push_back({"bool byte", bad_bool, "'a': BOOL element 2 is 2"});
  return cases;
}

}  // namespace

TEST(Safetensors, MalformedFilesThrowIoErrorsSayingWhatAndWhere) {
  for (const Malformed& c : malformed_files()) {
    try {
      tf::io::parse_safetensors(c.bytes, "case.safetensors");
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const tf::IoError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("'case.safetensors'"), std::string::npos) << c.what << ": " << message;
      EXPECT_NE(message.find(c.message), std::string::npos) << c.what << ": " << message;
    }
  }
}

TEST(Safetensors, DtypesTenflowersLacksThrowUnsupportedErrorNamingThem) {
  for (const char* dtype : {"F8_E4M3", "F8_E5M2", "I16", "U16", "U32", "U64"}) {
    const auto bytes = make_file("{\"w\":" + entry(dtype, "[0]", "[0,0]") + "}", 0);
    try {
      tf::io::parse_safetensors(bytes);
      ADD_FAILURE() << dtype << " accepted";
    } catch (const tf::UnsupportedError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'w' has dtype ") + dtype),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(Safetensors, MutatedFilesThrowOnlyTypedErrors) {
  Rng rng = Rng::for_test();
  const tf::testing::ScratchDir dir;
  const auto valid = tf::io::serialize_safetensors(
      random_named(rng, {DType::Bool, DType::I8, DType::F32, DType::BF16}),
      {{"format", "np"}, {"step", "12"}});
  uint64_t header_size;
  std::memcpy(&header_size, valid.data(), 8);
  int accepted = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    std::vector<std::byte> bytes = valid;
    const int mutations = static_cast<int>(rng.integer(1, 4));
    for (int m = 0; m < mutations; ++m) {
      // Most mutations land in the header, where the parser's decisions are.
      const bool in_header = rng.integer(0, 3) > 0 && header_size > 0;
      const auto position = [&]() -> size_t {
        if (bytes.empty()) return 0;
        const size_t limit =
            in_header ? std::min<size_t>(bytes.size(), 8 + header_size) : bytes.size();
        return static_cast<size_t>(rng.integer(0, static_cast<int64_t>(limit) - 1));
      };
      switch (rng.integer(0, 5)) {
        case 0:  // random byte
          if (!bytes.empty()) bytes[position()] = std::byte(rng.integer(0, 255));
          break;
        case 1:  // bit flip
          if (!bytes.empty()) bytes[position()] ^= std::byte(1u << rng.integer(0, 7));
          break;
        case 2:  // truncation
          bytes.resize(static_cast<size_t>(rng.integer(0, static_cast<int64_t>(bytes.size()))));
          break;
        case 3:  // deletion
          if (!bytes.empty()) bytes.erase(bytes.begin() + static_cast<ptrdiff_t>(position()));
          break;
        case 4:  // insertion of a JSON-significant or digit character
          bytes.insert(bytes.begin() + static_cast<ptrdiff_t>(position()),
                       std::byte("{}[]\",:-0123456789e. "[rng.integer(0, 21)]));
          break;
        default:  // a digit of an offset or extent replaced by another digit
          if (!bytes.empty()) {
            const size_t at = position();
            if (std::isdigit(static_cast<int>(bytes[at])))
              bytes[at] = std::byte('0' + rng.integer(0, 9));
          }
      }
    }
    try {
      const auto contents = iteration % 100 == 0
                                ? (tf::io::write_file_atomic(dir / "f.safetensors", bytes),
                                   tf::io::load_safetensors(dir / "f.safetensors"))
                                : tf::io::parse_safetensors(bytes);
      // Whatever parses is self-consistent: the tensors' bytes fill the file after the header.
      uint64_t n, total = 0;
      std::memcpy(&n, bytes.data(), 8);
      for (const auto& [name, t] : contents.tensors) total += t.nbytes();
      EXPECT_EQ(8 + n + total, bytes.size());
      ++accepted;
    } catch (const tf::IoError&) {
    } catch (const tf::UnsupportedError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "iteration " << iteration << ": untyped error " << e.what();
    }
  }
  RecordProperty("accepted", accepted);
}

TEST(Safetensors, InteropWithThePythonPackage) {
  const std::filesystem::path python = TF_TEST_PYTHON;
  if (!std::filesystem::exists(python)) GTEST_SKIP() << python << " does not exist";
  const std::filesystem::path script =
      std::filesystem::path(TF_TEST_SOURCE_DIR) / "tests/io/safetensors_interop.py";
  Rng rng = Rng::for_test();
  const tf::testing::ScratchDir dir;
  // numpy has no bfloat16, so BF16 goes through the package's framework-free API in a file of
  // its own.
  std::vector<DType> numpy_dtypes = kAllDTypes;
  std::erase(numpy_dtypes, DType::BF16);
  const NamedTensors named = random_named(rng, numpy_dtypes);
  const NamedTensors bf16 = random_named(rng, {DType::BF16});
  const tf::io::SafetensorsMetadata metadata = {
      {"format", "np"}, {"epoch", "7"}, {"note", "ünïcode \"quoted\"\n"}};
  tf::io::save_safetensors(dir / "cpp.safetensors", named, metadata);
  tf::io::save_safetensors(dir / "cpp_bf16.safetensors", bf16, metadata);
  const std::string expected_metadata = Json(metadata).dump();
  tf::io::write_file_atomic(dir / "expected_metadata.json",
                            std::as_bytes(std::span(expected_metadata)));

  const std::string command = python.string() + " " + script.string() + " " + dir.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  // The package wrote back with metadata {"format": "np"}: the very bytes we would write.
  for (const auto& [file, tensors] :
       {std::pair{"py_same.safetensors", named}, std::pair{"py_same_bf16.safetensors", bf16}}) {
    EXPECT_EQ(tf::io::read_file(dir / file),
              tf::io::serialize_safetensors(tensors, {{"format", "np"}}))
        << file;
  }
  for (const auto& [same_file, negated_file, tensors] :
       {std::tuple{"py_same.safetensors", "py_negated.safetensors", named},
        std::tuple{"py_same_bf16.safetensors", "py_negated_bf16.safetensors", bf16}}) {
    const auto same = tf::io::load_safetensors(dir / same_file);
    const auto negated = tf::io::load_safetensors(dir / negated_file);
    ASSERT_EQ(same.tensors.size(), tensors.size());
    ASSERT_EQ(negated.tensors.size(), tensors.size());
    for (const auto& [name, tensor] : tensors) {
      expect_same(find(same.tensors, name), tensor, name);
      // Negation as NumPy does it: integers wrap around, booleans flip, floats change sign.
      Ref expected = tf::testing::to_ref(tensor);
      for (double& v : expected.data) {
        switch (tensor.dtype()) {
          case DType::Bool:
            v = 1 - v;
            break;
          case DType::U8:
            v = static_cast<double>(static_cast<uint8_t>(-static_cast<int>(v)));
            break;
          case DType::I8:
            v = static_cast<double>(static_cast<int8_t>(-static_cast<int>(v)));
            break;
          default:
            v = -v;
        }
      }
      const Tensor back = find(negated.tensors, name);
      EXPECT_EQ(back.dtype(), tensor.dtype()) << name;
      EXPECT_EQ(back.shape(), tensor.shape()) << name;
      EXPECT_EQ(tf::testing::to_ref(back).data, expected.data) << name;
    }
  }
}
