// host/io/npy_header.hpp - the preamble and header of an NPY array, parsed from bytes in memory:
// shared by the .npy file reader (npy_reader.cpp) and the .npz member reader (npz_read.cpp).
// Every fault throws IoError("'<path>' is not a valid .npy file: <fault>").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace qifsim::detail {

/// What an NPY header says: the dtype, the order and the shape, and where the data starts.
struct NpyHeader {
  std::string descr;                ///< the dtype as written, e.g. "<f8", "|S3", "<U3"
  bool fortran_order = false;
  std::vector<std::int64_t> shape;  ///< empty for a 0-d array
  std::size_t data_offset = 0;      ///< bytes of preamble and header: the data starts here
};

/// Bytes of preamble and header of an NPY of `size` bytes in all, from its first bytes (`bytes`
/// holds at least min(size, 12) of them). Checks the magic string and the format version
/// (1.0-3.0), and that the header ends within the `size` bytes.
std::size_t npy_header_end(const unsigned char* bytes, std::size_t size, const std::string& path);

/// Parse the preamble and the header dict of the NPY at `bytes` (`size` bytes, at least up to the
/// header's end; the data after it is not looked at).
NpyHeader parse_npy_header(const unsigned char* bytes, std::size_t size, const std::string& path);

/// Bytes per element of a dtype qifsim reads ("<f8", "<f4", "<i8", "<i4"); anything else is an
/// IoError naming it and what to use instead.
std::size_t npy_item_size(const std::string& descr, const std::string& path);

/// `count` elements of dtype `descr` at `raw` as doubles into `out` (an int64 that a double
/// cannot hold exactly is an IoError naming its index, first_index + i).
void npy_convert(const std::string& descr, const unsigned char* raw, std::size_t count, double* out,
                 const std::string& path, std::size_t first_index);

/// The number of elements of `shape` (1 for a 0-d array); more than 2^60 is refused.
std::size_t npy_element_count(const std::vector<std::int64_t>& shape, const std::string& path);

}  // namespace qifsim::detail
