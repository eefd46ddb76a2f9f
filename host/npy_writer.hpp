// host/npy_writer.hpp - writes NumPy .npy files (format 1.0, little-endian, C order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qifsim::detail {

/// Write `data` (product(shape) values) as a float64 array; throws IoError naming the path.
void write_npy(const std::string& path, const double* data, const std::vector<std::int64_t>& shape);
/// The same for an int64 array.
void write_npy(const std::string& path, const std::int64_t* data,
               const std::vector<std::int64_t>& shape);

}  // namespace qifsim::detail
