// host/core/progress.cpp - progress display of long runs.
#include "core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace qifsim::detail {

ProgressReporter::ProgressReporter(Progress mode, std::int64_t total_steps, std::int64_t first_step, std::FILE* out,
                                   Seconds clock)
    : mode_(mode), total_(std::max<std::int64_t>(total_steps, 1)), first_(std::clamp<std::int64_t>(first_step, 0, total_)),
      out_(out), tty_(out != nullptr && isatty(fileno(out)) != 0), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    };
  }
  start_ = clock_();
  if (mode_ == Progress::Off || out_ == nullptr) next_check_ = INT64_MAX;
  else next_check_ = first_;
  last_decile_ = first_ > 0 ? static_cast<int>(10 * first_ / total_) : -1;  // a continued run's lines go on
}

double ProgressReporter::step_rate(std::int64_t done, double elapsed) const {
  const double stepping = elapsed - base_elapsed_;
  return base_elapsed_ >= 0.0 && done > base_done_ && stepping > 0.0
             ? static_cast<double>(done - base_done_) / stepping
             : 0.0;
}

void ProgressReporter::check(std::int64_t done) {
  const double elapsed = clock_() - start_;
  if (base_elapsed_ < 0.0) {  // the first tick: set-up is over, the stepping begins
    base_elapsed_ = elapsed;
    base_done_ = done;
  }
  const double rate = step_rate(done, elapsed);
  // Aim at about 20 clock reads per second whatever the step rate.
  if (rate > 0.0) stride_ = std::clamp<std::int64_t>(static_cast<std::int64_t>(rate / 20.0), 1, 1 << 20);
  next_check_ = done + stride_;
  if (mode_ == Progress::Auto && !shown_) {
    // Show only when the run will take a while: after 2 s, or projected beyond 5 s after 0.5 s.
    const double projected = rate > 0.0 ? elapsed + static_cast<double>(total_ - done) / rate : 0.0;
    if (elapsed < 2.0 && !(elapsed > 0.5 && projected > 5.0)) return;
  }
  if (tty_) {
    if (elapsed - last_draw_ < 0.2) return;
  } else {
    const int decile = static_cast<int>(10 * done / total_);
    if (decile == last_decile_) return;
    last_decile_ = decile;
  }
  draw(done, elapsed, false);
}

void ProgressReporter::draw(std::int64_t done, double elapsed, bool final_line) {
  shown_ = true;
  last_draw_ = elapsed;
  const double frac = static_cast<double>(done) / static_cast<double>(total_);
  // Rate and ETA from the steps since stepping began: the set-up before (allocation, the
  // coupling's first conversion, the files) would make the first ETA many times too long.
  const double rate = step_rate(done, elapsed);
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  // Before any step has been timed there is no estimate yet: "--", not "0s".
  char eta_text[32] = "--";
  if (rate > 0 || done >= total_) std::snprintf(eta_text, sizeof eta_text, "%.0fs", eta);
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(std::lround(frac * kWidth));
    char bar[kWidth + 1];
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '-';
    bar[kWidth] = '\0';
    std::fprintf(out_, "\r[%s] %5.1f%% %lld/%lld steps  %.3g steps/s  ETA %s ", bar, 100.0 * frac,
                 static_cast<long long>(done), static_cast<long long>(total_), rate, eta_text);
    if (final_line) std::fputc('\n', out_);
  } else {
    std::fprintf(out_, "qifsim: %lld/%lld steps (%.0f%%), %.3g steps/s, ETA %s\n",
                 static_cast<long long>(done), static_cast<long long>(total_), 100.0 * frac, rate, eta_text);
  }
  std::fflush(out_);
}

void ProgressReporter::finish(std::int64_t done) {
  if (mode_ == Progress::Off || out_ == nullptr) return;
  const double elapsed = clock_() - start_;
  if (shown_ || mode_ == Progress::On) draw(done, elapsed, true);
}

}  // namespace qifsim::detail
