// host/io/row_digest.hpp - digests of the rows a recording holds, kept in its checkpoint so
// that a resumed run continues only files that still hold what the run wrote.
//
// One digest per series ("out", "qif.v", ...) plus "steps" and "time", chained row by row:
// the digest after a row is the XXH3-64 (the checkpoint's own hash) of the row's values, as
// their little-endian bytes, seeded with the digest before it. A digest of n rows continues to
// that of n + m rows whatever the batches, so a run keeps digests as batches arrive
// (DigestSink) and each format recomputes them from the rows it reads back.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "qifsim/observer.hpp"

namespace qifsim::detail {

inline constexpr std::uint64_t kDigestStart = 0;  // the digest of no rows

/// The digest `h` continued over one row of `bytes` bytes at `p`.
inline std::uint64_t digest_row(std::uint64_t h, const void* p, std::size_t bytes) {
  return XXH3_64bits_withSeed(p, bytes, h);
}

/// `h` continued over the `rows` rows of `row_bytes` bytes each at `p`.
inline std::uint64_t digest_rows(std::uint64_t h, const void* p, std::size_t rows, std::size_t row_bytes) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t r = 0; r < rows; ++r) h = digest_row(h, b + r * row_bytes, row_bytes);
  return h;
}

/// Digests by series key, "steps" and "time". Empty: nothing to check (a checkpoint older than them).
using RowDigests = std::map<std::string, std::uint64_t>;

/// As written into a checkpoint's details ("key=hex"), and back (malformed entries are skipped).
inline std::string digest_entry(const std::string& key, std::uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return key + "=" + hex;
}
inline bool parse_digest_entry(const std::string& entry, RowDigests& into) {
  const auto eq = entry.rfind('=');
  if (eq == std::string::npos || entry.size() - eq - 1 != 16) return false;
  char* end = nullptr;
  const unsigned long long h = std::strtoull(entry.c_str() + eq + 1, &end, 16);
  if (end != entry.c_str() + entry.size()) return false;
  into[entry.substr(0, eq)] = h;
  return true;
}

/// A sink that keeps the digests of every sample recorded (continuing `start` on a resume).
class DigestSink final : public SampleSink {
 public:
  /// `on` false: keeps nothing (digests() stays empty).
  explicit DigestSink(RowDigests start = {}, bool on = true) : digests_(std::move(start)), on_(on) {
    if (!on_) digests_.clear();
  }
  void start(const Observer& obs) override {  // every series has a digest, also before its first row
    if (!on_) return;
    for (const auto& key : obs.keys()) entry(key);
    entry("steps");
    entry("time");
  }
  void write(const Observer& obs, std::int64_t count, const std::int64_t* steps,
             const std::vector<const double*>& series) override {
    if (!on_) return;
    const std::vector<std::string> keys = obs.keys();
    for (std::size_t i = 0; i < series.size() && i < keys.size(); ++i) {
      const auto width = static_cast<std::size_t>(obs.width(keys[i]) * obs.members());  // every member's values
      std::uint64_t& h = entry(keys[i]);
      h = digest_rows(h, series[i], static_cast<std::size_t>(count), width * sizeof(double));
    }
    std::uint64_t& hs = entry("steps");
    std::uint64_t& ht = entry("time");
    for (std::int64_t r = 0; r < count; ++r) {
      const double time = static_cast<double>(steps[r]) * obs.dt();
      hs = digest_row(hs, &steps[r], sizeof steps[r]);
      ht = digest_row(ht, &time, sizeof time);
    }
  }
  const RowDigests& digests() const { return digests_; }

 private:
  std::uint64_t& entry(const std::string& key) { return digests_.try_emplace(key, kDigestStart).first->second; }
  RowDigests digests_;
  bool on_ = true;
};

/// The message of a file whose rows differ from those the run wrote.
inline std::string changed_rows(const std::string& what, std::int64_t rows) {
  return "cannot continue '" + what + "': its first " + std::to_string(rows) +
         " samples are not the ones this run recorded (the file was replaced or edited after the checkpoint)";
}

}  // namespace qifsim::detail
