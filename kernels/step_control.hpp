// kernels/step_control.hpp - what every GPU kernel of a step derives from the step index.
//
// The step index t lives in device memory and advances by one kernel at the end of each
// step. Every other per-step quantity (sample or not, ring row, window length, input row)
// is a pure function of t and the run's constants, so a captured CUDA Graph of B steps
// replays correctly from any position.
#pragma once

#include <cstdint>

#include "model/host_device.hpp"

namespace qifsim::kernels {

/// Run constants plus the device step counter.
struct StepControl {
  const std::int64_t* step = nullptr;  ///< device: the current step t (run-local)
  std::int64_t cutoff = 0;             ///< first step that counts
  std::int64_t sampling = 1;           ///< sampling_steps
  std::int64_t first_sample = 0;       ///< ceil(cutoff / sampling): index base of samples
  std::int64_t ring_rows = 1;          ///< rows in the device ring (two halves)
  std::int64_t chunk_steps = 1;        ///< steps per input chunk (two chunks resident)
  bool record = false;                 ///< false: never sample (forward())

  QIFSIM_HD bool counts(std::int64_t t) const { return record && t >= cutoff; }
  QIFSIM_HD bool is_sample(std::int64_t t) const { return counts(t) && t % sampling == 0; }
  /// Row of the device ring that sample step t writes.
  QIFSIM_HD std::int64_t ring_row(std::int64_t t) const {
    return (t / sampling - first_sample) % ring_rows;
  }
  /// Steps averaged into the sample at t: since the previous sample, or since cutoff.
  QIFSIM_HD std::int64_t window(std::int64_t t) const {
    const std::int64_t previous = t - sampling;
    return t - (previous >= cutoff ? previous : cutoff - 1);
  }
  /// Row of the double-buffered input (and target) chunk that holds step t.
  QIFSIM_HD std::int64_t input_row(std::int64_t t) const {
    return ((t / chunk_steps) % 2) * chunk_steps + t % chunk_steps;
  }
};

/// Which value of a population or function node a record slot takes.
enum class RecordValue : int { V, S, X, Spike, SIn, IExt, In, Out, W };

/// One recorded variable as the kernels see it.
struct RecordSlot {
  RecordValue value = RecordValue::V;
  bool mean = false;
  std::int64_t offset = 0;  ///< into the ring row
};

/// Up to kMaxRecordSlots recorded variables of one node, passed by value to its kernel.
constexpr int kMaxRecordSlots = 8;
struct RecordSlots {
  RecordSlot slot[kMaxRecordSlots];
  int count = 0;
  int means = 0;  ///< how many of them are means
};

}  // namespace qifsim::kernels
