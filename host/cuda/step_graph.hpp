// host/cuda/step_graph.hpp - a block of steps captured once as a CUDA Graph and replayed: every
// step derives its position from the device step counter, so one graph serves any position.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "cuda/cuda_resources.hpp"

namespace qifsim::cuda {

/// Ends a stream capture that did not finish (an exception while enqueuing) and destroys
/// what was captured, so that the stream is usable again.
class CaptureGuard {
 public:
  explicit CaptureGuard(cudaStream_t st) : st_(st) {
    QIFSIM_CUDA_TRY(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
  }
  ~CaptureGuard() {
    if (!st_) return;
    cudaGraph_t broken = nullptr;
    cudaStreamEndCapture(st_, &broken);
    if (broken) cudaGraphDestroy(broken);
  }
  CaptureGuard(const CaptureGuard&) = delete;
  CaptureGuard& operator=(const CaptureGuard&) = delete;
  /// The captured graph; the guard has nothing left to clean up.
  cudaGraph_t end() {
    cudaGraph_t captured = nullptr;
    const cudaStream_t st = st_;
    st_ = nullptr;
    QIFSIM_CUDA_TRY(cudaStreamEndCapture(st, &captured));
    return captured;
  }

 private:
  cudaStream_t st_;
};

/// `block` steps as one graph (when enabled and the run is long enough), else plain launches.
class StepGraph {
 public:
  /// Capture `enqueue_step` `block` times on `st` when `enabled`.
  template <class EnqueueStep>
  StepGraph(bool enabled, std::int64_t block, cudaStream_t st, EnqueueStep&& enqueue_step) : block_(block) {
    if (!enabled) return;
    CaptureGuard capture(st);
    for (std::int64_t i = 0; i < block; ++i) enqueue_step();
    graph_ = GraphExec(capture.end());
  }

  /// Enqueue `count` steps: whole graphs, then single steps.
  template <class EnqueueStep>
  void enqueue(std::int64_t count, cudaStream_t st, EnqueueStep&& enqueue_step) const {
    for (; graph_.valid() && count >= block_; count -= block_) graph_.launch(st);
    for (; count > 0; --count) enqueue_step();
  }

 private:
  std::int64_t block_;
  GraphExec graph_;
};

}  // namespace qifsim::cuda
