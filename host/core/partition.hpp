// host/core/partition.hpp - the neurons of a population split over ranks (qifsim/communicator.hpp:
// partition_range), and what a rank's range means for per-block work: the reduction blocks it
// sums, the generator row blocks it draws.
#pragma once

#include <cstdint>
#include <utility>

#include "model/reduction.hpp"
#include "qifsim/communicator.hpp"

namespace qifsim::detail {

/// Reduction blocks (model::kReductionBlock neurons) of a population of n.
inline std::int64_t reduction_blocks(std::int64_t n) {
  return (n + model::kReductionBlock - 1) / model::kReductionBlock;
}

/// The reduction blocks a rank's range holds: [first, last). Ranges start on a block boundary.
inline std::pair<std::int64_t, std::int64_t> blocks_of(const NeuronRange& r) {
  if (r.empty()) return {r.lo / model::kReductionBlock, r.lo / model::kReductionBlock};
  return {r.lo / model::kReductionBlock, reduction_blocks(r.hi)};
}

/// The row blocks of `block_rows` rows (a generator's streams: fixed_indegree and sparse draw per
/// 4096-row block) that overlap a range: [first, last); a rank draws these and keeps its own rows.
inline std::pair<std::int64_t, std::int64_t> row_blocks_overlapping(const NeuronRange& r, std::int64_t block_rows) {
  if (r.empty()) return {0, 0};
  return {r.lo / block_rows, (r.hi + block_rows - 1) / block_rows};
}

}  // namespace qifsim::detail
