// host/binary_io.hpp - little helpers for the checkpoint format (native little-endian).
#pragma once

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
    out_.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  }

 private:
  std::ostream& out_;
};

/// Reads what BinaryWriter wrote; a short or corrupt stream throws IoError naming `what`.
class BinaryReader {
 public:
  BinaryReader(std::istream& in, std::string what) : in_(in), what_(std::move(what)) {}
  template <class T>
  T pod() {
    T value{};
    in_.read(reinterpret_cast<char*>(&value), sizeof(T));
    if (!in_) fail("truncated");
    return value;
  }
  std::string str() {
    const auto n = pod<std::uint64_t>();
    if (n > (1u << 20)) fail("corrupt string length");
    std::string s(n, '\0');
    in_.read(s.data(), static_cast<std::streamsize>(n));
    if (!in_) fail("truncated");
    return s;
  }
  template <class T>
  std::vector<T> vec(std::uint64_t limit = std::uint64_t{1} << 40) {
    const auto n = pod<std::uint64_t>();
    if (n > limit / sizeof(T)) fail("corrupt array length");
    std::vector<T> v(n);
    in_.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
    if (!in_) fail("truncated");
    return v;
  }
  [[noreturn]] void fail(const std::string& why) const { throw IoError(what_ + ": " + why); }

 private:
  std::istream& in_;
  std::string what_;
};

}  // namespace qifsim::detail
