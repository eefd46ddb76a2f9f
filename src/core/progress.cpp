// src/core/progress.cpp - progress display of long runs.
#include "core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace qifsim::detail {

ProgressReporter::ProgressReporter(Progress mode, std::int64_t total_steps, std::int64_t first_step, std::FILE* out)
    : mode_(mode), total_(std::max<std::int64_t>(total_steps, 1)), first_(std::clamp<std::int64_t>(first_step, 0, total_)),
      out_(out), tty_(out != nullptr && isatty(fileno(out)) != 0), start_(Clock::now()) {
  if (mode_ == Progress::Off || out_ == nullptr) next_check_ = INT64_MAX;
  else next_check_ = first_;
  last_decile_ = first_ > 0 ? static_cast<int>(10 * first_ / total_) : -1;  // a continued run's lines go on
}

void ProgressReporter::check(std::int64_t done) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  // Aim at about 20 clock reads per second whatever the step rate.
  if (elapsed > 0.0) {
    const double rate = static_cast<double>(done - first_) / elapsed;
    stride_ = std::clamp<std::int64_t>(static_cast<std::int64_t>(rate / 20.0), 1, 1 << 20);
  }
  next_check_ = done + stride_;
  if (mode_ == Progress::Auto && !shown_) {
    // Show only when the run will take a while: after 2 s, or projected beyond 5 s after 0.5 s.
    const double projected =
        done > first_ ? elapsed * static_cast<double>(total_ - first_) / static_cast<double>(done - first_) : 0.0;
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
  const double rate = elapsed > 0 ? static_cast<double>(done - first_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(std::lround(frac * kWidth));
    char bar[kWidth + 1];
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '-';
    bar[kWidth] = '\0';
    std::fprintf(out_, "\r[%s] %5.1f%% %lld/%lld steps  %.3g steps/s  ETA %.0fs ", bar, 100.0 * frac,
                 static_cast<long long>(done), static_cast<long long>(total_), rate, eta);
    if (final_line) std::fputc('\n', out_);
  } else {
    std::fprintf(out_, "qifsim: %lld/%lld steps (%.0f%%), %.3g steps/s, ETA %.0fs\n",
                 static_cast<long long>(done), static_cast<long long>(total_), 100.0 * frac, rate,
                 eta);
  }
  std::fflush(out_);
}

void ProgressReporter::finish(std::int64_t done) {
  if (mode_ == Progress::Off || out_ == nullptr) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  if (shown_ || mode_ == Progress::On) draw(done, elapsed, true);
}

}  // namespace qifsim::detail
