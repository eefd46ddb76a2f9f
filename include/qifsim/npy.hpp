// qifsim/npy.hpp - reading NumPy .npy files (weights, parameters and inputs).
//
//   qifsim::NpyArray a = qifsim::read_npy("J.npy");      // any of <f8 <f4 <i8 <i4, C order
//   qifsim::Matrix J = qifsim::read_npy_matrix("J.npy");  // 2-d (a 1-d array is 1 x n)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/matrix.hpp"

namespace qifsim {

/// The contents of an .npy file, converted to double.
struct NpyArray {
  std::string descr;                ///< the file's dtype: "<f8", "<f4", "<i8" or "<i4"
  std::vector<std::int64_t> shape;  ///< empty for a 0-d array
  std::vector<double> data;         ///< product(shape) values in C order
};

/// Read an .npy file (format 1.0-3.0, little-endian float64/float32/int64/int32, C order).
/// A missing, corrupt or truncated file, a big-endian or Fortran-ordered array, another dtype,
/// or an int64 value that does not fit a double exactly throws IoError naming the file.
NpyArray read_npy(const std::string& path);

/// read_npy as a Matrix: a 2-d array as is, a 1-d array of n values as 1 x n, a 0-d array as
/// 1 x 1; more dimensions throw IoError naming the file and its shape.
Matrix read_npy_matrix(const std::string& path);

/// Rows [lo, hi) of a 2-d .npy file (a 1-d one: its values [lo, hi) as one column), read alone
/// (pread at their offset; the rest of the file is never read): a rank of a distributed run
/// reads its own rows of J or its own neurons' values (qifsim::partition_range). The values
/// equal those rows of read_npy_matrix's result. IoError naming the file for what read_npy
/// refuses, for another number of dimensions, or for a range outside its rows.
Matrix read_npy_rows(const std::string& path, std::int64_t lo, std::int64_t hi);

/// "(3, 4)", "(5,)" or "()": a shape as NumPy prints it.
std::string shape_string(const std::vector<std::int64_t>& shape);

}  // namespace qifsim
