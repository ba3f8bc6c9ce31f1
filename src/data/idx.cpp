// IDX (LeCun's MNIST format): 2 zero bytes, an element-type byte, a rank byte, big-endian u32
// extents, then big-endian data.
#include <limits>

#include "src/data/byte_reader.hpp"
#include "src/data/gzip.hpp"
#include "tenflowers/data/readers.hpp"

namespace tenflowers::data {
namespace {

struct IdxType {
  DType dtype;   // what we return (16-bit integers widen to i32)
  size_t bytes;  // the file's element size
};

IdxType idx_type(uint8_t code, const std::string& what) {
  switch (code) {
    case 0x08:
      return {DType::U8, 1};
    case 0x09:
      return {DType::I8, 1};
    case 0x0B:
      return {DType::I32, 2};
    case 0x0C:
      return {DType::I32, 4};
    case 0x0D:
      return {DType::F32, 4};
    case 0x0E:
      return {DType::F64, 8};
    default:
      throw IoError(tenflowers::detail::concat(
          "'", what, "': unknown IDX element type 0x", std::hex, static_cast<int>(code),
          "; expected 0x08, 0x09, 0x0B, 0x0C, ", "0x0D or 0x0E"));
  }
}

// Copies `count` big-endian elements of `Src` into `dst` as `Dst`.
template <class Src, class Dst>
void copy_big_endian(std::span<const std::byte> src, Dst* dst, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    Src value;
    std::memcpy(&value, src.data() + i * sizeof(Src), sizeof(Src));
    if constexpr (std::endian::native == std::endian::little && sizeof(Src) > 1) {
      value = detail::ByteReader::byteswap_value(value);
    }
    dst[i] = static_cast<Dst>(value);
  }
}

}  // namespace

Tensor load_idx(const std::filesystem::path& path) {
  const std::string what = path.string();
  const std::vector<std::byte> bytes = detail::read_maybe_gzipped(path);
  detail::ByteReader in(bytes, what);
  const auto magic = in.take(4, "the IDX magic number");
  TF_CHECK(magic[0] == std::byte{0} && magic[1] == std::byte{0}, IoError, "'", what,
           "' is not an IDX file: its first two bytes are not zero");
  const IdxType type = idx_type(static_cast<uint8_t>(magic[2]), what);
  const int rank = static_cast<int>(magic[3]);
  Dims shape;
  uint64_t count = 1;
  constexpr uint64_t kMaxElements = std::numeric_limits<int64_t>::max() / 8;
  for (int d = 0; d < rank; ++d) {
    const uint32_t extent = in.read<uint32_t>(std::endian::big, "an IDX dimension");
    shape.push_back(extent);
    count = detail::checked_mul(count, extent, kMaxElements, what, "the element count");
  }
  const uint64_t data_bytes = count * type.bytes;
  TF_CHECK(in.remaining() == data_bytes, IoError, "'", what, "': shape ", shape, " of ", type.bytes,
           "-byte elements needs ", data_bytes, " data bytes, but the file has ", in.remaining());
  const auto data = in.take(data_bytes, "the IDX data");
  Tensor out = Tensor::empty(shape, type.dtype);
  const size_t n = static_cast<size_t>(count);
  switch (static_cast<uint8_t>(magic[2])) {
    case 0x08:
      copy_big_endian<uint8_t>(data, out.data<uint8_t>(), n);
      break;
    case 0x09:
      copy_big_endian<int8_t>(data, out.data<int8_t>(), n);
      break;
    case 0x0B:
      copy_big_endian<int16_t>(data, out.data<int32_t>(), n);
      break;
    case 0x0C:
      copy_big_endian<int32_t>(data, out.data<int32_t>(), n);
      break;
    case 0x0D:
      copy_big_endian<float>(data, out.data<float>(), n);
      break;
    default:
      copy_big_endian<double>(data, out.data<double>(), n);
      break;
  }
  return out;
}

}  // namespace tenflowers::data
