// host/cpu/coupling.hpp - where the CPU applies coupling: one operator interface for a
// population's recurrent J s and an edge's W x. DenseCoupling is today's operator (the row-major
// product of blas.hpp, and the event-driven update from J's columns of event_coupling.hpp);
// sparse and procedural operators (sparse_coupling.hpp) implement the same interface;
// make_coupling.hpp picks one.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "cpu/blas.hpp"
#include "cpu/event_coupling.hpp"
#include "qifsim/error.hpp"

namespace qifsim::detail {

/// y = W x for a rows x cols operator W (a population's J: N x N; an edge: target x source).
template <class T>
class Coupling {
 public:
  virtual ~Coupling() = default;
  virtual std::int64_t rows() const = 0;
  virtual std::int64_t cols() const = 0;
  /// y <- W x, or y <- y + W x with `accumulate`, each row summed in the operator's fixed order.
  virtual void apply(const T* x, bool accumulate, T* y) const = 0;
  /// With `fixed`, apply() sums every row in the library's own fixed order at every size
  /// (RunOptions::reproducible); operators whose order is always their own ignore it.
  virtual void set_fixed_order(bool fixed) { (void)fixed; }
  /// True where every row of W x is one value (all weights equal): row_value() gives it, and a
  /// population fed only through such operators takes its input as that one value.
  virtual bool uniform_rows() const { return false; }
  /// The value every row of W x takes (uniform_rows() only), with the bits apply() writes.
  virtual T row_value(const T* x) const {
    (void)x;
    throw InvalidArgument("this coupling operator's rows are not one value");
  }
  /// Y[m] <- W X[m] (Y[m] + W X[m] with `accumulate`) for members m = 0 .. members - 1: X[m]
  /// at X + m * ldx (cols values), Y[m] at Y + m * ldy (rows values), each row summed as apply()
  /// sums it, so that member m's result has the bits of a network of one.
  virtual void apply_members(const T* X, std::int64_t ldx, std::int64_t members, bool accumulate, T* Y,
                             std::int64_t ldy) const {
    for (std::int64_t m = 0; m < members; ++m) apply(X + m * ldx, accumulate, Y + m * ldy);
  }
  /// y_m <- W x_m for the members m = 0 .. members - 1 of an ensemble (x_m: cols values at X[m],
  /// y_m: rows values at Y[m]). Each y_m has the bits apply() writes, unless `fast`: then the
  /// operator may take all members in one matrix product of another order (a GEMM; within
  /// rounding of apply()). An operator held once for all members reads its weights once here.
  virtual void apply_batch(const T* const* X, std::int64_t members, T* const* Y, bool fast) const {
    (void)fast;
    for (std::int64_t m = 0; m < members; ++m) apply(X[m], false, Y[m]);
  }
  /// True where apply_spikes() is available (an operator whose columns can be added; rows may
  /// be a slice of a population's: the columns are global, the rows local).
  virtual bool supports_events() const { return false; }
  /// Before an event-driven run: what apply_spikes() needs, allocated outside the step loop.
  virtual void prepare_events() {}
  /// Event-driven update: y <- c y + the columns j of W in `spikes` (ascending), in that order.
  virtual void apply_spikes(const std::vector<long>& spikes, T c, T* y) const {
    (void)spikes, (void)c, (void)y;
    throw InvalidArgument("this coupling operator has no event-driven update");
  }
  /// apply_spikes for members m = 0 .. members - 1: spikes[m] (ascending global columns) into
  /// Y + m * ldy.
  virtual void apply_spikes_members(const std::vector<long>* spikes, std::int64_t members, T c, T* Y,
                                    std::int64_t ldy) const {
    for (std::int64_t m = 0; m < members; ++m) apply_spikes(spikes[m], c, Y + m * ldy);
  }
};

/// A dense matrix: row-major, or, once prepared for events, column-major only (J is held once:
/// the event update adds columns, and a product then sums each row over the columns in
/// ascending order, a fixed order of its own).
template <class T>
class DenseCoupling final : public Coupling<T> {
 public:
  DenseCoupling(std::int64_t rows, std::int64_t cols, std::vector<T> w)
      : rows_(rows), cols_(cols), w_(std::move(w)) {}
  std::int64_t rows() const override { return rows_; }
  std::int64_t cols() const override { return cols_; }
  void apply(const T* x, bool accumulate, T* y) const override {
    if (w_.empty() && !columns_.empty()) {
      product_from_columns(columns_.data(), x, accumulate, y, static_cast<long>(rows_), static_cast<long>(cols_));
    } else if (fixed_order_) {
      gemv_loop<T>(rows_, cols_, w_.data(), x, accumulate ? T(1) : T(0), y);
    } else {
      gemv<T>(rows_, cols_, w_.data(), x, accumulate ? T(1) : T(0), y);
    }
  }
  void set_fixed_order(bool fixed) override { fixed_order_ = fixed; }
  /// Fixed order: the rows of gemv_loop, each block of rows read once for every member (the
  /// same bits as apply()). `fast`: one GEMM, Y^T = J X^T (OpenBLAS where the build has it)
  /// from kGemmMembers members on (fewer make a GEMM slower than the row loop: at N = 1000,
  /// B = 8, OpenBLAS's GEMM ran at 18 GFLOP/s and its GEMV at 33 on this machine), the row loop
  /// below. Otherwise, and once prepared for events, apply() member by member.
  void apply_batch(const T* const* X, std::int64_t members, T* const* Y, bool fast) const override {
    if (w_.empty() || members < 2 || (!fixed_order_ && !fast)) {
      Coupling<T>::apply_batch(X, members, Y, fast);
    } else if (fixed_order_ || members < kGemmMembers || !gemm_batch<T>(rows_, cols_, w_.data(), X, members, Y, pack_)) {
      gemv_loop_batch<T>(rows_, cols_, w_.data(), X, members, Y);
    }
  }
  static constexpr std::int64_t kGemmMembers = 16;
  bool supports_events() const override { return true; }
  /// J's columns made contiguous (cols x rows) and the row-major copy freed: J is held once; a
  /// square J is transposed in place, with no second copy even while it is converted.
  void prepare_events() override {
    if (!columns_.empty() || w_.empty()) return;
    if (rows_ == cols_) {
      columns_ = std::move(w_);
      w_.clear();
      transpose_square(columns_.data(), static_cast<long>(rows_));
      return;
    }
    columns_.resize(w_.size());
    for (std::int64_t i = 0; i < rows_; ++i) {
      for (std::int64_t j = 0; j < cols_; ++j) columns_[static_cast<std::size_t>(j * rows_ + i)] = w_[static_cast<std::size_t>(i * cols_ + j)];
    }
    std::vector<T>().swap(w_);
  }
  void apply_spikes(const std::vector<long>& spikes, T c, T* y) const override {
    couple_from_spikes(y, columns_.data(), spikes, static_cast<long>(rows_), c);
  }

 private:
  std::int64_t rows_, cols_;
  bool fixed_order_ = false;  // gemv_loop at every size (RunOptions::reproducible)
  std::vector<T> w_;          // row-major (empty once prepared for events)
  std::vector<T> columns_;    // events only: J's columns, contiguous
  mutable std::vector<T> pack_;  // apply_batch's GEMM: the members' x, then their y
};

}  // namespace qifsim::detail
