// host/core/weights.cpp - a coupling's connectivity (qifsim/weights.hpp).
#include "qifsim/weights.hpp"

#include <cmath>

#include "qifsim/error.hpp"

namespace qifsim {

Weights::Weights(Matrix m) {
  if (m.empty() && m.data.empty()) return;
  kind_ = Kind::Dense;
  rows_ = m.rows;
  cols_ = m.cols;
  dense_ = std::make_shared<const Matrix>(std::move(m));
}

Weights::Weights(SparseMatrix m) : kind_(Kind::Sparse), rows_(m.rows), cols_(m.cols) {
  sparse_ = std::make_shared<const SparseMatrix>(std::move(m));
}

Weights Weights::all_to_all(std::int64_t rows, std::int64_t cols, double value) {
  if (rows < 0 || cols < 0) throw InvalidArgument("all-to-all weights: negative shape");
  if (!std::isfinite(value)) throw InvalidArgument("all-to-all weights: the value " + std::to_string(value) + " is not finite");
  Weights w;
  w.kind_ = Kind::AllToAll;
  w.rows_ = rows;
  w.cols_ = cols;
  w.value_ = value;
  return w;
}

std::int64_t Weights::synapses() const {
  switch (kind_) {
    case Kind::None: return 0;
    case Kind::Sparse: return sparse_->nnz();
    case Kind::Dense:
    case Kind::AllToAll: return rows_ * cols_;
  }
  return 0;
}

const Matrix& Weights::dense() const {
  if (kind_ != Kind::Dense) throw InvalidArgument("weights: not a dense matrix");
  return *dense_;
}

const SparseMatrix& Weights::sparse() const {
  if (kind_ != Kind::Sparse) throw InvalidArgument("weights: not a sparse matrix");
  return *sparse_;
}

double Weights::value() const {
  if (kind_ != Kind::AllToAll) throw InvalidArgument("weights: not all-to-all");
  return value_;
}

Matrix Weights::to_dense() const {
  switch (kind_) {
    case Kind::None: return Matrix();
    case Kind::Dense: return *dense_;
    case Kind::Sparse: return sparse_->to_dense();
    case Kind::AllToAll: return Matrix(rows_, cols_, value_);
  }
  return Matrix();
}

SparseMatrix Weights::to_sparse() const {
  switch (kind_) {
    case Kind::None: return SparseMatrix();
    case Kind::Dense: return SparseMatrix::from_dense(*dense_);
    case Kind::Sparse: return *sparse_;
    case Kind::AllToAll: {
      SparseMatrix m(rows_, cols_);
      m.indices.reserve(static_cast<std::size_t>(rows_ * cols_));
      for (std::int64_t r = 0; r < rows_; ++r) {
        for (std::int64_t c = 0; c < cols_; ++c) m.indices.push_back(static_cast<std::int32_t>(c));
        m.indptr[static_cast<std::size_t>(r + 1)] = (r + 1) * cols_;
      }
      m.values.assign(static_cast<std::size_t>(rows_ * cols_), value_);
      return m;
    }
  }
  return SparseMatrix();
}

}  // namespace qifsim
