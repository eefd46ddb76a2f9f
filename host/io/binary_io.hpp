// host/io/binary_io.hpp - little helpers for the checkpoint format (native little-endian).
#pragma once

#include <algorithm>
#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "qifsim/error.hpp"

namespace qifsim::detail {

class BinaryWriter {
 public:
  explicit BinaryWriter(std::ostream& out) : out_(out) {}
  template <class T>
  void pod(const T& value) { out_.write(reinterpret_cast<const char*>(&value), sizeof(T)); }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    if (v.empty()) return;  // (data() may be null)
    out_.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }

 private:
  std::ostream& out_;
};

/// Reads what BinaryWriter wrote; a short or corrupt stream throws IoError naming `what`.
/// Every length read from the stream is checked against the bytes left in it before
/// anything is allocated, so a corrupt length field costs no memory.
class BinaryReader {
 public:
  BinaryReader(std::istream& in, std::string what) : in_(in), what_(std::move(what)) {
    // Bytes left in a seekable stream (a file); unknown otherwise, and then arrays are read
    // in bounded pieces, so that memory grows only with what the stream really holds.
    const std::istream::pos_type here = in_.tellg();
    if (here != std::istream::pos_type(-1) && in_.seekg(0, std::ios::end)) {
      const std::istream::pos_type end = in_.tellg();
      in_.seekg(here);
      if (end != std::istream::pos_type(-1) && end >= here) {
        left_ = static_cast<std::uint64_t>(end - here);
        known_ = true;
      }
    }
    in_.clear();
    in_.seekg(here);
  }
  template <class T>
  T pod() {
    T value{};
    read(reinterpret_cast<char*>(&value), sizeof(T));
    return value;
  }
  std::string str() {
    const auto n = pod<std::uint64_t>();
    if (n > (1u << 20)) fail("corrupt string length");
    require(n, 1);
    std::string s(n, '\0');
    read(s.data(), n);
    // Names, keys and paths only: a control character (a terminal escape in a crafted file)
    // never reaches a message.
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        static const char* const kHex = "0123456789abcdef";
        fail(std::string("a string holds the control character 0x") + kHex[c >> 4] + kHex[c & 15] +
             ", which qifsim never writes");
      }
    }
    return s;
  }
  template <class T>
  std::vector<T> vec(std::uint64_t limit = std::uint64_t{1} << 40) {
    const auto n = pod<std::uint64_t>();
    if (n > limit / sizeof(T)) fail("corrupt array length");
    require(n, sizeof(T));
    std::vector<T> v;
    // Grow in pieces of at most 64 MiB: a stream of unknown length that ends early never
    // made us allocate what it does not hold.
    constexpr std::uint64_t kPiece = (std::uint64_t{64} << 20) / sizeof(T);
    for (std::uint64_t done = 0; done < n;) {
      const std::uint64_t count = std::min<std::uint64_t>(kPiece, n - done);
      v.resize(static_cast<std::size_t>(done + count));
      read(reinterpret_cast<char*>(v.data() + done), count * sizeof(T));
      done += count;
    }
    return v;
  }
  /// Count `bytes` read from the stream directly (not through this reader).
  void skipped(std::uint64_t bytes) {
    if (known_) left_ = bytes > left_ ? 0 : left_ - bytes;
  }
  /// Bytes left in the stream, when it is seekable.
  bool size_known() const { return known_; }
  std::uint64_t bytes_left() const { return left_; }
  [[noreturn]] void fail(const std::string& why) const { throw IoError(what_ + ": " + why); }

 private:
  // Fail when `count` items of `size` bytes cannot be in what is left of the stream.
  void require(std::uint64_t count, std::uint64_t size) const {
    if (known_ && count > left_ / size) {
      fail("truncated or corrupt: a length field says " + std::to_string(count * size) + " bytes follow, but " +
           std::to_string(left_) + " are left");
    }
  }
  void read(char* dst, std::uint64_t bytes) {
    require(bytes, 1);
    in_.read(dst, static_cast<std::streamsize>(bytes));
    if (!in_) fail("truncated");
    if (known_) left_ -= bytes;
  }

  std::istream& in_;
  std::string what_;
  std::uint64_t left_ = 0;
  bool known_ = false;
};

}  // namespace qifsim::detail
