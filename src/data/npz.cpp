// NPZ: a zip archive of .npy members, read and written in memory with libzip.
#include <zip.h>

#include <cstring>
#include <memory>
#include <set>

#include "src/data/npy_codec.hpp"
#include "tenflowers/data/readers.hpp"
#include "tenflowers/io/file.hpp"

namespace tenflowers::data {
namespace {

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct MemberCloser {
  void operator()(zip_file_t* member) const { zip_fclose(member); }
};
struct SourceFreer {
  void operator()(zip_source_t* source) const { zip_source_free(source); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;
using Member = std::unique_ptr<zip_file_t, MemberCloser>;
using Source = std::unique_ptr<zip_source_t, SourceFreer>;

struct ZipError {
  zip_error_t error;
  ZipError() { zip_error_init(&error); }
  ~ZipError() { zip_error_fini(&error); }
  const char* message() { return zip_error_strerror(&error); }
};

// A member's bytes, read in chunks so that memory follows the data actually present rather
// than the size the directory claims.
std::vector<std::byte> read_member(zip_t* archive, zip_uint64_t index, const std::string& what) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  TF_CHECK(zip_stat_index(archive, index, 0, &stat) == 0, IoError, "'", what,
           "': cannot read the member's directory entry: ", zip_strerror(archive));
  TF_CHECK(!(stat.valid & ZIP_STAT_ENCRYPTION_METHOD) || stat.encryption_method == ZIP_EM_NONE,
           IoError, "'", what, "' is encrypted; NPZ members must not be");
  Member member(zip_fopen_index(archive, index, 0));
  TF_CHECK(member, IoError, "'", what, "': cannot open the member: ", zip_strerror(archive));
  std::vector<std::byte> bytes;
  constexpr size_t kChunk = size_t{1} << 20;
  for (;;) {
    const size_t used = bytes.size();
    bytes.resize(used + kChunk);
    const zip_int64_t n = zip_fread(member.get(), bytes.data() + used, kChunk);
    TF_CHECK(n >= 0, IoError, "'", what,
             "': reading the member failed: ", zip_file_strerror(member.get()));
    bytes.resize(used + static_cast<size_t>(n));
    if (n == 0) break;
  }
  TF_CHECK(!(stat.valid & ZIP_STAT_SIZE) || stat.size == bytes.size(), IoError, "'", what,
           "': the directory says ", stat.size, " bytes but the member holds ", bytes.size());
  return bytes;
}

// An archive with no members: just the end-of-central-directory record (libzip writes nothing
// for an empty archive, NumPy writes this).
std::vector<std::byte> empty_zip() {
  std::vector<std::byte> out(22, std::byte{0});
  const char signature[] = {'P', 'K', 5, 6};
  std::memcpy(out.data(), signature, 4);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> load_npz(const std::filesystem::path& path) {
  const std::string what = path.string();
  const std::vector<std::byte> bytes = io::read_file(path);
  ZipError error;
  Source source(zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error.error));
  TF_CHECK(source, IoError, "'", what, "': ", error.message());
  Archive archive(zip_open_from_source(source.get(), ZIP_RDONLY | ZIP_CHECKCONS, &error.error));
  TF_CHECK(archive, IoError, "'", what, "' is not a valid zip archive: ", error.message());
  source.release();  // the archive owns it now
  const zip_int64_t members = zip_get_num_entries(archive.get(), 0);
  TF_CHECK(members >= 0, IoError, "'", what, "': cannot count the archive's members");
  std::vector<std::pair<std::string, Tensor>> out;
  for (zip_int64_t i = 0; i < members; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    const char* raw_name = zip_get_name(archive.get(), index, 0);
    TF_CHECK(raw_name, IoError, "'", what, "': member ", i,
             " has no readable name: ", zip_strerror(archive.get()));
    std::string name = raw_name;
    const std::string member_what = what + ":" + name;
    Tensor array = detail::decode_npy(read_member(archive.get(), index, member_what), member_what);
    if (name.size() > 4 && name.ends_with(".npy")) name.resize(name.size() - 4);
    out.emplace_back(std::move(name), std::move(array));
  }
  return out;
}

void save_npz(const std::filesystem::path& path,
              const std::vector<std::pair<std::string, Tensor>>& arrays, bool compressed) {
  const std::string what = path.string();
  std::set<std::string> names;
  for (const auto& [name, tensor] : arrays) {
    TF_CHECK(!name.empty(), InvalidArgument, "save_npz: array names must not be empty");
    TF_CHECK(names.insert(name).second, InvalidArgument, "save_npz: the name '", name,
             "' is used twice");
    TF_CHECK(tensor.defined(), InvalidArgument, "save_npz: array '", name, "' is undefined");
  }
  if (arrays.empty()) {
    io::write_file_atomic(path, empty_zip());
    return;
  }
  // Encoded members must outlive zip_close, which is when libzip reads them.
  std::vector<std::vector<std::byte>> encoded;
  encoded.reserve(arrays.size());
  for (const auto& [name, tensor] : arrays) encoded.push_back(detail::encode_npy(tensor));

  ZipError error;
  Source buffer(zip_source_buffer_create(nullptr, 0, 0, &error.error));
  TF_CHECK(buffer, IoError, "save_npz '", what, "': ", error.message());
  zip_source_keep(buffer.get());  // keep the written bytes after the archive closes
  Archive archive(zip_open_from_source(buffer.get(), ZIP_TRUNCATE, &error.error));
  if (!archive) zip_source_free(buffer.get());  // drop the reference the archive did not take
  TF_CHECK(archive, IoError, "save_npz '", what, "': cannot create an archive: ", error.message());
  for (size_t i = 0; i < arrays.size(); ++i) {
    const std::string member = arrays[i].first + ".npy";
    zip_source_t* data = zip_source_buffer(archive.get(), encoded[i].data(), encoded[i].size(), 0);
    TF_CHECK(data, IoError, "save_npz '", what, "': ", zip_strerror(archive.get()));
    const zip_int64_t index = zip_file_add(archive.get(), member.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) zip_source_free(data);
    TF_CHECK(index >= 0, IoError, "save_npz '", what, "': cannot add '", member,
             "': ", zip_strerror(archive.get()));
    TF_CHECK(zip_set_file_compression(archive.get(), static_cast<zip_uint64_t>(index),
                                      compressed ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) == 0,
             IoError, "save_npz '", what, "': cannot set the compression of '", member,
             "': ", zip_strerror(archive.get()));
  }
  TF_CHECK(zip_close(archive.get()) == 0, IoError, "save_npz '", what,
           "': writing the archive failed: ", zip_strerror(archive.get()));
  archive.release();  // closed

  zip_stat_t stat;
  zip_stat_init(&stat);
  TF_CHECK(zip_source_stat(buffer.get(), &stat) == 0 && (stat.valid & ZIP_STAT_SIZE), IoError,
           "save_npz '", what, "': cannot size the written archive");
  std::vector<std::byte> bytes(stat.size);
  TF_CHECK(zip_source_open(buffer.get()) == 0, IoError, "save_npz '", what,
           "': cannot read the written archive");
  const zip_int64_t n = zip_source_read(buffer.get(), bytes.data(), bytes.size());
  zip_source_close(buffer.get());
  TF_CHECK(n == static_cast<zip_int64_t>(bytes.size()), IoError, "save_npz '", what,
           "': read back ", n, " of ", bytes.size(), " archive bytes");
  io::write_file_atomic(path, bytes);
}

}  // namespace tenflowers::data
