// host/core/row_slice.hpp - rows [lo, hi) of a coupling's weights, as weights of their own (the
// rows a rank or a slice of a population owns; the columns stay global).
#pragma once

#include <cstdint>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/weights.hpp"

namespace qifsim::detail {

/// Rows lo .. hi - 1 of `w` (0 <= lo <= hi <= rows): a dense matrix's rows (no rows: an empty
/// sparse matrix), a sparse matrix's rows (CSR, columns unchanged), or all-to-all weights of
/// hi - lo rows.
inline Weights row_slice(const Weights& w, std::int64_t lo, std::int64_t hi) {
  if (lo < 0 || hi < lo || hi > w.rows()) {
    throw InvalidArgument("row_slice: rows " + std::to_string(lo) + ".." + std::to_string(hi) + " of " +
                          std::to_string(w.rows()));
  }
  switch (w.kind()) {
    case Weights::Kind::Dense: {
      const Matrix& m = w.dense();
      // No rows (a rank holding none of the population): a 0 x cols matrix is still weights,
      // which an empty dense Matrix would not be.
      if (hi == lo) return SparseMatrix::from_csr(0, m.cols, {0}, {}, {}, "row_slice");
      return Matrix(hi - lo, m.cols,
                    std::vector<double>(m.data.begin() + lo * m.cols, m.data.begin() + hi * m.cols));
    }
    case Weights::Kind::Sparse: {
      const SparseMatrix& s = w.sparse();
      const auto a = static_cast<std::size_t>(s.indptr[static_cast<std::size_t>(lo)]);
      const auto b = static_cast<std::size_t>(s.indptr[static_cast<std::size_t>(hi)]);
      std::vector<std::int64_t> indptr;
      indptr.reserve(static_cast<std::size_t>(hi - lo + 1));
      for (std::int64_t i = lo; i <= hi; ++i) {
        indptr.push_back(s.indptr[static_cast<std::size_t>(i)] - static_cast<std::int64_t>(a));
      }
      return SparseMatrix::from_csr(
          hi - lo, s.cols, indptr,
          std::vector<std::int64_t>(s.indices.begin() + static_cast<std::ptrdiff_t>(a),
                                    s.indices.begin() + static_cast<std::ptrdiff_t>(b)),
          std::vector<double>(s.values.begin() + static_cast<std::ptrdiff_t>(a),
                              s.values.begin() + static_cast<std::ptrdiff_t>(b)),
          "row_slice");
    }
    case Weights::Kind::AllToAll: return Weights::all_to_all(hi - lo, w.cols(), w.value());
    default: return Weights();
  }
}

}  // namespace qifsim::detail
