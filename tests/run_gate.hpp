// tests/run_gate.hpp - a point inside a run that a test waits for, instead of a clock.
//
// RunGate is a SampleSink that holds the run inside its first batch (the engine thread waits
// in write()) until the test opens it: while it is held, the run is certainly in progress and
// cannot finish, whatever the machine's speed or load. Give the run a small batch_samples so
// that its first batch comes early.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "qifsim/observer.hpp"

namespace qtest {

class RunGate : public qifsim::SampleSink {
 public:
  void write(const qifsim::Observer&, std::int64_t, const std::int64_t*, const std::vector<const double*>&) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (reached_) return;
    reached_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  /// Wait until the run is held inside its first batch.
  void wait_reached() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return reached_; });
  }
  /// Let the run go on (and every later batch through).
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool reached_ = false;
  bool open_ = false;
};

}  // namespace qtest
