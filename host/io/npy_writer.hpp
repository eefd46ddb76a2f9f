// host/io/npy_writer.hpp - writes NumPy .npy files (format 1.0, little-endian, C order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qifsim::detail {

/// The .npy header (magic, version, length, dict) for `descr` and `shape`, padded to a
/// multiple of 64 bytes, or to exactly `total_bytes` when given (a header written before the
/// final shape is known, to be overwritten in place; IoError if it does not fit).
std::string npy_header(const char* descr, const std::vector<std::int64_t>& shape,
                       std::size_t total_bytes = 0);

/// Write `data` (product(shape) values) as a float64 array; throws IoError naming the path.
void write_npy(const std::string& path, const double* data, const std::vector<std::int64_t>& shape);
/// The same for an int64 array.
void write_npy(const std::string& path, const std::int64_t* data,
               const std::vector<std::int64_t>& shape);

}  // namespace qifsim::detail
