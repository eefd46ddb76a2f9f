// tests/io_test_util.hpp - helpers of the config, file and C API tests: a scratch folder, a
// hand-written .npy writer (independent of qifsim's), and a message matcher.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

// QIFSIM_TEST_ASAN: built with the address sanitizer, which reserves terabytes of address space
// for itself (tests that limit the address space leave themselves out there).
#if defined(__SANITIZE_ADDRESS__)
#define QIFSIM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QIFSIM_TEST_ASAN 1
#endif
#endif

namespace iotest {

/// A fresh folder under the system's temp folder, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    const auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
      path_ = base / ("qifsim_io_" + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) return;
    }
    throw std::runtime_error("cannot create a scratch folder");
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The bytes of an .npy file built by hand: `dict` is the header dictionary text, padded
/// here; `version` 1 or 2 (4-byte header length).
inline std::string npy_bytes(const std::string& dict, const void* data, std::size_t bytes, int version = 1) {
  const std::size_t prefix = version == 1 ? 10 : 12;
  std::string h = dict;
  while ((prefix + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  const std::size_t n = h.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (version != 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  out += h;
  out.append(static_cast<const char*>(data), bytes);
  return out;
}

/// The header dictionary for descr and a shape written as Python would ("(3, 4)", "(5,)").
inline std::string npy_dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

/// A float64 C-order .npy file of the given shape text and values.
inline void write_f8(const std::string& path, const std::string& shape, const std::vector<double>& v) {
  write_text(path, npy_bytes(npy_dict("<f8", shape), v.data(), v.size() * sizeof(double)));
}

/// Passes when `text` contains every one of `parts`; names the first missing part.
inline ::testing::AssertionResult contains_all(const std::string& text, const std::vector<std::string>& parts) {
  for (const auto& p : parts) {
    if (text.find(p) == std::string::npos) {
      return ::testing::AssertionFailure() << "message lacks \"" << p << "\": " << text;
    }
  }
  return ::testing::AssertionSuccess();
}

/// A minimal reader of the .npy files qifsim writes (<f8 / <i8, C order), for checking
/// them; independent of the library's reader.
struct NpyFile {
  std::string descr;
  std::vector<std::int64_t> shape;
  std::vector<double> f8;
  std::vector<std::int64_t> i8;
};

inline NpyFile read_npy_file(const std::string& path) {
  const std::string b = read_text(path);
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) throw std::runtime_error(path + ": not npy");
  const std::size_t hlen = static_cast<unsigned char>(b[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(b[9])) << 8);
  const std::string h = b.substr(10, hlen);
  NpyFile f;
  const auto d = h.find("'descr': '");
  f.descr = h.substr(d + 10, 3);
  if (h.find("'fortran_order': False") == std::string::npos) throw std::runtime_error(path + ": not C order");
  const auto s = h.find("'shape': (");
  const auto e = h.find(')', s);
  std::string dims = h.substr(s + 10, e - s - 10);
  for (std::size_t pos = 0; pos < dims.size();) {
    const auto comma = dims.find(',', pos);
    const std::string tok = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (tok.find_first_not_of(' ') != std::string::npos) f.shape.push_back(std::stoll(tok));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::size_t count = 1;
  for (auto x : f.shape) count *= static_cast<std::size_t>(x);
  const std::size_t off = 10 + hlen;
  if (b.size() != off + 8 * count) throw std::runtime_error(path + ": size does not match the shape");
  if (f.descr == "<f8") {
    f.f8.resize(count);
    if (count > 0) std::memcpy(f.f8.data(), b.data() + off, 8 * count);
  } else if (f.descr == "<i8") {
    f.i8.resize(count);
    if (count > 0) std::memcpy(f.i8.data(), b.data() + off, 8 * count);
  } else {
    throw std::runtime_error(path + ": unexpected dtype " + f.descr);
  }
  return f;
}

}  // namespace iotest
