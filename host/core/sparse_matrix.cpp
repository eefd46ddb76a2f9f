// host/core/sparse_matrix.cpp - building and checking CSR matrices (qifsim/sparse_matrix.hpp).
#include "qifsim/sparse_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "qifsim/error.hpp"

namespace qifsim {
namespace {

std::string num(std::int64_t v) { return std::to_string(v); }

void check_shape(std::int64_t rows, std::int64_t cols, const std::string& what) {
  if (rows < 0 || cols < 0) throw InvalidArgument(what + ": shape (" + num(rows) + ", " + num(cols) + ") is negative");
  if (cols > std::numeric_limits<std::int32_t>::max() || rows > std::numeric_limits<std::int32_t>::max()) {
    throw InvalidArgument(what + ": shape (" + num(rows) + ", " + num(cols) + ") has more than 2^31 - 1 rows or columns");
  }
}

void check_values(const std::vector<double>& val, const std::string& what) {
  for (std::size_t k = 0; k < val.size(); ++k) {
    if (!std::isfinite(val[k])) {
      throw InvalidArgument(what + ": value " + std::to_string(k) + " is " + std::to_string(val[k]) + " (weights must be finite)");
    }
  }
}

// Compressed arrays over `outer` lines (rows for CSR, columns for CSC) with `inner` positions.
template <class Index>
void check_compressed(std::int64_t outer, std::int64_t inner, const std::vector<std::int64_t>& indptr,
                      const std::vector<Index>& indices, const std::vector<double>& val,
                      const char* outer_name, const char* inner_name, const std::string& what) {
  if (static_cast<std::int64_t>(indptr.size()) != outer + 1) {
    throw InvalidArgument(what + ": indptr has " + num(static_cast<std::int64_t>(indptr.size())) + " entries; expected " +
                          num(outer + 1) + " (" + outer_name + " + 1)");
  }
  if (indices.size() != val.size()) {
    throw InvalidArgument(what + ": " + num(static_cast<std::int64_t>(indices.size())) + " indices but " +
                          num(static_cast<std::int64_t>(val.size())) + " values");
  }
  if (indptr[0] != 0) throw InvalidArgument(what + ": indptr[0] is " + num(indptr[0]) + "; expected 0");
  for (std::int64_t i = 0; i < outer; ++i) {
    if (indptr[static_cast<std::size_t>(i + 1)] < indptr[static_cast<std::size_t>(i)]) {
      throw InvalidArgument(what + ": indptr decreases at " + num(i + 1) + " (" + num(indptr[static_cast<std::size_t>(i)]) +
                            " -> " + num(indptr[static_cast<std::size_t>(i + 1)]) + ")");
    }
  }
  if (indptr.back() != static_cast<std::int64_t>(val.size())) {
    throw InvalidArgument(what + ": indptr ends at " + num(indptr.back()) + " but there are " +
                          num(static_cast<std::int64_t>(val.size())) + " values");
  }
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] < 0 || indices[k] >= inner) {
      throw InvalidArgument(what + ": " + inner_name + " index " + num(indices[k]) + " (entry " + num(static_cast<std::int64_t>(k)) +
                            ") is out of range [0, " + num(inner) + ")");
    }
  }
  check_values(val, what);
}

// Rows already grouped (row r's entries at [ptr[r], ptr[r+1]) of col/val): sort each row's
// columns (stable, so duplicates are summed in the order given) and sum duplicates.
SparseMatrix compress_rows(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& ptr,
                           const std::vector<std::int64_t>& col, const std::vector<double>& val) {
  SparseMatrix m(rows, cols);
  m.indices.reserve(col.size());
  m.values.reserve(val.size());
  std::vector<std::size_t> order;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto b = static_cast<std::size_t>(ptr[static_cast<std::size_t>(r)]);
    const auto e = static_cast<std::size_t>(ptr[static_cast<std::size_t>(r + 1)]);
    bool sorted = true;
    for (std::size_t k = b + 1; k < e; ++k) sorted = sorted && col[k - 1] < col[k];
    if (sorted) {
      for (std::size_t k = b; k < e; ++k) {
        m.indices.push_back(static_cast<std::int32_t>(col[k]));
        m.values.push_back(val[k]);
      }
    } else {
      order.resize(e - b);
      std::iota(order.begin(), order.end(), b);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return col[x] < col[y]; });
      for (std::size_t q = 0; q < order.size(); ++q) {
        const std::size_t k = order[q];
        if (q > 0 && col[order[q - 1]] == col[k]) {
          m.values.back() += val[k];
        } else {
          m.indices.push_back(static_cast<std::int32_t>(col[k]));
          m.values.push_back(val[k]);
        }
      }
    }
    m.indptr[static_cast<std::size_t>(r + 1)] = static_cast<std::int64_t>(m.values.size());
  }
  return m;
}

// Checked coordinates grouped by row (a stable counting sort: entries of a row keep the order
// given), then each row sorted and its duplicates summed.
SparseMatrix group_rows(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& row,
                        const std::vector<std::int64_t>& col, const std::vector<double>& val) {
  std::vector<std::int64_t> ptr(static_cast<std::size_t>(rows + 1), 0);
  for (std::int64_t r : row) ++ptr[static_cast<std::size_t>(r + 1)];
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) ptr[r + 1] += ptr[r];
  std::vector<std::int64_t> c2(col.size());
  std::vector<double> v2(val.size());
  std::vector<std::int64_t> next(ptr.begin(), ptr.end() - 1);
  for (std::size_t k = 0; k < row.size(); ++k) {
    const auto at = static_cast<std::size_t>(next[static_cast<std::size_t>(row[k])]++);
    c2[at] = col[k];
    v2[at] = val[k];
  }
  return compress_rows(rows, cols, ptr, c2, v2);
}

}  // namespace

SparseMatrix::SparseMatrix(std::int64_t r, std::int64_t c) : rows(r), cols(c), indptr(static_cast<std::size_t>(r < 0 ? 1 : r + 1), 0) {
  check_shape(r, c, "sparse matrix");
}

SparseMatrix SparseMatrix::from_coo(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& row,
                                   const std::vector<std::int64_t>& col, const std::vector<double>& val,
                                   const std::string& what) {
  check_shape(rows, cols, what);
  if (row.size() != col.size() || row.size() != val.size()) {
    throw InvalidArgument(what + ": " + num(static_cast<std::int64_t>(row.size())) + " rows, " +
                          num(static_cast<std::int64_t>(col.size())) + " columns and " +
                          num(static_cast<std::int64_t>(val.size())) + " values; expected as many of each");
  }
  for (std::size_t k = 0; k < row.size(); ++k) {
    if (row[k] < 0 || row[k] >= rows || col[k] < 0 || col[k] >= cols) {
      throw InvalidArgument(what + ": entry " + num(static_cast<std::int64_t>(k)) + " at (" + num(row[k]) + ", " + num(col[k]) +
                            ") is outside the (" + num(rows) + ", " + num(cols) + ") matrix");
    }
  }
  check_values(val, what);
  return group_rows(rows, cols, row, col, val);
}

SparseMatrix SparseMatrix::from_csr(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& indptr,
                                   const std::vector<std::int64_t>& indices, const std::vector<double>& val,
                                   const std::string& what) {
  check_shape(rows, cols, what);
  check_compressed(rows, cols, indptr, indices, val, "rows", "column", what);
  return compress_rows(rows, cols, indptr, indices, val);
}

SparseMatrix SparseMatrix::from_csr(std::int64_t rows, std::int64_t cols, std::vector<std::int64_t>&& indptr,
                                   std::vector<std::int32_t>&& indices, std::vector<double>&& val,
                                   const std::string& what) {
  check_shape(rows, cols, what);
  check_compressed(rows, cols, indptr, indices, val, "rows", "column", what);
  bool canonical = true;  // every row's columns ascending and distinct: taken over as they are
  for (std::int64_t r = 0; r < rows && canonical; ++r) {
    for (std::int64_t k = indptr[static_cast<std::size_t>(r)] + 1; k < indptr[static_cast<std::size_t>(r + 1)]; ++k) {
      if (indices[static_cast<std::size_t>(k)] <= indices[static_cast<std::size_t>(k - 1)]) {
        canonical = false;
        break;
      }
    }
  }
  if (!canonical) {
    const std::vector<std::int64_t> wide(indices.begin(), indices.end());
    return compress_rows(rows, cols, indptr, wide, val);
  }
  SparseMatrix m(rows, cols);
  m.indptr = std::move(indptr);
  m.indices = std::move(indices);
  m.values = std::move(val);
  return m;
}

SparseMatrix SparseMatrix::from_csc(std::int64_t rows, std::int64_t cols, const std::vector<std::int64_t>& indptr,
                                   const std::vector<std::int64_t>& indices, const std::vector<double>& val,
                                   const std::string& what) {
  check_shape(rows, cols, what);
  check_compressed(cols, rows, indptr, indices, val, "columns", "row", what);
  // Coordinates column by column; grouping them by row keeps each row's columns ascending, with
  // duplicates adjacent in the order given.
  std::vector<std::int64_t> col(val.size());
  for (std::int64_t c = 0; c < cols; ++c) {
    for (std::int64_t k = indptr[static_cast<std::size_t>(c)]; k < indptr[static_cast<std::size_t>(c + 1)]; ++k) {
      col[static_cast<std::size_t>(k)] = c;
    }
  }
  return group_rows(rows, cols, indices, col, val);
}

SparseMatrix SparseMatrix::from_dense(const MatrixView& d) {
  SparseMatrix m(d.rows, d.cols);
  for (std::int64_t r = 0; r < d.rows; ++r) {
    const double* row = d.row(r);
    for (std::int64_t c = 0; c < d.cols; ++c) {
      if (row[c] != 0.0) {
        m.indices.push_back(static_cast<std::int32_t>(c));
        m.values.push_back(row[c]);
      }
    }
    m.indptr[static_cast<std::size_t>(r + 1)] = static_cast<std::int64_t>(m.values.size());
  }
  return m;
}

Matrix SparseMatrix::to_dense() const {
  Matrix d(rows, cols, 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t k = indptr[static_cast<std::size_t>(r)]; k < indptr[static_cast<std::size_t>(r + 1)]; ++k) {
      d(r, indices[static_cast<std::size_t>(k)]) = values[static_cast<std::size_t>(k)];
    }
  }
  return d;
}

void SparseMatrix::validate(const std::string& what) const {
  check_shape(rows, cols, what);
  std::vector<std::int64_t> idx(indices.begin(), indices.end());
  check_compressed(rows, cols, indptr, idx, values, "rows", "column", what);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t k = indptr[static_cast<std::size_t>(r)] + 1; k < indptr[static_cast<std::size_t>(r + 1)]; ++k) {
      if (indices[static_cast<std::size_t>(k)] <= indices[static_cast<std::size_t>(k - 1)]) {
        throw InvalidArgument(what + ": row " + num(r) + " has columns out of order or repeated (" +
                              num(indices[static_cast<std::size_t>(k - 1)]) + " then " + num(indices[static_cast<std::size_t>(k)]) + ")");
      }
    }
  }
}

}  // namespace qifsim
