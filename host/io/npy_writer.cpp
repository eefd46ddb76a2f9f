// host/io/npy_writer.cpp - NumPy .npy output.
#include "io/npy_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "io/output_files.hpp"

#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim::detail {
namespace {

static_assert(sizeof(double) == 8, "float64 expected");

bool little_endian() {
  const std::uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

void write(const std::string& path, const char* descr, const void* data, std::size_t bytes,
           const std::vector<std::int64_t>& shape) {
  if (!little_endian()) throw IoError("write_npy: big-endian hosts are not supported");
  OutputFile file = create_output_file(path);
  const std::string head = npy_header(descr, shape);
  if (std::fwrite(head.data(), 1, head.size(), file.get()) != head.size() ||
      (bytes > 0 && std::fwrite(data, 1, bytes, file.get()) != bytes)) {
    throw IoError("writing '" + path + "' failed: " + errno_text(errno));
  }
  close_output_file(file, path);
}

std::size_t count(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

}  // namespace

std::string npy_header(const char* descr, const std::vector<std::int64_t>& shape, std::size_t total_bytes) {
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) dict += ",";
    if (i + 1 < shape.size()) dict += " ";
  }
  dict += "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n'.
  const std::size_t unpadded = 10 + dict.size() + 1;
  if (total_bytes == 0) {
    dict.append((64 - unpadded % 64) % 64, ' ');
  } else {
    if (unpadded > total_bytes) throw IoError("npy header too long: " + dict);
    dict.append(total_bytes - unpadded, ' ');
  }
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(dict.size());
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>(len >> 8);
  return out + dict;
}

void write_npy(const std::string& path, const double* data, const std::vector<std::int64_t>& shape) {
  write(path, "<f8", data, count(shape) * sizeof(double), shape);
}

void write_npy(const std::string& path, const std::int64_t* data,
               const std::vector<std::int64_t>& shape) {
  write(path, "<i8", data, count(shape) * sizeof(std::int64_t), shape);
}

}  // namespace qifsim::detail
