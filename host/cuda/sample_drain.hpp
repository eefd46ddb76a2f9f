// host/cuda/sample_drain.hpp - where a GPU recording is copied out: the device ring of sample
// rows in two halves; a full half is copied to pinned memory on the transfer stream while the
// compute stream fills the other, and batches reach the Observer in sample order.
#pragma once

#include <cuda_runtime_api.h>

#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "cuda/cuda_resources.hpp"
#include "nvtx_range.hpp"
#include "core/observer_engine_side.hpp"

namespace qifsim::cuda {

template <class T>
class SampleDrain {
 public:
  /// Halves of `half_samples` samples of `width` values; this run's sample j is taken at step
  /// (base + j) * sampling.
  SampleDrain(Observer& obs, std::int64_t half_samples, std::int64_t width, std::int64_t base, std::int64_t sampling,
              cudaStream_t st, cudaStream_t xfer)
      : obs_(obs), half_(half_samples), width_(width), base_(base), sampling_(sampling), st_(st), xfer_(xfer),
        ring_(static_cast<std::size_t>(2 * half_samples * width)),
        ring_host_{PinnedBuffer<T>(static_cast<std::size_t>(half_samples * width)),
                   PinnedBuffer<T>(static_cast<std::size_t>(half_samples * width))},
        batch_steps_(static_cast<std::size_t>(half_samples)) {}

  /// The device ring the step kernels write sample rows into (2 x half rows).
  T* ring() { return ring_.data(); }
  /// Samples of this run handed to a copy so far.
  std::int64_t flushed() const { return flushed_; }

  /// Copy out the `count` samples written into the current half since the last flush.
  void flush(std::int64_t count) {
    const NvtxRange range("sample drain");
    const int h = static_cast<int>((flushed_ / half_) % 2);
    while (pending_.size() >= 2 || (!pending_.empty() && pending_.front().half == h)) deliver_front();
    Event ready;
    ready.record(st_);
    ready.wait_in(xfer_);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(ring_host_[static_cast<std::size_t>(h)].data(), ring_.data() + h * half_ * width_,
                                    static_cast<std::size_t>(count * width_) * sizeof(T), cudaMemcpyDeviceToHost,
                                    xfer_));
    copied_[static_cast<std::size_t>(h)].record(xfer_);
    // The next samples go to the other half: wait until its previous copy is out.
    if (flushed_ >= half_) copied_[static_cast<std::size_t>(1 - h)].wait_in(st_);
    pending_.push_back({h, flushed_, count});
    flushed_ += count;
  }

  /// Hand every copied batch to the Observer (after the streams are synchronised).
  void deliver_all() {
    while (!pending_.empty()) deliver_front();
  }

 private:
  struct Pending {
    int half;
    std::int64_t first_sample;
    std::int64_t count;
  };

  void deliver_front() {
    const Pending p = pending_.front();
    pending_.pop_front();
    copied_[static_cast<std::size_t>(p.half)].synchronize();
    for (std::int64_t j = 0; j < p.count; ++j) {
      batch_steps_[static_cast<std::size_t>(j)] = (base_ + p.first_sample + j) * sampling_;
    }
    obs_.append_batch(ring_host_[static_cast<std::size_t>(p.half)].data(), batch_steps_.data(), p.count);
  }

  detail::ObserverEngineSide obs_;
  std::int64_t half_, width_, base_, sampling_;
  cudaStream_t st_, xfer_;
  DeviceBuffer<T> ring_;
  std::array<PinnedBuffer<T>, 2> ring_host_;
  std::array<Event, 2> copied_;
  std::deque<Pending> pending_;
  std::vector<std::int64_t> batch_steps_;
  std::int64_t flushed_ = 0;
};

}  // namespace qifsim::cuda
