// host/cuda/divergence_watch.hpp - the GPU's divergence watch: every `every` steps a kernel
// looks for NaN/Inf in each watched array and the flags are copied to the host without
// blocking; the step loop polls them and stops at the first non-finite value found.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.hpp"
#include "cuda/cuda_resources.hpp"
#include "cuda/transfers.hpp"
#include "node_kernels.hpp"

namespace qifsim::cuda {

template <class T>
class DivergenceWatch {
 public:
  /// One watched array of a node's variable.
  struct Watched {
    std::string node;
    const char* var;
    const T* values;
    std::int64_t n;
    const T* values_odd = nullptr;  // Fused: the array after an odd number of steps
  };

  /// Watch `watched` every `every` steps (0: never).
  DivergenceWatch(std::vector<Watched> watched, std::int64_t every, cudaStream_t st)
      : watched_(std::move(watched)), every_(every), bad_index_(watched_.size()), bad_step_(watched_.size()),
        bad_index_host_(watched_.size()), bad_step_host_(watched_.size()) {
    if (every_ > 0) {
      QIFSIM_CUDA_TRY(cudaMemsetAsync(bad_index_.data(), 0xff, bad_index_.bytes(), st));
      QIFSIM_CUDA_TRY(cudaMemsetAsync(bad_step_.data(), 0xff, bad_step_.bytes(), st));
    }
  }

  std::int64_t every() const { return every_; }
  /// `end` shortened to the next check after step t.
  std::int64_t limit(std::int64_t t, std::int64_t end) const {
    return every_ > 0 ? std::min(end, (t / every_ + 1) * every_) : end;
  }

  /// At step t (the run started at `start`): enqueue the checks if one is due.
  void check(std::int64_t t, std::int64_t start, const std::int64_t* device_step, cudaStream_t st) {
    if (!(every_ > 0 && t % every_ == 0)) return;
    for (std::size_t i = 0; i < watched_.size(); ++i) {
      const bool odd = watched_[i].values_odd && (t - start) % 2 != 0;
      kernels::launch_find_nonfinite<T>(odd ? watched_[i].values_odd : watched_[i].values, watched_[i].n,
                                        device_step, bad_index_.data() + i, bad_step_.data() + i, st);
    }
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(bad_index_host_.data(), bad_index_.data(), bad_index_.bytes(),
                                    cudaMemcpyDeviceToHost, st));
    QIFSIM_CUDA_TRY(cudaMemcpyAsync(bad_step_host_.data(), bad_step_.data(), bad_step_.bytes(),
                                    cudaMemcpyDeviceToHost, st));
    flags_copied_.record(st);
    flags_pending_ = true;
  }

  /// The first watched array found non-finite in the most recent flags that reached the
  /// host, or -1; with `wait`, waits for the last flags enqueued.
  std::int64_t found(bool wait) {
    if (!flags_pending_) return -1;
    if (wait) {
      flags_copied_.synchronize();
    } else if (cudaEventQuery(flags_copied_.get()) != cudaSuccess) {
      cudaGetLastError();  // cudaErrorNotReady is not an error here
      return -1;
    }
    for (std::size_t i = 0; i < watched_.size(); ++i) {
      if (bad_step_host_.data()[i] >= 0) return static_cast<std::int64_t>(i);
    }
    return -1;
  }

  /// Throw DivergenceError for watched array `found` (from found()).
  [[noreturn]] void throw_found(std::int64_t found, cudaStream_t st) const {
    const auto i = static_cast<std::size_t>(found);
    const auto index = static_cast<std::int64_t>(bad_index_host_.data()[i]);
    const auto values = download(watched_[i].values + index, 1, st);
    detail::throw_divergence_error(watched_[i].node, watched_[i].var, index, static_cast<double>(values[0]),
                                   bad_step_host_.data()[i], every_);
  }

 private:
  std::vector<Watched> watched_;
  std::int64_t every_;
  DeviceBuffer<unsigned long long> bad_index_;
  DeviceBuffer<long long> bad_step_;
  PinnedBuffer<unsigned long long> bad_index_host_;
  PinnedBuffer<long long> bad_step_host_;
  Event flags_copied_;
  bool flags_pending_ = false;
};

}  // namespace qifsim::cuda
