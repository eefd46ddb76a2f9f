// host/io/output_files.hpp - how every file qifsim writes is created: never through a link,
// never half-written over the old one where a whole file is written at once.
//
// A run's output folder may be shared or prepared by someone else. A link planted there
// (`out/out.npy -> ../victim.txt`) must not make a run write into the link's target, so
// files are created under a fresh name with O_CREAT | O_EXCL | O_NOFOLLOW (which never
// follows a link) and renamed onto their final name, which replaces a link there instead of
// following it.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace qifsim::detail {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
/// A stdio file that closes itself (without reporting errors; use close_output_file).
using OutputFile = std::unique_ptr<std::FILE, FileCloser>;

/// A name for a new file beside `path` ("<folder>/.<name>.<random>.part") that does not
/// exist yet at the time of the call.
std::string temporary_name_beside(const std::string& path);

/// Open `path` for writing as a new, empty file, without following a link: the file is
/// created under a temporary name beside it and renamed onto `path` at once (a file or link
/// already there is replaced), so a run killed later still leaves its files under their
/// names. IoError names the path and the reason.
OutputFile create_output_file(const std::string& path);

/// A new file under a temporary name beside `path`, renamed onto `path` by commit(): for a
/// file whose first bytes (a header) must be in place before anyone can see it under its
/// name. Not committed, it is removed when destroyed.
class PendingFile {
 public:
  explicit PendingFile(std::string path);
  ~PendingFile();
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  std::FILE* get() const { return file_.get(); }
  const std::string& temporary() const { return temporary_; }
  /// Flush and rename onto the final name; returns the open file (IoError on failure).
  OutputFile commit();

 private:
  std::string path_;
  std::string temporary_;
  OutputFile file_;
};

/// Flush and close `file`; a failure (a full disk, say) is an IoError naming `path`.
void close_output_file(OutputFile& file, const std::string& path);

/// Write a whole file so that readers see the old file or the new one, never a part:
/// `write` fills a temporary file beside `path` (its stdio errors are checked afterwards),
/// which is flushed to disk and renamed onto `path`. On failure the temporary file is
/// removed and `path` is left as it was.
void write_file_atomically(const std::string& path, const std::function<void(std::FILE*)>& write);

/// Rename `from` onto `to` (both in one folder); IoError naming both on failure.
void rename_into_place(const std::string& from, const std::string& to);

/// Create the output folder `dir` and its parents where missing and check that it is a
/// folder. A symbolic link at `dir` is refused (IoError saying so) unless `allow_link`:
/// recordings written through it would land wherever it points.
void prepare_output_dir(const std::string& dir, bool allow_link);

}  // namespace qifsim::detail
