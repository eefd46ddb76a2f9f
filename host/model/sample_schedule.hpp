// host/model/sample_schedule.hpp - which steps of a run are samples (shared by every backend).
#pragma once

#include <cstdint>

namespace qifsim::detail {

/// A sample is taken at step t when t >= cutoff and t % sampling_steps == 0. The recorded
/// output of a sample is the mean over the steps since the previous sample (or cutoff).
struct SampleSchedule {
  std::int64_t sampling_steps = 1;
  std::int64_t cutoff = 0;

  bool is_sample(std::int64_t t) const { return t >= cutoff && t % sampling_steps == 0; }
  /// ceil(cutoff / sampling_steps): sample j of a run is taken at step (first_index() + j) * S.
  std::int64_t first_index() const { return (cutoff + sampling_steps - 1) / sampling_steps; }
  /// Number of samples in steps [0, steps).
  std::int64_t count(std::int64_t steps) const {
    if (steps <= cutoff) return 0;
    const std::int64_t first = first_index();
    const std::int64_t last = (steps - 1) / sampling_steps;
    return last >= first ? last - first + 1 : 0;
  }
  /// The window at position `next` (steps 0 .. next - 1 taken): the counted steps since the
  /// last sample, i.e. steps in [max(cutoff, last sample + 1), next).
  std::int64_t window_at(std::int64_t next) const {
    std::int64_t from = cutoff;
    if (next > cutoff) {
      const std::int64_t last = next - 1;                              // a step already taken
      const std::int64_t last_sample = last - last % sampling_steps;  // at or before it
      if (last_sample >= cutoff) from = last_sample + 1;
    }
    return next > from ? next - from : 0;
  }
};

}  // namespace qifsim::detail
