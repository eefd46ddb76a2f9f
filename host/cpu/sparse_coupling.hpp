// host/cpu/sparse_coupling.hpp - sparse coupling on the CPU: y = W x over CSR rows, each row summed
// in ascending column order; the event-driven update over W's outgoing lists (CSC), each y_i
// taking the spiking columns in ascending order. Results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include <omp.h>

#include "cpu/coupling.hpp"
#include "cpu/ordered_sum.hpp"
#include "model/reduction.hpp"
#include "qifsim/sparse_matrix.hpp"

namespace qifsim::detail {

/// Rows are split among threads from this many stored values on.
constexpr std::int64_t kParallelSparse = 1 << 16;

template <class T>
class SparseCoupling final : public Coupling<T> {
 public:
  /// `m` is shared with the graph; in float64 its values are used in place, in float32 copied.
  explicit SparseCoupling(std::shared_ptr<const SparseMatrix> m) : m_(std::move(m)) {
    if constexpr (!std::is_same_v<T, double>) own_.assign(m_->values.begin(), m_->values.end());
  }
  std::int64_t rows() const override { return m_->rows; }
  std::int64_t cols() const override { return m_->cols; }

  /// Row i's sum adds val * x_j over its stored columns in ascending order, from 0. Once the
  /// outgoing lists exist (events), y = W x is made from the columns whose x_j != 0 instead,
  /// each y_i taking them in ascending j: the same terms in the same order, less the zero
  /// ones (equal bits, up to the sign of a zero), at the cost of the nonzero columns only.
  void apply(const T* x, bool accumulate, T* y) const override {
    if (!out_ptr_.empty() && !accumulate) {
      scatter(x, nullptr, Scatter::Product, T(0), y);
      return;
    }
    const std::int64_t* ptr = m_->indptr.data();
    const std::int32_t* col = m_->indices.data();
    const T* val = values();
    const std::int64_t rows = m_->rows;
    auto row = [&](std::int64_t i) {
      T acc = T(0);
      for (std::int64_t k = ptr[i]; k < ptr[i + 1]; ++k) acc += val[k] * x[col[k]];
      y[i] = accumulate ? y[i] + acc : acc;
    };
    if (m_->nnz() >= kParallelSparse) {
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < rows; ++i) row(i);
    } else {
      for (std::int64_t i = 0; i < rows; ++i) row(i);
    }
  }

  /// In blocks of rows (about kBatchBlockValues stored values each): a block's values read from
  /// memory once and kept in cache while every member's rows are summed from them, each sum in
  /// apply()'s order (the same bits; before events are prepared, as apply() then sums).
  void apply_batch(const T* const* X, std::int64_t members, T* const* Y, bool fast) const override {
    if (!out_ptr_.empty() || members < 2) {
      Coupling<T>::apply_batch(X, members, Y, fast);
      return;
    }
    const std::int64_t* ptr = m_->indptr.data();
    const std::int32_t* col = m_->indices.data();
    const T* val = values();
    const std::int64_t rows = m_->rows;
    const std::int64_t per_row = std::max<std::int64_t>(1, m_->nnz() / std::max<std::int64_t>(rows, 1));
    const std::int64_t block = std::max<std::int64_t>(1, kBatchBlockValues / per_row);
    const bool parallel = m_->nnz() * members >= kParallelSparse;
#pragma omp parallel for schedule(static) if (parallel)
    for (std::int64_t b = 0; b < rows; b += block) {
      const std::int64_t end = std::min(rows, b + block);
      for (std::int64_t m = 0; m < members; ++m) {
        const T* x = X[m];
        T* y = Y[m];
        for (std::int64_t i = b; i < end; ++i) {
          T acc = T(0);
          for (std::int64_t k = ptr[i]; k < ptr[i + 1]; ++k) acc += val[k] * x[col[k]];
          y[i] = acc;
        }
      }
    }
  }
  static constexpr std::int64_t kBatchBlockValues = 2048;  // 2048 x 12 bytes: in the L1 cache

  bool supports_events() const override { return true; }

  // The outgoing lists: column j's targets (ascending) and weights. Each thread fills the
  // lists of its own range of columns, walking the rows in order, so every list comes out
  // sorted whatever the thread count.
  void prepare_events() override {
    if (!out_ptr_.empty()) return;
    const std::int64_t n = m_->cols;
    const std::int64_t rows = m_->rows;
    const std::int64_t* ptr = m_->indptr.data();
    const std::int32_t* col = m_->indices.data();
    const T* val = values();
    out_ptr_.assign(static_cast<std::size_t>(n + 1), 0);
    out_row_.resize(m_->indices.size());
    out_val_.resize(m_->indices.size());
    std::int64_t* out_ptr = out_ptr_.data();
    std::int32_t* out_row = out_row_.data();
    T* out_val = out_val_.data();
    const bool parallel = m_->nnz() >= kParallelSparse;
#pragma omp parallel if (parallel)
    {
      const std::int64_t threads = omp_get_num_threads();
      const std::int64_t t = omp_get_thread_num();
      const std::int64_t chunk = (n + threads - 1) / threads;
      const auto lo = static_cast<std::int32_t>(std::min(n, t * chunk));
      const auto hi = static_cast<std::int32_t>(std::min(n, (t + 1) * chunk));
      const std::size_t nnz = m_->indices.size();
      for (std::size_t k = 0; k < nnz; ++k) {
        if (col[k] >= lo && col[k] < hi) ++out_ptr[col[k] + 1];
      }
#pragma omp barrier
#pragma omp single
      for (std::int64_t j = 0; j < n; ++j) out_ptr[j + 1] += out_ptr[j];
      std::vector<std::int64_t> next(out_ptr + lo, out_ptr + hi);
      for (std::int64_t i = 0; i < rows; ++i) {
        for (std::int64_t k = ptr[i]; k < ptr[i + 1]; ++k) {
          const std::int32_t c = col[k];
          if (c < lo || c >= hi) continue;
          const auto at = static_cast<std::size_t>(next[static_cast<std::size_t>(c - lo)]++);
          out_row[at] = static_cast<std::int32_t>(i);
          out_val[at] = val[k];
        }
      }
    }
  }

  void apply_spikes(const std::vector<long>& spikes, T c, T* y) const override {
    if (spikes.empty() && c == T(1)) return;  // nothing to add, nothing to decay
    scatter(nullptr, &spikes, Scatter::Spikes, c, y);
  }

 private:
  enum class Scatter {
    Spikes,   // y <- c y + the columns j in `spikes` (ascending)
    Product,  // y <- the columns j with x_j != 0, times x_j
  };

  // The columns j (the spikes, or the j with x[j] != 0), in ascending order, added to every y_i
  // in that order. For a product each thread lists the nonzeros of its own range of j; after a
  // barrier it owns a range of targets [lo, hi) and walks every listed column from its first
  // target >= lo.
  void scatter(const T* x, const std::vector<long>* spikes, Scatter how, T c, T* y) const {
    const long n = static_cast<long>(m_->rows);
    const bool parallel = n >= kParallelCoupling;
#pragma omp parallel if (parallel)
    {
      const long threads = omp_get_num_threads();
      const long t = omp_get_thread_num();
#pragma omp single
      lists_.resize(static_cast<std::size_t>(threads));
      const long chunk = (n + threads - 1) / threads;
      const long lo = std::min(n, t * chunk), hi = std::min(n, (t + 1) * chunk);
      std::vector<long>& mine = lists_[static_cast<std::size_t>(t)];
      mine.clear();
      if (how == Scatter::Product) {  // this thread's range of the columns (global)
        const long cols = static_cast<long>(m_->cols);
        const long cchunk = (cols + threads - 1) / threads;
        const long clo = std::min(cols, t * cchunk), chi = std::min(cols, (t + 1) * cchunk);
        for (long j = clo; j < chi; ++j) {
          if (x[j] != T(0)) mine.push_back(j);
        }
      }
#pragma omp barrier
      if (how == Scatter::Spikes) {
        if (c != T(1)) {
          for (long i = lo; i < hi; ++i) y[i] *= c;
        }
      } else {
        for (long i = lo; i < hi; ++i) y[i] = T(0);
      }
      const long lists = how == Scatter::Spikes ? 1 : threads;
      for (long q = 0; q < lists; ++q) {
        for (long j : how == Scatter::Spikes ? *spikes : lists_[static_cast<std::size_t>(q)]) {
          const std::int32_t* first = out_row_.data() + out_ptr_[static_cast<std::size_t>(j)];
          const std::int32_t* last = out_row_.data() + out_ptr_[static_cast<std::size_t>(j) + 1];
          const std::int32_t* r = lo == 0 ? first : std::lower_bound(first, last, static_cast<std::int32_t>(lo));
          const T* w = out_val_.data() + (r - out_row_.data());
          if (how == Scatter::Spikes) {
            for (; r != last && *r < hi; ++r, ++w) y[*r] += *w;
          } else {
            const T xj = x[j];
            for (; r != last && *r < hi; ++r, ++w) y[*r] += *w * xj;
          }
        }
      }
    }
  }

  const T* values() const {
    if constexpr (std::is_same_v<T, double>) {
      return m_->values.data();
    } else {
      return own_.data();
    }
  }
  std::shared_ptr<const SparseMatrix> m_;
  std::vector<T> own_;                   // float32: the values in T
  std::vector<std::int64_t> out_ptr_;    // events: CSC column pointers
  std::vector<std::int32_t> out_row_;    // ... targets, ascending per column
  std::vector<T> out_val_;               // ... weights
  mutable std::vector<std::vector<long>> lists_;  // events: each thread's nonzero columns, ascending
};

/// J_ij = w for every i, j: y_i = w * sum(x) (the sum in the one reduction order, in double),
/// O(rows + cols), no matrix.
template <class T>
class ProceduralCoupling final : public Coupling<T> {
 public:
  ProceduralCoupling(std::int64_t rows, std::int64_t cols, double w) : rows_(rows), cols_(cols), w_(w) {}
  std::int64_t rows() const override { return rows_; }
  std::int64_t cols() const override { return cols_; }
  void apply(const T* x, bool accumulate, T* y) const override { fill(accumulate, row_value(x), T(1), y); }
  bool uniform_rows() const override { return true; }
  T row_value(const T* x) const override {
    // Block sums on every thread from kParallelCoupling on, added in block order.
    const double sum = ordered_sum_threaded(cols_, [x](std::int64_t j) { return x[j]; }, partial_, kParallelCoupling);
    return static_cast<T>(w_ * sum);
  }
  bool supports_events() const override { return true; }
  void apply_spikes(const std::vector<long>& spikes, T c, T* y) const override {
    const T add = static_cast<T>(w_ * static_cast<double>(spikes.size()));
    if (add == T(0) && c == T(1)) return;
    fill(true, add, c, y);
  }

 private:
  // y_i <- v (accumulate: c y_i + v) for every row.
  void fill(bool accumulate, T v, T c, T* y) const {
    const std::int64_t rows = rows_;
    auto run = [&](std::int64_t i) { y[i] = accumulate ? c * y[i] + v : v; };
    if (rows >= kParallelCoupling) {
#pragma omp parallel for schedule(static)
      for (std::int64_t i = 0; i < rows; ++i) run(i);
    } else {
      for (std::int64_t i = 0; i < rows; ++i) run(i);
    }
  }
  std::int64_t rows_, cols_;
  double w_;
  mutable std::vector<double> partial_;  // block sums of a large x
};

}  // namespace qifsim::detail
