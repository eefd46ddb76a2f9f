// tests/npy_reader.hpp - a small, independent .npy parser (format versions 1.0-3.0) and a
// CSV reader, used to read back what the Observer writes.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace qtest {

struct NpyArray {
  std::string descr;              ///< e.g. "<f8"
  bool fortran_order = true;
  std::vector<std::int64_t> shape;
  std::string header;             ///< the raw header dict text
  std::size_t data_offset = 0;
  std::vector<double> f8;         ///< values when descr is "<f8"
  std::vector<std::int64_t> i8;   ///< values when descr is "<i8"
};

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

/// Value text of `key` in a Python dict literal: what follows "'key':" up to the next
/// top-level ',' or '}'.
inline std::string dict_value(const std::string& h, const std::string& key) {
  const std::string k = "'" + key + "'";
  std::size_t p = h.find(k);
  if (p == std::string::npos) throw std::runtime_error("npy header lacks " + k + ": " + h);
  p = h.find(':', p + k.size());
  if (p == std::string::npos) throw std::runtime_error("npy header malformed: " + h);
  ++p;
  int depth = 0;
  std::size_t e = p;
  for (; e < h.size(); ++e) {
    const char c = h[e];
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  std::string v = h.substr(p, e - p);
  const auto b = v.find_first_not_of(" \t");
  const auto l = v.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : v.substr(b, l - b + 1);
}

/// Parse a .npy file; throws std::runtime_error naming the defect.
inline NpyArray read_npy(const std::string& path) {
  const std::vector<unsigned char> b = read_bytes(path);
  if (b.size() < 10 || b[0] != 0x93 || std::memcmp(b.data() + 1, "NUMPY", 5) != 0)
    throw std::runtime_error(path + ": no NPY magic");
  const int major = b[6];
  std::size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = static_cast<std::size_t>(b[8]) | (static_cast<std::size_t>(b[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw std::runtime_error(path + ": truncated header");
    hlen = static_cast<std::size_t>(b[8]) | (static_cast<std::size_t>(b[9]) << 8) |
           (static_cast<std::size_t>(b[10]) << 16) | (static_cast<std::size_t>(b[11]) << 24);
    hstart = 12;
  } else {
    throw std::runtime_error(path + ": unknown NPY version " + std::to_string(major));
  }
  if (hstart + hlen > b.size()) throw std::runtime_error(path + ": header past end of file");
  NpyArray a;
  a.header.assign(reinterpret_cast<const char*>(b.data() + hstart), hlen);
  a.data_offset = hstart + hlen;
  if (a.header.empty() || a.header.back() != '\n')
    throw std::runtime_error(path + ": header does not end with a newline");
  std::string d = dict_value(a.header, "descr");
  if (d.size() < 2 || (d.front() != '\'' && d.front() != '"'))
    throw std::runtime_error(path + ": descr not a string: " + d);
  a.descr = d.substr(1, d.size() - 2);
  const std::string fo = dict_value(a.header, "fortran_order");
  if (fo == "False") a.fortran_order = false;
  else if (fo == "True") a.fortran_order = true;
  else throw std::runtime_error(path + ": fortran_order " + fo);
  std::string sh = dict_value(a.header, "shape");
  if (sh.size() < 2 || sh.front() != '(' || sh.back() != ')')
    throw std::runtime_error(path + ": shape not a tuple: " + sh);
  sh = sh.substr(1, sh.size() - 2);
  std::stringstream ss(sh);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto p = item.find_first_not_of(" ");
    if (p == std::string::npos) continue;
    a.shape.push_back(std::stoll(item.substr(p)));
  }
  std::int64_t count = 1;
  for (auto s : a.shape) count *= s;
  const std::size_t want = static_cast<std::size_t>(count) * 8;
  if (a.descr != "<f8" && a.descr != "<i8")
    throw std::runtime_error(path + ": unexpected dtype " + a.descr);
  if (b.size() - a.data_offset != want)
    throw std::runtime_error(path + ": data holds " + std::to_string(b.size() - a.data_offset) +
                             " bytes, shape needs " + std::to_string(want));
  // Little-endian host assumed (x86-64 / aarch64), as the '<' in descr requires.
  if (a.descr == "<f8") {
    a.f8.resize(static_cast<std::size_t>(count));
    if (want > 0) std::memcpy(a.f8.data(), b.data() + a.data_offset, want);
  } else {
    a.i8.resize(static_cast<std::size_t>(count));
    if (want > 0) std::memcpy(a.i8.data(), b.data() + a.data_offset, want);
  }
  return a;
}

/// A CSV file as lines of fields (no quoting needed for numeric files).
inline std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) fields.push_back(field);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    rows.push_back(fields);
  }
  return rows;
}

}  // namespace qtest
