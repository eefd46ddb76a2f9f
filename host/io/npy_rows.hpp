// host/io/npy_rows.hpp - the rows of a .npy file read as they are needed: an input file that is
// never held whole (a config's [input] file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/output_files.hpp"

namespace qifsim::detail {

/// A C-order .npy file of float64, float32, int64 or int32 (read_npy's dtypes), 2-d or 1-d (one
/// column), read rows at a time (pread at their offset, converted to double). The header, the
/// dtype and the file's size are checked when it is opened (IoError naming the file and the
/// fault); a read that comes up short later (the file changed) is an IoError too.
class NpyRowReader {
 public:
  explicit NpyRowReader(const std::string& path);
  const std::vector<std::int64_t>& shape() const { return shape_; }
  const std::string& descr() const { return descr_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  /// Rows first .. first + count - 1 (count x cols values, row-major) into dst.
  void read(std::int64_t first, std::int64_t count, double* dst) const;
  /// Elements first .. first + count - 1 in storage order, whatever the shape (read_npy).
  void read_values(std::size_t first, std::size_t count, double* dst) const;

 private:
  std::string path_;
  OutputFile file_;
  std::string descr_;
  std::vector<std::int64_t> shape_;
  std::int64_t rows_ = 0, cols_ = 1;
  std::size_t item_ = 8, data_offset_ = 0;
  mutable std::vector<unsigned char> raw_;  // one read's bytes
};

}  // namespace qifsim::detail
