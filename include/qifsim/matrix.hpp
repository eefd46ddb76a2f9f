// qifsim/matrix.hpp - the dense row-major array type used at the API boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace qifsim {

/// A dense row-major matrix of doubles: weights (rows = targets), inputs (rows = steps)
/// and recordings (rows = samples). A vector is a 1 x n or n x 1 matrix.
struct Matrix {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::vector<double> data;  ///< rows * cols values, row after row

  Matrix() = default;
  /// A rows x cols matrix filled with `value`.
  Matrix(std::int64_t r, std::int64_t c, double value = 0.0)
      : rows(r), cols(c), data(static_cast<std::size_t>(r * c), value) {}
  /// A rows x cols matrix taking `values` (row-major; size must be rows * cols).
  Matrix(std::int64_t r, std::int64_t c, std::vector<double> values)
      : rows(r), cols(c), data(std::move(values)) {}

  double& operator()(std::int64_t r, std::int64_t c) { return data[static_cast<std::size_t>(r * cols + c)]; }
  double operator()(std::int64_t r, std::int64_t c) const { return data[static_cast<std::size_t>(r * cols + c)]; }
  /// Pointer to the first value of row r.
  const double* row(std::int64_t r) const { return data.data() + r * cols; }
  double* row(std::int64_t r) { return data.data() + r * cols; }
  bool empty() const { return rows == 0 || cols == 0; }
};

/// A read-only view of row-major doubles owned elsewhere (a Matrix, a NumPy array, a
/// memory-mapped file): rows x cols values, `size` of them readable. A Matrix converts to it.
struct MatrixView {
  const double* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::size_t size = 0;  ///< values readable at data (rows * cols for a consistent view)

  MatrixView() = default;
  MatrixView(const double* values, std::int64_t r, std::int64_t c)
      : data(values), rows(r), cols(c), size(static_cast<std::size_t>(r * c)) {}
  MatrixView(const Matrix& m)  // NOLINT: implicit on purpose, so a Matrix is accepted as is
      : data(m.data.data()), rows(m.rows), cols(m.cols), size(m.data.size()) {}
  const double* row(std::int64_t r) const { return data + r * cols; }
};

}  // namespace qifsim
