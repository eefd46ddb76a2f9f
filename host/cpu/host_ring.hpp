// host/cpu/host_ring.hpp - where a CPU recording is copied out: sample rows collect in a host
// ring of batch_samples rows, handed to the Observer as one batch when full, when the run ends
// or stops, and (with flush_seconds) when a part-filled ring has waited that long.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/observer_engine_side.hpp"

namespace qifsim::detail {

template <class T>
class HostRing {
 public:
  HostRing(Observer& obs, std::int64_t capacity, std::int64_t width, double flush_seconds)
      : obs_(obs), capacity_(capacity), width_(width), flush_seconds_(flush_seconds),
        flush_every_(flush_seconds), rows_(static_cast<std::size_t>(capacity * width)),
        steps_(static_cast<std::size_t>(capacity)), last_flush_(Clock::now()) {}

  /// The row the next sample is written into.
  T* next_row() { return rows_.data() + filled_ * width_; }

  /// The row from next_row() holds the sample of step t; a full ring goes out.
  void commit(std::int64_t t) {
    steps_[static_cast<std::size_t>(filled_)] = t;
    if (++filled_ == capacity_) {
      flush();
      last_flush_ = Clock::now();
    }
  }

  /// Before step t: hand a part-filled ring over once flush_seconds have passed since the
  /// last hand-over (the clock is read every 1024 steps).
  void flush_if_due(std::int64_t t) {
    if (flush_seconds_ > 0.0 && (t & 1023) == 0 && filled_ > 0) {
      const auto now = Clock::now();
      if (now - last_flush_ >= flush_every_) {
        flush();
        last_flush_ = now;
      }
    }
  }

  /// Hand the rows over; the ring is emptied first, so that a refused batch is not retried.
  /// `before_flush` (set_before_flush) runs first: what else was recorded up to these steps
  /// (spike events) reaches the Observer and its sinks before the samples.
  void flush() {
    if (before_flush_) before_flush_();
    const std::int64_t count = filled_;
    filled_ = 0;
    if (count > 0) obs_.append_batch(rows_.data(), steps_.data(), count);
  }
  void set_before_flush(std::function<void()> f) { before_flush_ = std::move(f); }

 private:
  using Clock = std::chrono::steady_clock;
  ObserverEngineSide obs_;
  std::int64_t capacity_, width_;
  double flush_seconds_;
  std::chrono::duration<double> flush_every_;
  std::vector<T> rows_;
  std::vector<std::int64_t> steps_;
  std::int64_t filled_ = 0;
  Clock::time_point last_flush_;
  std::function<void()> before_flush_;
};

/// Runs `steps` (a run's step loop, which moves `t` on), then hands the ring over. When the
/// loop throws, `next_step` is set to t first (the steps taken count whatever the hand-over
/// does), the ring is handed over to keep what was recorded (an error of its own dropped: the
/// first is the one reported), and the exception goes on.
template <class T, class Steps>
void run_then_flush(HostRing<T>& ring, const std::int64_t& t, std::int64_t& next_step, Steps&& steps) {
  try {
    steps();
  } catch (...) {
    next_step = t;
    try {
      ring.flush();
    } catch (...) {
    }
    throw;
  }
  next_step = t;
  ring.flush();
}

}  // namespace qifsim::detail
