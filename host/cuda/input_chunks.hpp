// host/cuda/input_chunks.hpp - a run's inputs (and targets) on their way to the GPU: chunks of
// steps converted into pinned staging and copied on the transfer stream into one of two device
// slots, while the compute stream steps through the other.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/engine.hpp"
#include "cuda/cuda_resources.hpp"
#include "nvtx_range.hpp"

namespace qifsim::cuda {

template <class T>
class InputChunks {
 public:
  /// Chunks of `chunk` steps of `m` inputs (and `k` targets when the plan has targets); the
  /// run starts in chunk `first_chunk`.
  InputChunks(const detail::RunPlan& plan, std::int64_t chunk, std::int64_t m, std::int64_t k,
              std::int64_t first_chunk, cudaStream_t xfer)
      : plan_(plan), steps_(plan.steps), chunk_(chunk), m_(m), k_(k), first_chunk_(first_chunk), xfer_(xfer),
        inputs_(static_cast<std::size_t>(2 * chunk * m)),
        targets_(plan.targets ? static_cast<std::size_t>(2 * chunk * k) : 0),
        input_host_{PinnedBuffer<T>(static_cast<std::size_t>(chunk * m)),
                    PinnedBuffer<T>(static_cast<std::size_t>(chunk * m))} {
    if (plan.targets) {
      for (auto& t : target_host_) t = PinnedBuffer<double>(static_cast<std::size_t>(chunk * k));
    }
  }

  const T* inputs() const { return inputs_.data(); }
  const double* targets() const { return plan_.targets ? targets_.data() : nullptr; }

  /// Upload the run's first chunk.
  void start() {
    upload(first_chunk_);
    uploaded_chunks_ = first_chunk_ + 1;
  }

  /// Before the first step of chunk c taken in this run: the compute stream `st` waits for its
  /// upload, and the next chunk's upload begins.
  void enter(std::int64_t c, cudaStream_t st) {
    uploaded_[static_cast<std::size_t>(c % 2)].wait_in(st);
    if (uploaded_chunks_ == c + 1 && (c + 1) * chunk_ < steps_) {
      upload(c + 1);
      ++uploaded_chunks_;
    }
  }

  /// After the last step of chunk c is enqueued on `st`: its slot may be refilled then.
  void finished(std::int64_t c, cudaStream_t st) { chunk_done_[static_cast<std::size_t>(c % 2)].record(st); }

 private:
  // Input chunk c: convert into pinned staging c % 2, copy into device slot c % 2 once the
  // steps of chunk c - 2 (the slot's previous user) are done.
  void upload(std::int64_t c) {
    const NvtxRange range("input chunk");
    const int slot = static_cast<int>(c % 2);
    if (staged_used_[static_cast<std::size_t>(slot)]) staged_free_[static_cast<std::size_t>(slot)].synchronize();
    const std::int64_t first = c * chunk_;
    const std::int64_t count = std::min(chunk_, steps_ - first);
    T* stage = input_host_[static_cast<std::size_t>(slot)].data();
    const double* src = plan_.inputs->rows(first, count);
    for (std::int64_t i = 0; i < count * m_; ++i) stage[i] = static_cast<T>(src[i]);
    if (c >= first_chunk_ + 2) chunk_done_[static_cast<std::size_t>(slot)].wait_in(xfer_);
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(inputs_.data() + slot * chunk_ * m_, stage,
                                    static_cast<std::size_t>(count * m_) * sizeof(T), cudaMemcpyHostToDevice, xfer_));
    if (plan_.targets) {
      double* tstage = target_host_[static_cast<std::size_t>(slot)].data();
      const double* tsrc = plan_.targets->rows(first, count);
      std::copy(tsrc, tsrc + count * k_, tstage);
      QIFSIM_CUDA_TRY(cudaMemcpyAsync(targets_.data() + slot * chunk_ * k_, tstage,
                                      static_cast<std::size_t>(count * k_) * sizeof(double),
                                      cudaMemcpyHostToDevice, xfer_));
    }
    staged_free_[static_cast<std::size_t>(slot)].record(xfer_);
    staged_used_[static_cast<std::size_t>(slot)] = true;
    uploaded_[static_cast<std::size_t>(slot)].record(xfer_);
  }

  const detail::RunPlan& plan_;
  std::int64_t steps_, chunk_, m_, k_, first_chunk_;
  cudaStream_t xfer_;
  DeviceBuffer<T> inputs_;
  DeviceBuffer<double> targets_;
  std::array<PinnedBuffer<T>, 2> input_host_;
  std::array<PinnedBuffer<double>, 2> target_host_;
  std::array<Event, 2> uploaded_, chunk_done_, staged_free_;
  std::array<bool, 2> staged_used_{false, false};
  std::int64_t uploaded_chunks_ = 0;
};

}  // namespace qifsim::cuda
