#include "tenflowers/io/file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "tenflowers/core/error.hpp"

namespace tenflowers::io {

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  TF_CHECK(in.is_open(), IoError, "cannot open '", path.string(),
           "' for reading: ", std::strerror(errno));
  const std::streamoff size = in.tellg();
  TF_CHECK(size >= 0, IoError, "cannot read the size of '", path.string(), "'");
  std::vector<std::byte> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  TF_CHECK(in.gcount() == size, IoError, "'", path.string(), "' ended after ", in.gcount(), " of ",
           size, " bytes");
  return bytes;
}

namespace {

// Closes the descriptor and removes the temporary file unless the write was committed.
struct PendingFile {
  std::filesystem::path path;
  int fd = -1;
  bool committed = false;
  ~PendingFile() {
    if (fd >= 0) ::close(fd);
    if (!committed) ::unlink(path.c_str());
  }
};

std::string unique_suffix() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::to_string(::getpid()) + "." + std::to_string(gen());
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  TF_CHECK(!path.empty(), IoError, "cannot write a file with an empty path");
  PendingFile tmp;
  tmp.path = path;
  tmp.path += ".tmp." + unique_suffix();
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  TF_CHECK(tmp.fd >= 0, IoError, "cannot create '", tmp.path.string(), "': ", std::strerror(errno));
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(tmp.fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    TF_CHECK(n > 0, IoError, "writing '", tmp.path.string(), "' failed after ", written, " of ",
             bytes.size(), " bytes: ", std::strerror(errno));
    written += static_cast<size_t>(n);
  }
  TF_CHECK(::fsync(tmp.fd) == 0, IoError, "flushing '", tmp.path.string(),
           "' failed: ", std::strerror(errno));
  TF_CHECK(::close(tmp.fd) == 0, IoError, "closing '", tmp.path.string(),
           "' failed: ", std::strerror(errno));
  tmp.fd = -1;
  TF_CHECK(::rename(tmp.path.c_str(), path.c_str()) == 0, IoError, "cannot replace '",
           path.string(), "': ", std::strerror(errno));
  tmp.committed = true;
}

}  // namespace tenflowers::io
