// host/model/reduction.hpp - the one order of a sum over neurons (shared/spec/semantics.md, "One
// reduction order"): the neurons are cut into blocks of kReductionBlock consecutive global
// indices; each block is summed as a halving tree (value j += value j + h for h = 128, 64, ...,
// 1; a block past the last neuron holds zeros), and the block sums are added in block order,
// starting from 0. Thread count, grid size or device then change nothing. The CUDA population
// kernels (kernels/population_step.cuh, step_by_chunks: 256 threads, one neuron each per chunk,
// block_sum, then the chunk sums in order) compute this order for any N.
#pragma once

#include <cstdint>

#include "model/host_device.hpp"

namespace qifsim::model {

inline constexpr int kReductionBlock = 256;

/// The halving tree's levels h = 64, ..., 1 (lane[j] += lane[j + h], j < h), where lane[j]
/// (j < 128) already holds the first level's lane[j] + lane[j + 128]: returns lane[0]. Each
/// level a loop of constant length, which compilers vectorise whole (a loop over h with an
/// inner loop of length h they do not, and the tree then costs more than a neuron's step).
QIFSIM_HD inline double halving_tree_after_first_level(double* lane) {
  static_assert(kReductionBlock == 256, "the levels below are those of a 256-value block");
  for (int j = 0; j < 64; ++j) lane[j] += lane[j + 64];
  for (int j = 0; j < 32; ++j) lane[j] += lane[j + 32];
  for (int j = 0; j < 16; ++j) lane[j] += lane[j + 16];
  for (int j = 0; j < 8; ++j) lane[j] += lane[j + 8];
  for (int j = 0; j < 4; ++j) lane[j] += lane[j + 4];
  lane[0] += lane[2];
  lane[1] += lane[3];
  return lane[0] + lane[1];
}

/// lane[0] after lane[j] += lane[j + h] for h = 128, 64, ..., 1 (j < h): a block's halving tree.
QIFSIM_HD inline double halving_tree(double* lane) {
  for (int j = 0; j < kReductionBlock / 2; ++j) lane[j] += lane[j + kReductionBlock / 2];
  return halving_tree_after_first_level(lane);
}

/// The sum of block `b` (values b*256 .. b*256+255, zeros past n) as the halving tree adds it.
template <class F>
QIFSIM_HD inline double ordered_block_sum(std::int64_t b, std::int64_t n, F value) {
  double lane[kReductionBlock];
  const std::int64_t first = b * kReductionBlock;
  if (first + kReductionBlock <= n) {  // a whole block: no test per value, so the loads vectorise
    for (int j = 0; j < kReductionBlock; ++j) lane[j] = static_cast<double>(value(first + j));
  } else {
    for (int j = 0; j < kReductionBlock; ++j) lane[j] = first + j < n ? static_cast<double>(value(first + j)) : 0.0;
  }
  return halving_tree(lane);
}

/// sum_{i < n} value(i) in the one reduction order, in double.
template <class F>
QIFSIM_HD inline double ordered_sum(std::int64_t n, F value) {
  double total = 0.0;
  for (std::int64_t b = 0; b * kReductionBlock < n; ++b) total += ordered_block_sum(b, n, value);
  return total;
}

}  // namespace qifsim::model
