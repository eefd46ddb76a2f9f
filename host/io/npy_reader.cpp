// host/io/npy_reader.cpp - NumPy .npy input: header parsing and checks, data conversion.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>

#include "qifsim/error.hpp"
#include "qifsim/npy.hpp"
#include "io/input_files.hpp"
#include "io/npy_header.hpp"
#include "io/npy_rows.hpp"
#include "core/text.hpp"

namespace qifsim {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IoError("'" + path + "' is not a valid .npy file: " + what);
}

// A parser for the Python dict literal of an .npy header, e.g.
//   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::int64_t>& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        shape = tuple();
        have_shape = true;
      } else {
        fail(path_, "unexpected key '" + key + "' in the header");
      }
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      skip();
      if (peek() != '}') fail(path_, "header dict is malformed near '" + rest() + "'");
    }
    if (!have_descr || !have_order || !have_shape) {
      fail(path_, "header lacks 'descr', 'fortran_order' or 'shape': " + s_);
    }
  }

 private:
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() {
    skip();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  std::string rest() const { return s_.substr(i_, 20); }
  void expect(char c) {
    if (peek() != c) fail(path_, std::string("header: expected '") + c + "' near '" + rest() + "'");
    ++i_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') fail(path_, "header: expected a quoted string near '" + rest() + "'");
    const std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) fail(path_, "header: unterminated string");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip();
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail(path_, "header: 'fortran_order' is neither True nor False");
  }
  std::vector<std::int64_t> tuple() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (true) {
      if (peek() == ')') {
        ++i_;
        return dims;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) {
        fail(path_, "header: 'shape' holds something other than non-negative integers");
      }
      std::int64_t d = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (d > (INT64_MAX - 9) / 10) fail(path_, "header: a dimension in 'shape' is too large");
        d = d * 10 + (s_[i_++] - '0');
      }
      // Python 2 style longs ("3L").
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;
      dims.push_back(d);
      if (peek() == ',') ++i_;
      else if (peek() != ')') fail(path_, "header: 'shape' is malformed near '" + rest() + "'");
    }
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

bool little_endian_host() {
  const std::uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

}  // namespace

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

namespace detail {

std::size_t npy_header_end(const unsigned char* bytes, std::size_t size, const std::string& path) {
  if (size < 10) fail(path, "the file is too short (" + std::to_string(size) + " bytes)");
  if (bytes[0] != 0x93 || std::memcmp(bytes + 1, "NUMPY", 5) != 0) fail(path, "it does not start with the NPY magic string");
  const int major = bytes[6];
  std::size_t header_len = 0;
  std::size_t prefix = 10;
  if (major == 1) {
    header_len = bytes[8] | (static_cast<std::size_t>(bytes[9]) << 8);
  } else if (major == 2 || major == 3) {
    if (size < 12) fail(path, "the file ends inside the header");
    header_len = bytes[8] | (static_cast<std::size_t>(bytes[9]) << 8) | (static_cast<std::size_t>(bytes[10]) << 16) |
                 (static_cast<std::size_t>(bytes[11]) << 24);
    prefix = 12;
  } else {
    fail(path, "unsupported format version " + std::to_string(major) + "." + std::to_string(bytes[7]));
  }
  if (prefix + header_len > size) {
    fail(path, "the file ends inside the header (truncated: " + std::to_string(size) + " bytes, header needs " +
                   std::to_string(prefix + header_len) + ")");
  }
  return prefix + header_len;
}

NpyHeader parse_npy_header(const unsigned char* bytes, std::size_t size, const std::string& path) {
  NpyHeader h;
  h.data_offset = npy_header_end(bytes, size, path);
  const std::size_t prefix = bytes[6] == 1 ? 10 : 12;
  const std::string header(reinterpret_cast<const char*>(bytes) + prefix, h.data_offset - prefix);
  HeaderParser(header, path).parse(h.descr, h.fortran_order, h.shape);
  return h;
}

std::size_t npy_item_size(const std::string& d, const std::string& path) {
  if (d == "<f8" || d == "<f4" || d == "<i8" || d == "<i4") return static_cast<std::size_t>(d[2] - '0');
  if (d == "|i1" || d == "|u1" || d == "|b1") fail(path, "dtype '" + d + "' is not supported (use float64, float32, int64 or int32)");
  if (!d.empty() && d[0] == '>') fail(path, "dtype '" + d + "' is big-endian; save it little-endian (array.astype('<f8'))");
  fail(path, "dtype '" + d + "' is not supported (use float64 '<f8', float32 '<f4', int64 '<i8' or int32 '<i4')");
}

void npy_convert(const std::string& descr, const unsigned char* raw, std::size_t count, double* out,
                 const std::string& path, std::size_t first_index) {
  const auto each = [&](auto tag) {
    using T = decltype(tag);
    for (std::size_t i = 0; i < count; ++i) {
      T v;
      std::memcpy(&v, raw + i * sizeof(T), sizeof(T));
      out[i] = static_cast<double>(v);
      if constexpr (std::is_same_v<T, std::int64_t>) {
        if (std::fabs(out[i]) > 9007199254740992.0 || static_cast<std::int64_t>(out[i]) != v) {  // range first: no UB
          fail(path, "int64 value " + std::to_string(v) + " at index " + std::to_string(first_index + i) +
                         " cannot be represented exactly as a double");
        }
      }
    }
  };
  if (descr == "<f8") each(double{});
  else if (descr == "<f4") each(float{});
  else if (descr == "<i8") each(std::int64_t{});
  else each(std::int32_t{});
}

std::size_t npy_element_count(const std::vector<std::int64_t>& shape, const std::string& path) {
  std::size_t count = 1;
  for (auto dim : shape) {
    if (dim > 0 && count > (static_cast<std::size_t>(1) << 60) / static_cast<std::size_t>(dim)) {
      fail(path, "shape " + shape_string(shape) + " is too large");
    }
    count *= static_cast<std::size_t>(dim);
  }
  return count;
}

}  // namespace detail

NpyArray read_npy(const std::string& path) {
  if (!little_endian_host()) throw IoError("read_npy('" + path + "'): big-endian hosts are not supported");
  const detail::NpyRowReader file(path);  // header, order, dtype and size checked
  NpyArray a;
  a.descr = file.descr();
  a.shape = file.shape();
  a.data.resize(detail::npy_element_count(a.shape, path));
  file.read_values(0, a.data.size(), a.data.data());
  return a;
}

Matrix read_npy_matrix(const std::string& path) {
  NpyArray a = read_npy(path);
  if (a.shape.size() > 2) {
    throw IoError("'" + path + "' holds a " + std::to_string(a.shape.size()) + "-d array of shape " +
                  shape_string(a.shape) + "; expected a 1-d or 2-d array");
  }
  const std::int64_t rows = a.shape.size() == 2 ? a.shape[0] : 1;
  const std::int64_t cols = a.shape.empty() ? 1 : a.shape.back();
  return Matrix(rows, cols, std::move(a.data));
}

}  // namespace qifsim
