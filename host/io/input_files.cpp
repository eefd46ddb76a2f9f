// host/io/input_files.cpp - opening files to read (input_files.hpp).
#include "io/input_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim::detail {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

OutputFile open_regular_file(const std::string& path, const std::string& what, std::uint64_t max_bytes,
                             std::uint64_t* size) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; cleared again for the reads.
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw IoError("cannot open '" + path + "': " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot read '" + path + "': " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError("'" + path + "' is " + kind_of(st.st_mode) + ", not " + what);
  }
  const auto bytes = static_cast<std::uint64_t>(st.st_size);
  if (max_bytes > 0 && bytes > max_bytes) {
    ::close(fd);
    throw IoError("'" + path + "' has " + std::to_string(bytes) + " bytes; " + what + " has at most " +
                  std::to_string(max_bytes));
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::FILE* f = ::fdopen(fd, "rb");
  if (!f) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot read '" + path + "': " + errno_text(err));
  }
  if (size) *size = bytes;
  return OutputFile(f);
}

std::string read_regular_file(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
  std::uint64_t bytes = 0;
  const OutputFile file = open_regular_file(path, what, max_bytes, &bytes);
  std::string text(static_cast<std::size_t>(bytes), '\0');
  if (bytes > 0 && std::fread(text.data(), 1, text.size(), file.get()) != text.size()) {
    throw IoError("cannot read '" + path + "': " + errno_text(errno));
  }
  return text;
}

}  // namespace qifsim::detail
