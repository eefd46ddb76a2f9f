// host/core/progress.hpp - progress display of long runs on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>

#include "qifsim/types.hpp"

namespace qifsim::detail {

/// Shows how far a run is: a bar with rate and ETA on a terminal, a plain line every 10%
/// otherwise. In Auto mode it stays silent for runs that finish within about two seconds.
/// tick() is cheap: it reads the clock only every few hundred steps.
class ProgressReporter {
 public:
  /// Seconds on a monotonic clock (steady_clock by default; tests give their own).
  using Seconds = std::function<double()>;
  /// A run of `total_steps` steps that starts at `first_step` (> 0 when continued).
  ProgressReporter(Progress mode, std::int64_t total_steps, std::int64_t first_step = 0, std::FILE* out = stderr,
                   Seconds clock = {});
  void tick(std::int64_t done) {
    if (done >= next_check_) check(done);
  }
  /// Final line (only if anything was shown). Not called for a run that stops early: a
  /// continuation's display goes on where it left off.
  void finish(std::int64_t done);

 private:
  void check(std::int64_t done);
  void draw(std::int64_t done, double elapsed, bool final_line);
  /// Steps per second since the first tick (the set-up before it does not count), or 0.
  double step_rate(std::int64_t done, double elapsed) const;

  Progress mode_;
  std::int64_t total_;
  std::int64_t first_;
  std::FILE* out_;
  bool tty_;
  bool shown_ = false;
  Seconds clock_;
  double start_ = 0.0;
  double base_elapsed_ = -1.0;  // when the first tick came (the stepping began), -1 before
  std::int64_t base_done_ = 0;  // the steps done then
  double last_draw_ = -1.0;
  int last_decile_ = -1;
  std::int64_t next_check_ = 0;
  std::int64_t stride_ = 64;
};

}  // namespace qifsim::detail
