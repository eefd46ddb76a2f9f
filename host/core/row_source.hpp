// host/core/row_source.hpp - the rows of a run's inputs (and targets) as the engines read them:
// the caller's memory in place, or pieces fetched from an InputSource as the run goes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/error.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/network.hpp"

namespace qifsim::detail {

class RowSource {
 public:
  /// Rows read in place (checked finite beforehand by the caller).
  explicit RowSource(const MatrixView& view) : view_(view), rows_(view.rows), cols_(view.cols) {}
  /// Rows fetched in pieces of about `piece_bytes`, each checked finite as it arrives; `what`
  /// names them in messages ("input", "target").
  RowSource(const InputSource& source, std::string what, std::int64_t piece_bytes = std::int64_t{4} << 20)
      : source_(&source), rows_(source.rows), cols_(source.cols), what_(std::move(what)) {
    piece_rows_ = std::max<std::int64_t>(1, piece_bytes / std::max<std::int64_t>(1, cols_ * 8));
  }

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  /// True when the rows are read in place (and were checked before the run).
  bool in_place() const { return source_ == nullptr; }

  /// Rows [first, first + count) as count x cols contiguous values, valid until the next
  /// call. In place this is a pointer into the caller's memory.
  const double* rows(std::int64_t first, std::int64_t count) {
    if (!source_) return view_.row(first);
    if (first < begin_ || first + count > end_) load(first, count);
    return buffer_.data() + (first - begin_) * cols_;
  }
  const double* row(std::int64_t t) { return rows(t, 1); }

 private:
  void load(std::int64_t first, std::int64_t count) {
    const std::int64_t n = std::min(rows_ - first, std::max(count, piece_rows_));
    buffer_.resize(static_cast<std::size_t>(n * cols_));
    begin_ = end_ = 0;  // nothing valid while fetching (fetch may throw)
    source_->fetch(first, n, buffer_.data());
    for (std::int64_t i = 0; i < n * cols_; ++i) {
      if (!std::isfinite(buffer_[static_cast<std::size_t>(i)])) {
        throw InvalidArgument(what_ + " (" + std::to_string(first + i / cols_) + ", " + std::to_string(i % cols_) +
                              ") is not finite");
      }
    }
    begin_ = first;
    end_ = first + n;
  }

  MatrixView view_;
  const InputSource* source_ = nullptr;
  std::int64_t rows_ = 0;
  std::int64_t cols_ = 0;
  std::string what_;
  std::int64_t piece_rows_ = 1;
  std::vector<double> buffer_;
  std::int64_t begin_ = 0;  // rows held in buffer_: [begin_, end_)
  std::int64_t end_ = 0;
};

}  // namespace qifsim::detail
