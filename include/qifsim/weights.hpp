// qifsim/weights.hpp - a coupling's connectivity as the user gives it: dense, sparse or
// all-to-all with one value. The storage follows from it; the run option `coupling`
// (RunOptions::coupling) chooses how the engine applies it.
#pragma once

#include <cstdint>
#include <memory>

#include "qifsim/matrix.hpp"
#include "qifsim/sparse_matrix.hpp"

namespace qifsim {

/// Weights of a population's recurrent coupling J (N x N, row i = weights onto neuron i) or of an
/// edge (target size x source size). Copies share the stored matrix (it is never changed after
/// construction), so a graph and its engine hold one copy of the connectivity.
class Weights {
 public:
  enum class Kind {
    None,      ///< no coupling
    Dense,     ///< a dense row-major Matrix
    Sparse,    ///< a SparseMatrix (CSR)
    AllToAll,  ///< every entry equals value(): J s = value * sum(s), no matrix stored
  };

  Weights() = default;
  /// A dense matrix (an empty one means no coupling).
  Weights(Matrix m);  // NOLINT: implicit on purpose, `pop.weights = J`
  /// A sparse matrix.
  Weights(SparseMatrix m);  // NOLINT: implicit on purpose, `pop.weights = sparse`
  /// rows x cols, every entry equal to `value`, held as the one number.
  static Weights all_to_all(std::int64_t rows, std::int64_t cols, double value);

  Kind kind() const { return kind_; }
  bool empty() const { return kind_ == Kind::None; }
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  /// Number of connections: stored values (Sparse), rows * cols (Dense, AllToAll), 0 (None).
  std::int64_t synapses() const;
  /// The dense matrix; throws InvalidArgument unless kind() == Dense.
  const Matrix& dense() const;
  /// The sparse matrix; throws InvalidArgument unless kind() == Sparse.
  const SparseMatrix& sparse() const;
  /// The shared sparse matrix (null unless kind() == Sparse).
  const std::shared_ptr<const SparseMatrix>& sparse_shared() const { return sparse_; }
  /// The one value of an all-to-all coupling; throws InvalidArgument unless kind() == AllToAll.
  double value() const;
  /// The matrix made dense, whatever the kind (rows x cols doubles; empty for None).
  Matrix to_dense() const;
  /// The matrix in CSR form, whatever the kind (an all-to-all matrix stores every entry).
  SparseMatrix to_sparse() const;

 private:
  Kind kind_ = Kind::None;
  std::int64_t rows_ = 0, cols_ = 0;
  std::shared_ptr<const Matrix> dense_;
  std::shared_ptr<const SparseMatrix> sparse_;
  double value_ = 0.0;
};

}  // namespace qifsim
