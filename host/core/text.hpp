// host/core/text.hpp - small string helpers for error messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <charconv>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace qifsim::detail {

/// The decimal integer at the start of `text` (leading spaces skipped), or `fallback` when
/// there is none or it does not fit.
inline std::int64_t leading_int64(const char* text, std::int64_t fallback = -1) {
  while (*text == ' ') ++text;
  std::int64_t value = 0;
  const char* end = text + std::strlen(text);
  const auto r = std::from_chars(text, end, value);
  return r.ec == std::errc() ? value : fallback;
}

/// True when `text` ends with `tail`.
inline bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

/// "a, b, c" (names quoted when `quote`).
inline std::string join(const std::vector<std::string>& items, bool quote = true) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += quote ? "'" + items[i] + "'" : items[i];
  }
  return out;
}

/// A number as a message shows it: six significant digits, no trailing zeros ("-2", "0.25", "1e+12").
inline std::string short_number(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

/// Human-readable byte count: "512 B", "3.2 MiB", "1.50 GiB".
inline std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  std::ostringstream os;
  os.precision(u == 0 ? 0 : 3);
  os << std::fixed << bytes << ' ' << units[u];
  std::string s = os.str();
  return s;
}

namespace text_detail {
inline const char* strerror_result(int, const char* buf) { return buf; }             // POSIX strerror_r
inline const char* strerror_result(const char* text, const char*) { return text; }  // GNU strerror_r
}  // namespace text_detail

/// The message of an errno value, safe to call from several threads (std::strerror is not).
inline std::string errno_text(int err) {
  char buf[256] = {0};
  return text_detail::strerror_result(strerror_r(err, buf, sizeof buf), buf);
}

/// "rows x cols"
inline std::string shape(std::int64_t rows, std::int64_t cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

}  // namespace qifsim::detail
