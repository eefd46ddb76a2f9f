// host/core/observer_engine_side.hpp - the Observer's side that Network and the engines use to
// fill it (widths, offsets, memory, sinks, batches of sample rows); not public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/observer.hpp"

namespace qifsim::detail {

class ObserverEngineSide {
 public:
  explicit ObserverEngineSide(Observer& obs) : obs_(obs) {}

  /// Fix the widths: output width and one width per RecordVar (already 1 for means).
  /// Throws InvalidArgument if the observer already holds samples of other widths.
  void bind(std::int64_t output_width, const std::vector<std::int64_t>& var_widths) {
    obs_.bind(output_width, var_widths);
  }
  /// Values in one sample row: [out][loss][var 0][var 1]... in that order.
  std::int64_t row_width() const { return obs_.row_width(); }
  /// Offset of each part in a row (-1 where not recorded).
  std::int64_t output_offset() const { return obs_.output_offset(); }
  std::int64_t loss_offset() const { return obs_.loss_offset(); }
  std::int64_t var_offset(std::size_t i) const { return obs_.var_offset(i); }
  /// Refuse (MemoryBudgetError) if adding `more_samples` plus `extra_bytes` of staging
  /// would exceed the budget; reserves the storage otherwise.
  void prepare(std::int64_t more_samples, std::size_t extra_bytes) { obs_.prepare(more_samples, extra_bytes); }
  /// Tell every sink that a run starts (SampleSink::start), after bind() and prepare().
  void start_sinks() const { obs_.start_sinks(); }
  /// Append `count` rows of row_width() values each (row-major) with their step indices.
  /// A row holding a value that is not finite is refused with DivergenceError naming it;
  /// the rows before it are appended first.
  template <class T>
  void append_batch(const T* rows, const std::int64_t* steps, std::int64_t count) {
    obs_.append_batch(rows, steps, count);
  }
  /// Member `member` of an ensemble stopped at `step` for `reason`: its parts of the rows of
  /// that step and later hold NaN, which append_batch then accepts.
  void stop_member(std::int64_t member, std::int64_t step, const std::string& reason) {
    obs_.stop_member(member, step, reason);
  }
  /// Append `count` spike events of spec().spikes[pop] (steps and neuron indices, in order).
  /// `members`: an ensemble's, the member of each event.
  void append_spikes(std::size_t pop, const std::int64_t* steps, const std::int64_t* neurons, std::int64_t count,
                     const std::int64_t* members = nullptr) {
    obs_.append_spikes(pop, steps, neurons, count, members);
  }

 private:
  Observer& obs_;
};

}  // namespace qifsim::detail
