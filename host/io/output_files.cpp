// host/io/output_files.cpp - creating output files without following links (output_files.hpp).
#include "io/output_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim::detail {
namespace {

namespace fs = std::filesystem;

// 64 random bits per process, plus a counter: names differ between processes and calls.
std::string random_suffix() {
  static const std::uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(::getpid());
  }();
  static std::atomic<std::uint64_t> counter{0};
  const std::uint64_t x = seed + 0x9e3779b97f4a7c15ULL * (counter.fetch_add(1) + 1);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

// Create a new file under a temporary name beside `path`; returns its descriptor and name.
int create_temporary(const std::string& path, std::string& name) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    name = temporary_name_beside(path);
    int fd = -1;
    do {
      fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    } while (fd < 0 && errno == EINTR);
    if (fd >= 0) return fd;
    if (errno != EEXIST) {
      throw IoError("cannot create '" + path + "': " + errno_text(errno));
    }
  }
  throw IoError("cannot create '" + path + "': no free temporary name beside it");
}

OutputFile as_stdio(int fd, const std::string& path, const std::string& temporary) {
  std::FILE* f = ::fdopen(fd, "w+b");  // read too: a checkpoint reads itself back for its checksum
  if (!f) {
    const int err = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    throw IoError("cannot open '" + path + "' for writing: " + errno_text(err));
  }
  return OutputFile(f);
}

}  // namespace

std::string temporary_name_beside(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + "." + random_suffix() + ".part")).string();
}

void rename_into_place(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    ::unlink(from.c_str());
    throw IoError("cannot create '" + to + "': " + errno_text(err) +
                  (err == EISDIR ? " (a folder of that name is in the way)" : ""));
  }
}

OutputFile create_output_file(const std::string& path) {
  std::string temporary;
  const int fd = create_temporary(path, temporary);
  OutputFile file = as_stdio(fd, path, temporary);
  rename_into_place(temporary, path);  // replaces a link at `path`; never writes through it
  return file;
}

PendingFile::PendingFile(std::string path) : path_(std::move(path)) {
  const int fd = create_temporary(path_, temporary_);
  file_ = as_stdio(fd, path_, temporary_);
}

PendingFile::~PendingFile() {
  if (file_) {
    file_.reset();
    ::unlink(temporary_.c_str());
  }
}

OutputFile PendingFile::commit() {
  if (std::fflush(file_.get()) != 0) throw IoError("writing '" + path_ + "' failed: " + errno_text(errno));
  rename_into_place(temporary_, path_);
  return std::move(file_);
}

void close_output_file(OutputFile& file, const std::string& path) {
  if (!file) return;
  std::FILE* f = file.release();
  const bool write_error = std::ferror(f) != 0;
  const int err = errno;
  if (std::fclose(f) != 0) throw IoError("writing '" + path + "' failed: " + errno_text(errno));
  if (write_error) throw IoError("writing '" + path + "' failed: " + errno_text(err));
}

void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& write) {
  std::string temporary;
  const int fd = create_temporary(path, temporary);
  OutputFile file = as_stdio(fd, path, temporary);
  try {
    write(file.get());
    if (std::fflush(file.get()) != 0 || std::ferror(file.get()) != 0) {
      throw IoError("writing '" + path + "' failed: " + errno_text(errno));
    }
    if (::fsync(::fileno(file.get())) != 0 && errno != EINVAL) {
      throw IoError("writing '" + path + "' failed: " + errno_text(errno));
    }
    close_output_file(file, path);
  } catch (...) {
    file.reset();
    ::unlink(temporary.c_str());
    throw;
  }
  rename_into_place(temporary, path);
}

void prepare_output_dir(const std::string& dir, bool allow_link) {
  if (dir.empty()) throw IoError("the output folder is empty (give a folder name)");
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::read_symlink(dir, ec);
      if (!allow_link) {
        throw IoError("the output folder '" + dir + "' is a symbolic link" +
                      (ec ? std::string() : " to '" + target.string() + "'") +
                      "; recordings would be written wherever it points. Give the real folder, or allow "
                      "the link explicitly (qifsim run --allow-symlink, record.allow_symlink = true)");
      }
      if (::stat(dir.c_str(), &st) != 0) {
        throw IoError("the output folder '" + dir + "' is a symbolic link to '" + target.string() +
                      "', which cannot be reached: " + errno_text(errno));
      }
    }
    if (!S_ISDIR(st.st_mode)) throw IoError("the output folder '" + dir + "' exists and is not a folder");
    return;
  }
  if (errno != ENOENT) throw IoError("cannot use the output folder '" + dir + "': " + errno_text(errno));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create the output folder '" + dir + "': " + ec.message());
}

}  // namespace qifsim::detail
