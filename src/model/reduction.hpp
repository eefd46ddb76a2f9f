// src/model/reduction.hpp - the one order of a sum over neurons (shared/spec/semantics.md, "One
// reduction order"): the neurons are cut into blocks of kReductionBlock consecutive global
// indices; each block is summed as a halving tree (value j += value j + h for h = 128, 64, ...,
// 1; a block past the last neuron holds zeros), and the block sums are added in block order,
// starting from 0. Thread count, grid size or device then change nothing. The CUDA population
// kernel (kernels/qif_step.cu: 256 threads, one neuron each, block_sum, then the partials in
// block order) computes this order while its grid covers every neuron (N <= 2048 x 256).
#pragma once

#include <cstdint>

#include "model/host_device.hpp"

namespace qifsim::model {

inline constexpr int kReductionBlock = 256;

/// sum_{i < n} value(i) in the one reduction order, in double.
template <class F>
QIFSIM_HD inline double ordered_sum(std::int64_t n, F value) {
  double total = 0.0;
  for (std::int64_t b = 0; b < n; b += kReductionBlock) {
    double lane[kReductionBlock];
    for (int j = 0; j < kReductionBlock; ++j) lane[j] = b + j < n ? static_cast<double>(value(b + j)) : 0.0;
    for (int h = kReductionBlock / 2; h > 0; h /= 2) {
      for (int j = 0; j < h; ++j) lane[j] += lane[j + h];
    }
    total += lane[0];
  }
  return total;
}

}  // namespace qifsim::model
