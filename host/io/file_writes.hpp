// host/io/file_writes.hpp - what the file sinks share: unbuffered writes that name the file
// when they fail, NPY headers of a fixed size (rewritten in place as rows arrive), and files of
// ours reopened to continue a run (never through a link) and cut back to what a checkpoint counts.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "io/npy_writer.hpp"
#include "io/output_files.hpp"
#include "qifsim/error.hpp"

namespace qifsim::detail::file_writes {

using File = OutputFile;

inline void write_all(std::FILE* f, const void* data, std::size_t bytes, const std::string& path) {
  if (bytes > 0 && std::fwrite(data, 1, bytes, f) != bytes) {
    throw IoError("writing '" + path + "' failed: " + errno_text(errno));
  }
}

// Write through the descriptor at its position, unbuffered (the stdio buffer of `f` is
// empty: its file was flushed when it was committed).
inline void write_fd(std::FILE* f, const void* data, std::size_t bytes, const std::string& path) {
  const int fd = ::fileno(f);
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("writing '" + path + "' failed: " + errno_text(n < 0 ? errno : EIO));
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

// Hand everything buffered to the kernel (so a killed process leaves it in the file).
inline void flush(std::FILE* f, const std::string& path) {
  if (std::fflush(f) != 0) throw IoError("writing '" + path + "' failed: " + errno_text(errno));
}

// Write `bytes` at `offset` without moving the file position (the NPY header in place).
inline void write_at(std::FILE* f, const void* data, std::size_t bytes, off_t offset, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(::fileno(f), p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("writing '" + path + "' failed: " + errno_text(n < 0 ? errno : EIO));
    p += n;
    bytes -= static_cast<std::size_t>(n);
    offset += n;
  }
}

inline std::string join_path(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

// ---- NPY ------------------------------------------------------------------------------

// Every header takes exactly this many bytes (a multiple of 64, as the format asks), enough
// for a two-dimensional shape of 19-digit numbers, so the final shape can overwrite the
// provisional one in place.
inline constexpr std::size_t kNpyHeaderBytes = 128;

inline std::string npy_header(const char* descr, const std::vector<std::int64_t>& shape) {
  return detail::npy_header(descr, shape, kNpyHeaderBytes);
}

// An existing file of ours opened for continuing: read and write, never through a link.
inline File open_existing(const std::string& path, std::uint64_t* size) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw IoError("cannot continue '" + path + "': " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError("cannot continue '" + path + "': not a regular file");
  }
  std::FILE* f = ::fdopen(fd, "r+b");
  if (!f) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot continue '" + path + "': " + errno_text(err));
  }
  *size = static_cast<std::uint64_t>(st.st_size);
  return File(f);
}

// Cut `file` to `bytes` and put the stdio position at its end.
inline void truncate_to(std::FILE* f, std::uint64_t bytes, const std::string& path) {
  if (std::fflush(f) != 0 || ::ftruncate(::fileno(f), static_cast<off_t>(bytes)) != 0 ||
      ::fseeko(f, static_cast<off_t>(bytes), SEEK_SET) != 0) {
    throw IoError("cannot continue '" + path + "': " + errno_text(errno));
  }
}


}  // namespace qifsim::detail::file_writes
