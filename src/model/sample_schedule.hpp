// src/model/sample_schedule.hpp - which steps of a run are samples (shared by every backend).
#pragma once

#include <cstdint>

namespace qifsim::detail {

/// A sample is taken at step t when t >= cutoff and t % sampling_steps == 0. The recorded
/// output of a sample is the mean over the steps since the previous sample (or cutoff).
struct SampleSchedule {
  std::int64_t sampling_steps = 1;
  std::int64_t cutoff = 0;

  bool is_sample(std::int64_t t) const { return t >= cutoff && t % sampling_steps == 0; }
  /// Number of samples in steps [0, steps).
  std::int64_t count(std::int64_t steps) const {
    if (steps <= cutoff) return 0;
    const std::int64_t first = (cutoff + sampling_steps - 1) / sampling_steps;  // ceil
    const std::int64_t last = (steps - 1) / sampling_steps;
    return last >= first ? last - first + 1 : 0;
  }
};

}  // namespace qifsim::detail
