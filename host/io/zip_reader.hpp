// host/io/zip_reader.hpp - the zip layer of the .npz reader (io/npz_read.cpp): a memory limit
// charged before every large allocation, and archive members read whole after their directory
// entries are checked (known sizes, stored or deflate, no more bytes than their data can hold).
// Every fault is an InvalidArgument that starts with "'<file>': ". Built with libzip only.
#pragma once

#if QIFSIM_HAVE_LIBZIP
#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/memory_check.hpp"
#include "core/text.hpp"
#include "qifsim/error.hpp"
#include "qifsim/observer.hpp"

namespace qifsim::detail::zip_reader {

inline constexpr std::uint64_t kMaxMemoryLimit = std::uint64_t{64} << 30;  // the default limit at most: 64 GiB
// Deflate expands at most about 1032-fold; a member that claims more is corrupt or a bomb.
inline constexpr std::uint64_t kDeflateMaxRatio = 1032;
// format.npy and shape.npy are a few hundred bytes; anything bigger is not SciPy's.
inline constexpr std::uint64_t kSmallMemberMax = 64 << 10;

[[noreturn]] inline void fault(const std::string& path, const std::string& what) {
  throw InvalidArgument("'" + path + "': " + what);
}

inline std::string quoted(const std::string& member) { return "'" + member + "'"; }

// ---- memory -------------------------------------------------------------------------------

/// What the reader may still allocate. Every large allocation is charged before it is made, so
/// an archive that claims more than the limit is refused before anything is allocated.
class MemoryLimit {
 public:
  MemoryLimit(std::uint64_t limit, const std::string& path) : limit_(limit), left_(limit), path_(path) {}

  /// Charge `bytes` for `what` ("member 'data.npy'"); InvalidArgument when they do not fit.
  void charge(double bytes, const std::string& what) {
    if (bytes > static_cast<double>(left_)) {
      fault(path_, what + " needs " + format_bytes(bytes) + ", more than the reader's memory limit of " +
                       format_bytes(static_cast<double>(limit_)) + " allows (" +
                       format_bytes(static_cast<double>(limit_ - left_)) + " already in use)");
    }
    left_ -= static_cast<std::uint64_t>(bytes);
  }
  /// Give back `bytes` charged earlier (a buffer that was freed).
  void refund(std::uint64_t bytes) { left_ = std::min(limit_, left_ + bytes); }

 private:
  std::uint64_t limit_;
  std::uint64_t left_;
  const std::string& path_;
};

/// The caller's limit, or by default the recording budget (half the memory), at most 64 GiB
/// and at most the memory available (RLIMIT_AS included), as the network's own check counts it.
inline std::uint64_t effective_limit(std::size_t memory_limit) {
  if (memory_limit > 0) return memory_limit;
  return std::min<std::uint64_t>({default_memory_budget(), detail::available_host_memory(), kMaxMemoryLimit});
}

// ---- the zip archive ----------------------------------------------------------------------

struct ArchiveCloser {
  void operator()(zip_t* z) const { zip_discard(z); }  // read-only: nothing to write back
};
struct MemberCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;
using MemberFile = std::unique_ptr<zip_file_t, MemberCloser>;

/// An open archive and what is known about it.
struct Zip {
  Archive archive;
  std::uint64_t bytes = 0;  ///< size of the whole archive
  const std::string& path;
};

/// Open the archive behind `source` (which this takes over, also on failure).
inline Archive open_archive(zip_source_t* source, const std::string& path) {
  zip_error_t error;
  zip_error_init(&error);
  zip_t* z = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (!z) {
    zip_source_free(source);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    fault(path, "not a readable zip archive (" + why + "); save_npz writes a zip archive, so the file is "
                "something else or truncated");
  }
  zip_error_fini(&error);
  return Archive(z);
}

/// A member's directory entry, checked: known sizes, stored or deflate, not encrypted, and not
/// claiming more bytes than its compressed data can hold.
inline zip_stat_t member_stat(const Zip& zip, zip_int64_t index, const std::string& member) {
  zip_stat_t st;
  zip_stat_init(&st);
  const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
  if (zip_stat_index(zip.archive.get(), static_cast<zip_uint64_t>(index), 0, &st) != 0 || (st.valid & need) != need) {
    fault(zip.path, "the directory entry of member " + quoted(member) + " is unreadable (" +
                        zip_strerror(zip.archive.get()) + ")");
  }
  if (st.encryption_method != ZIP_EM_NONE) fault(zip.path, "member " + quoted(member) + " is encrypted");
  if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE) {
    fault(zip.path, "member " + quoted(member) + " uses compression method " + std::to_string(st.comp_method) +
                        "; NumPy writes stored or deflate members only");
  }
  const bool stored = st.comp_method == ZIP_CM_STORE;
  const bool too_big = st.comp_size > zip.bytes ||  // then comp_size * ratio cannot overflow
                       st.size > (stored ? st.comp_size : st.comp_size * kDeflateMaxRatio + 1024);
  if (too_big) {
    fault(zip.path, "member " + quoted(member) + " claims " + std::to_string(st.size) + " bytes from " +
                        std::to_string(st.comp_size) + " compressed bytes in a " + std::to_string(zip.bytes) +
                        "-byte archive, more than " + (stored ? "a stored member" : "deflate") +
                        " can hold (a corrupt archive or a zip bomb)");
  }
  return st;
}

/// Fill `out` from an open member (all its bytes); a member that ends early, runs on past them
/// or fails its CRC check is an error.
inline void read_all(const Zip& zip, zip_file_t* file, std::vector<unsigned char>& out, const std::string& member) {
  std::uint64_t done = 0;
  while (done < out.size()) {
    const zip_uint64_t want = std::min<std::uint64_t>(out.size() - done, std::uint64_t{1} << 30);
    const zip_int64_t got = zip_fread(file, out.data() + done, want);
    if (got < 0) fault(zip.path, "member " + quoted(member) + " is corrupt (" + zip_file_strerror(file) + ")");
    if (got == 0) {
      fault(zip.path, "member " + quoted(member) + " ends after " + std::to_string(done) + " of its " +
                          std::to_string(out.size()) + " bytes (truncated)");
    }
    done += static_cast<std::uint64_t>(got);
  }
  // One read past the end: no more data, and libzip checks the CRC there.
  unsigned char extra = 0;
  const zip_int64_t more = zip_fread(file, &extra, 1);
  if (more < 0) fault(zip.path, "member " + quoted(member) + " is corrupt (" + zip_file_strerror(file) + ")");
  if (more > 0) fault(zip.path, "member " + quoted(member) + " holds more than the " + std::to_string(out.size()) +
                                    " bytes its directory entry claims");
}

/// The bytes of member `member`, or nothing when the archive has no member of that name. The
/// buffer is charged to `memory` (the caller refunds it when done); `cap` bounds small members.
inline std::optional<std::vector<unsigned char>> read_member(const Zip& zip, const std::string& member, MemoryLimit& memory,
                                                      std::uint64_t cap = 0) {
  const zip_int64_t index = zip_name_locate(zip.archive.get(), member.c_str(), 0);
  if (index < 0) return std::nullopt;
  const zip_stat_t st = member_stat(zip, index, member);
  if (cap > 0 && st.size > cap) {
    fault(zip.path, "member " + quoted(member) + " has " + std::to_string(st.size) + " bytes; SciPy's is at most a few hundred");
  }
  memory.charge(static_cast<double>(st.size), "member " + quoted(member));
  MemberFile file(zip_fopen_index(zip.archive.get(), static_cast<zip_uint64_t>(index), 0));
  if (!file) fault(zip.path, "cannot open member " + quoted(member) + " (" + zip_strerror(zip.archive.get()) + ")");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(st.size));
  read_all(zip, file.get(), bytes, member);
  return bytes;
}

}  // namespace qifsim::detail::zip_reader
#endif  // QIFSIM_HAVE_LIBZIP
