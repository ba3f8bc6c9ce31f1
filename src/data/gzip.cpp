#include "src/data/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "tenflowers/core/error.hpp"
#include "tenflowers/io/file.hpp"

namespace tenflowers::data::detail {
namespace {

struct Inflater {
  z_stream stream{};
  Inflater(const std::string& what) {
    // 16 + MAX_WBITS: expect a gzip wrapper (header and CRC-32 trailer).
    TF_CHECK(inflateInit2(&stream, 16 + MAX_WBITS) == Z_OK, IoError, "cannot start inflating '",
             what, "'");
  }
  ~Inflater() { inflateEnd(&stream); }
};

}  // namespace

bool is_gzip(std::span<const std::byte> bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

std::vector<std::byte> gunzip(std::span<const std::byte> bytes, const std::string& what) {
  Inflater inflater(what);
  z_stream& zs = inflater.stream;
  // Output grows with the data actually inflated (deflate expands at most about 1032 times).
  std::vector<std::byte> out(std::max<size_t>(bytes.size() * 4, 4096));
  size_t consumed = 0, produced = 0;
  for (;;) {
    const size_t in_chunk = std::min<size_t>(bytes.size() - consumed, UINT_MAX);
    if (produced == out.size()) out.resize(out.size() * 2);
    const size_t out_chunk = std::min<size_t>(out.size() - produced, UINT_MAX);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data() + consumed));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    produced += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (consumed == bytes.size()) break;
      // Another gzip member follows (gzip files may be concatenations).
      TF_CHECK(is_gzip(bytes.subspan(consumed)), IoError, "'", what, "' has ",
               bytes.size() - consumed, " bytes of trailing garbage after its gzip data");
      TF_CHECK(inflateReset(&zs) == Z_OK, IoError, "cannot restart inflating '", what, "'");
      continue;
    }
    TF_CHECK(rc == Z_OK || rc == Z_BUF_ERROR, IoError, "'", what,
             "' is not valid gzip data: ", zs.msg ? zs.msg : "inflate failed");
    // No progress with input exhausted and no end of stream: the data is truncated.
    TF_CHECK(!(rc == Z_BUF_ERROR && consumed == bytes.size() && produced < out.size()), IoError,
             "'", what, "' is truncated: its gzip data ends before the end of the stream");
  }
  out.resize(produced);
  return out;
}

std::vector<std::byte> read_maybe_gzipped(const std::filesystem::path& path) {
  std::vector<std::byte> bytes = io::read_file(path);
  if (!is_gzip(bytes)) return bytes;
  return gunzip(bytes, path.string());
}

}  // namespace tenflowers::data::detail
