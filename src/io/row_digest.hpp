// src/io/row_digest.hpp - digests of the rows a recording holds, kept in its checkpoint so
// that a resumed run continues only files that still hold what the run wrote.
//
// One digest per series ("out", "qif.v", ...) plus "steps" and "time": 64-bit FNV-1a over
// the little-endian bytes of the values, row after row (a float64 as its 8 bytes, a step as
// its int64). The digest of n rows continues to that of n + m rows, so a run keeps digests as
// batches arrive (DigestSink) and each format recomputes them from what it reads back.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/observer.hpp"

namespace qifsim::detail {

inline constexpr std::uint64_t kDigestStart = 14695981039346656037ull;  // FNV-1a 64 offset basis

/// The digest `h` continued over `bytes` bytes at `p`.
inline std::uint64_t digest_bytes(std::uint64_t h, const void* p, std::size_t bytes) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < bytes; ++i) {
    h ^= b[i];
    h *= 1099511628211ull;  // FNV-1a 64 prime
  }
  return h;
}

/// `h` continued over one value (its little-endian bytes; this library runs on little-endian hosts).
template <class T>
std::uint64_t digest_value(std::uint64_t h, T value) {
  return digest_bytes(h, &value, sizeof value);
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
  std::uint64_t h = 0;
  for (std::size_t i = eq + 1; i < entry.size(); ++i) {
    const char c = entry[i];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    h = h * 16 + static_cast<std::uint64_t>(d);
  }
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
      const auto width = static_cast<std::size_t>(obs.width(keys[i]));
      std::uint64_t& h = entry(keys[i]);
      h = digest_bytes(h, series[i], static_cast<std::size_t>(count) * width * sizeof(double));
    }
    std::uint64_t& hs = entry("steps");
    std::uint64_t& ht = entry("time");
    for (std::int64_t r = 0; r < count; ++r) {
      hs = digest_value(hs, steps[r]);
      ht = digest_value(ht, static_cast<double>(steps[r]) * obs.dt());
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
