// qifsim/weights.hpp - a coupling's connectivity as the user gives it: dense, sparse or
// all-to-all with one value. The storage follows from it; the run option `coupling`
// (RunOptions::coupling) chooses how the engine applies it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

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

/// What an edge does besides its weights: RectiPy's other edge kinds, each optional.
struct EdgeOptions {
  /// One delay in steps per source unit (RectiPy's `delays`, LinearMemory): a buffer of
  /// n x (max delay + 1) values, rolled by one column each step, takes source unit i's output
  /// in column delays[i]; the weights read column 0, so unit i arrives delays[i] steps later
  /// (0: at once). Empty: no delays.
  std::vector<std::int64_t> delays;
  /// n x n (n: the source's width) recurrence on the edge (RectiPy's `filter_weights`). Without
  /// delays the weights read y <- F y + x (LinearFilter); with delays F multiplies the whole
  /// rolled buffer before the new input is written (LinearMemoryFilter): O(n^2 (max delay + 1))
  /// per step. Empty: none.
  Matrix filter;
  /// target size x source size, multiplied into the weights entry by entry (RectiPy's `mask`,
  /// LinearMasked), taken as written. Empty: none.
  Matrix mask;
  /// RectiPy 0.12.2's buffer write: input unit j goes into column delays[j] of every row (all
  /// source units then read one value); the Python API sets it so that RectiPy scripts get
  /// RectiPy's numbers. False: unit j into row j only.
  bool rectipy_buffer_write = false;

  /// True when the edge keeps a state between steps (delays or a filter).
  bool stateful() const { return !delays.empty() || !filter.data.empty(); }
};

}  // namespace qifsim
