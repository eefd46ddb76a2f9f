// host/cpu/edge_memory.hpp - an edge's delays and filter on the CPU (RectiPy's LinearMemory,
// LinearFilter, LinearMemoryFilter): the state the edge's weights read, advanced once per
// step. The GPU's kernels/edge_memory.cu computes the same values in the same order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/edge_state.hpp"
#include "qifsim/weights.hpp"

namespace qifsim::detail {

template <class T>
class EdgeMemory {
 public:
  EdgeMemory() = default;
  /// The memory of an edge whose source has n units (nothing held without delays or a filter).
  EdgeMemory(const EdgeOptions& o, std::int64_t n)
      : n_(n), delays_(o.delays), filter_(o.filter.data.begin(), o.filter.data.end()),
        rectipy_write_(o.rectipy_buffer_write), columns_(edge_buffer_columns(o)) {
    reset();
  }

  /// True when the edge keeps a state (delays or a filter).
  bool stateful() const { return !delays_.empty() || !filter_.empty(); }

  /// The state back to zeros (a new network, reset()).
  void reset() {
    if (!stateful()) return;
    const auto size = static_cast<std::size_t>(n_ * std::max<std::int64_t>(columns_, 1));
    buffer_.assign(size, T(0));
    scratch_.assign(size, T(0));
    read_.assign(static_cast<std::size_t>(n_), T(0));
    head_ = 0;
  }

  /// What the weights read this step from the source's output x, advancing the state once:
  /// x itself (no state), y <- F y + x (a filter alone), or column 0 of the buffer rolled by
  /// one column, multiplied by F (with a filter), with x written into column delays[j] (of
  /// row j, or of every row in RectiPy's write; j ascending, the last unit wins).
  const T* advance(const T* x) {
    if (!stateful()) return x;
    const std::int64_t n = n_;
    const T* F = filter_.data();
    if (columns_ == 0) {  // LinearFilter: y <- F y + x
      const T* y = buffer_.data();
      for (std::int64_t i = 0; i < n; ++i) {
        T acc = T(0);
        for (std::int64_t k = 0; k < n; ++k) acc += F[i * n + k] * y[k];
        scratch_[static_cast<std::size_t>(i)] = acc + x[i];
      }
      buffer_.swap(scratch_);
      return buffer_.data();
    }
    const std::int64_t C = columns_;
    head_ = (head_ + 1) % C;  // roll by -1: logical column c is physical (head + c) % C
    if (!filter_.empty()) {   // B <- F B, every column (the wrapped one included)
      std::fill(scratch_.begin(), scratch_.end(), T(0));
      for (std::int64_t i = 0; i < n; ++i) {
        T* out = scratch_.data() + i * C;
        for (std::int64_t k = 0; k < n; ++k) {
          const T f = F[i * n + k];
          const T* in = buffer_.data() + k * C;
          for (std::int64_t c = 0; c < C; ++c) out[c] += f * in[c];
        }
      }
      buffer_.swap(scratch_);
    }
    T* B = buffer_.data();
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t c = (head_ + delays_[static_cast<std::size_t>(j)]) % C;
      if (rectipy_write_) {
        for (std::int64_t r = 0; r < n; ++r) B[r * C + c] = x[j];
      } else {
        B[j * C + c] = x[j];
      }
    }
    for (std::int64_t i = 0; i < n; ++i) read_[static_cast<std::size_t>(i)] = B[i * C + head_];
    return read_.data();
  }

  /// The state in core/edge_state.hpp's form (empty without delays or a filter).
  std::vector<double> state() const {
    if (!stateful()) return {};
    return logical_edge_state(buffer_.data(), n_, columns_, head_);
  }

  /// Takes state()'s form back; the run then goes on bit for bit.
  void set_state(const std::vector<double>& values) {
    if (!stateful()) {
      require_no_edge_state(values, "set_edge_state");
      return;
    }
    require_edge_state_size(values, n_, columns_, "set_edge_state");
    for (std::size_t i = 0; i < values.size(); ++i) buffer_[i] = static_cast<T>(values[i]);
    head_ = 0;
  }

 private:
  std::int64_t n_ = 0;                // source width
  std::vector<std::int64_t> delays_;  // per source unit; empty: none
  std::vector<T> filter_;             // n x n; empty: none
  bool rectipy_write_ = false;        // input j into column delays[j] of every row
  std::int64_t columns_ = 0;          // max delay + 1 (0: no delays)
  std::int64_t head_ = 0;             // where logical column 0 of the buffer is
  std::vector<T> buffer_, scratch_;   // n x columns (by source unit), or y (a filter alone)
  std::vector<T> read_;               // the column the weights read
};

}  // namespace qifsim::detail
