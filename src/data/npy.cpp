// NPY: the magic "\x93NUMPY", a version, a header length, a Python-literal dict header
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } and the raw data.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "src/data/byte_reader.hpp"
#include "src/data/npy_codec.hpp"
#include "tenflowers/data/readers.hpp"
#include "tenflowers/io/file.hpp"

namespace tenflowers::data {
namespace detail {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  Dims shape;
};

// A recursive-descent reader of the header dict: exactly the keys descr, fortran_order and
// shape, with a string, a boolean and a tuple of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        check_once(seen_descr, key);
        skip_space();
        TF_CHECK(peek() != '[', UnsupportedError, "'", what_,
                 "' holds a structured array (a list descr); only plain dtypes are supported");
        header.descr = parse_string();
      } else if (key == "fortran_order") {
        check_once(seen_fortran, key);
        header.fortran_order = parse_bool();
      } else if (key == "shape") {
        check_once(seen_shape, key);
        header.shape = parse_shape();
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the closing '}'");
    if (!seen_descr || !seen_fortran || !seen_shape) {
      fail("the keys descr, fortran_order and shape are all required");
    }
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw IoError(tenflowers::detail::concat("'", what_, "': bad NPY header at character ", pos_,
                                             ": ", message, " (header: ", text_, ")"));
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void check_once(bool& seen, const std::string& key) {
    if (seen) fail("duplicate key '" + key + "'");
    seen = true;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (text_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    fail("expected True or False");
  }
  Dims parse_shape() {
    expect('(');
    Dims shape;
    for (;;) {
      skip_space();
      if (peek() == ')') break;
      int64_t extent = 0;
      const auto [end, ec] =
          std::from_chars(text_.data() + pos_, text_.data() + text_.size(), extent);
      if (ec != std::errc() || extent < 0) fail("expected a non-negative 64-bit extent");
      pos_ = static_cast<size_t>(end - text_.data());
      shape.push_back(extent);
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape");
      }
    }
    ++pos_;
    return shape;
  }

  std::string_view text_;
  const std::string& what_;
  size_t pos_ = 0;
};

struct NpyType {
  DType dtype;
  std::endian order;
};

// descr: a byte-order character ('<', '>', '|' or '=') and a type code.
NpyType npy_type(const std::string& descr, const std::string& what) {
  static const std::pair<std::string_view, DType> kTypes[] = {
      {"b1", DType::Bool}, {"u1", DType::U8},  {"i1", DType::I8},  {"i4", DType::I32},
      {"i8", DType::I64},  {"f2", DType::F16}, {"f4", DType::F32}, {"f8", DType::F64}};
  if (descr.size() == 3 && std::string_view("<>|=").find(descr[0]) != std::string_view::npos) {
    const std::string_view code = std::string_view(descr).substr(1);
    for (const auto& [name, dtype] : kTypes) {
      if (code != name) continue;
      return {dtype, descr[0] == '>'   ? std::endian::big
                     : descr[0] == '<' ? std::endian::little
                                       : std::endian::native};
    }
  }
  throw UnsupportedError(
      tenflowers::detail::concat("'", what, "': NPY dtype '", descr,
                                 "' is not supported; expected one of b1 u1 i1 i4 i8 f2 "
                                 "f4 f8 with a byte order of <, > or |"));
}

char descr_order_char() {
  return std::endian::native == std::endian::little ? '<' : '>';
}

std::string descr_of(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return "|b1";
    case DType::U8:
      return "|u1";
    case DType::I8:
      return "|i1";
    case DType::I32:
      return std::string(1, descr_order_char()) + "i4";
    case DType::I64:
      return std::string(1, descr_order_char()) + "i8";
    case DType::F16:
      return std::string(1, descr_order_char()) + "f2";
    case DType::F32:
      return std::string(1, descr_order_char()) + "f4";
    case DType::F64:
      return std::string(1, descr_order_char()) + "f8";
    default:
      throw UnsupportedError(tenflowers::detail::concat("NPY has no type for ", dtype_name(dtype),
                                                        "; cast to f32 (or f16) before saving"));
  }
}

}  // namespace

Tensor decode_npy(std::span<const std::byte> bytes, const std::string& what) {
  ByteReader in(bytes, what);
  const auto magic = in.take(kMagic.size(), "the NPY magic string");
  TF_CHECK(std::memcmp(magic.data(), kMagic.data(), kMagic.size()) == 0, IoError, "'", what,
           "' is not an NPY file: it does not start with \\x93NUMPY");
  const auto major = static_cast<uint8_t>(in.take(1, "the NPY version")[0]);
  const auto minor = static_cast<uint8_t>(in.take(1, "the NPY version")[0]);
  TF_CHECK(major >= 1 && major <= 3 && minor == 0, IoError, "'", what, "': NPY format version ",
           int{major}, ".", int{minor}, " is not supported; expected 1.0, 2.0 or 3.0");
  const size_t header_length =
      major == 1 ? in.read<uint16_t>(std::endian::little, "the NPY header length")
                 : in.read<uint32_t>(std::endian::little, "the NPY header length");
  const auto header_bytes = in.take(header_length, "the NPY header");
  const std::string_view header_text(reinterpret_cast<const char*>(header_bytes.data()),
                                     header_bytes.size());
  const NpyHeader header = HeaderParser(header_text, what).parse();
  const NpyType type = npy_type(header.descr, what);

  const size_t element_size = dtype_size(type.dtype);
  uint64_t count = 1;
  for (int64_t extent : header.shape) {
    count =
        checked_mul(count, static_cast<uint64_t>(extent),
                    std::numeric_limits<int64_t>::max() / element_size, what, "the element count");
  }
  TF_CHECK(in.remaining() == count * element_size, IoError, "'", what, "': shape ", header.shape,
           " of ", header.descr, " needs ", count * element_size, " data bytes, but ",
           in.remaining(), " follow the header");
  const auto data = in.take(count * element_size, "the NPY data");
  if (type.dtype == DType::Bool) {
    const auto bad = std::find_if(data.begin(), data.end(), [](std::byte b) {
      return b != std::byte{0} && b != std::byte{1};
    });
    TF_CHECK(bad == data.end(), IoError, "'", what, "': bool element ", bad - data.begin(),
             " is byte ", static_cast<int>(*bad), "; expected 0 or 1");
  }

  // Fortran order is C order of the reversed shape; transposing back gives the array.
  Dims storage_shape = header.shape;
  if (header.fortran_order) std::reverse(storage_shape.begin(), storage_shape.end());
  Tensor out = Tensor::empty(storage_shape, type.dtype);
  if (!data.empty()) std::memcpy(out.data_ptr(), data.data(), data.size());
  if (type.order != std::endian::native && element_size > 1) {
    byteswap_elements(static_cast<std::byte*>(out.data_ptr()), count, element_size);
  }
  if (header.fortran_order && out.rank() > 1) {
    Dims axes;
    for (int64_t a = out.rank() - 1; a >= 0; --a) axes.push_back(a);
    out = out.permute(axes).contiguous();
  }
  return out;
}

std::vector<std::byte> encode_npy(const Tensor& tensor) {
  const std::string descr = descr_of(tensor.dtype());
  std::string shape = "(";
  for (int64_t extent : tensor.shape()) shape += std::to_string(extent) + ", ";
  if (tensor.rank() > 1) shape.resize(shape.size() - 2);  // (2, 3); a 1-tuple keeps "(5,"
  if (tensor.rank() == 1) shape.pop_back();
  shape += ")";
  std::string header =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces and a newline so that the data starts at a multiple of 64 bytes.
  auto padding = [&](size_t preamble) { return (64 - (preamble + header.size() + 1) % 64) % 64; };
  const size_t v1_preamble = kMagic.size() + 2 + 2;
  const bool version2 = header.size() + padding(v1_preamble) + 1 > 65535;
  const size_t preamble = version2 ? v1_preamble + 2 : v1_preamble;
  header.append(padding(preamble), ' ');
  header += '\n';

  const Tensor host = tensor.cpu().contiguous();
  std::vector<std::byte> out(preamble + header.size() + host.nbytes());
  std::byte* p = out.data();
  std::memcpy(p, kMagic.data(), kMagic.size());
  p += kMagic.size();
  *p++ = std::byte{static_cast<uint8_t>(version2 ? 2 : 1)};
  *p++ = std::byte{0};
  const uint64_t length = header.size();
  for (size_t i = 0; i < (version2 ? 4u : 2u); ++i) {
    *p++ = static_cast<std::byte>((length >> (8 * i)) & 0xff);
  }
  std::memcpy(p, header.data(), header.size());
  p += header.size();
  if (host.nbytes() > 0) std::memcpy(p, host.data_ptr(), host.nbytes());
  return out;
}

}  // namespace detail

Tensor load_npy(const std::filesystem::path& path) {
  return detail::decode_npy(io::read_file(path), path.string());
}

void save_npy(const std::filesystem::path& path, const Tensor& tensor) {
  io::write_file_atomic(path, detail::encode_npy(tensor));
}

}  // namespace tenflowers::data
