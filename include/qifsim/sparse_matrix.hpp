// qifsim/sparse_matrix.hpp - a sparse matrix in compressed sparse row (CSR) form, the storage of
// sparse coupling: row i holds the weights onto target i.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/matrix.hpp"

namespace qifsim {

/// A rows x cols matrix in CSR form: the nonzeros of row i are values[indptr[i] .. indptr[i+1])
/// at columns indices[...], columns ascending and distinct within a row. Built through the
/// factories below, which follow SciPy's meaning (unsorted indices are sorted, duplicate entries
/// summed) and check every value; a SparseMatrix built by hand can be checked with validate().
/// Columns are 32-bit (cols < 2^31), row pointers 64-bit (more than 2^31 synapses allowed).
struct SparseMatrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<std::int64_t> indptr;   ///< rows + 1 offsets, indptr[0] = 0, non-decreasing
  std::vector<std::int32_t> indices;  ///< column of each stored value
  std::vector<double> values;         ///< the stored values (zeros allowed)

  SparseMatrix() : indptr(1, 0) {}
  /// An empty rows x cols matrix (no stored values).
  SparseMatrix(std::int64_t r, std::int64_t c);

  /// Number of stored values.
  std::int64_t nnz() const { return static_cast<std::int64_t>(values.size()); }

  /// From coordinates (SciPy's COO): entry k is (row[k], col[k]) = val[k]. Entries are ordered by
  /// row, then column; duplicates are summed. Throws InvalidArgument, prefixed by `what`, for a
  /// coordinate out of range, arrays of different lengths or a value that is not finite.
  static SparseMatrix from_coo(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& row,
                               const std::vector<std::int64_t>& col, const std::vector<double>& val,
                               const std::string& what = "sparse matrix");
  /// From CSR arrays (SciPy's csr_matrix(data, indices, indptr)): checks indptr (length rows + 1,
  /// starting at 0, non-decreasing, ending at the value count), the column range and the values;
  /// sorts each row's columns and sums duplicates.
  static SparseMatrix from_csr(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& indptr,
                               const std::vector<std::int64_t>& indices, const std::vector<double>& val,
                               const std::string& what = "sparse matrix");
  /// The same from arrays taken over: where every row's columns are already ascending and
  /// distinct (SciPy's canonical format) they become the matrix's own, with no copy (how a
  /// large .npz is read); otherwise as above.
  static SparseMatrix from_csr(std::int64_t rows, std::int64_t cols, std::vector<std::int64_t>&& indptr,
                               std::vector<std::int32_t>&& indices, std::vector<double>&& val,
                               const std::string& what = "sparse matrix");
  /// From CSC arrays (SciPy's csc_matrix(data, indices, indptr): indptr over the columns,
  /// indices are rows), checked as from_csr() checks its arrays.
  static SparseMatrix from_csc(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& indptr,
                               const std::vector<std::int64_t>& indices, const std::vector<double>& val,
                               const std::string& what = "sparse matrix");
  /// The nonzero entries of a dense matrix (zeros are not stored).
  static SparseMatrix from_dense(const MatrixView& m);

  /// The same matrix, dense (rows x cols doubles).
  Matrix to_dense() const;
  /// Throws InvalidArgument, prefixed by `what`, unless the arrays form a valid CSR matrix
  /// (indptr as from_csr() wants it, columns ascending, distinct and in range, values finite).
  void validate(const std::string& what = "sparse matrix") const;
};

}  // namespace qifsim
