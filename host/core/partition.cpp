// host/core/partition.cpp - partition_range: the neurons of a population split over ranks
// (qifsim/communicator.hpp).
#include "core/partition.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "qifsim/error.hpp"

namespace qifsim {

NeuronRange partition_range(std::int64_t n, int ranks, int rank) {
  if (n < 0) throw InvalidArgument("partition_range: n = " + std::to_string(n) + " must be >= 0");
  if (ranks < 1 || rank < 0 || rank >= ranks) {
    throw InvalidArgument("partition_range: rank " + std::to_string(rank) + " of " + std::to_string(ranks) +
                          " (ranks >= 1, 0 <= rank < ranks)");
  }
  // Blocks b of rank r: [start(r), start(r + 1)), the first `extra` ranks one more.
  const std::int64_t blocks = detail::reduction_blocks(n);
  const std::int64_t base = blocks / ranks, extra = blocks % ranks;
  const auto start = [&](std::int64_t r) { return r * base + std::min<std::int64_t>(r, extra); };
  const std::int64_t block = model::kReductionBlock;
  return NeuronRange{std::min(n, start(rank) * block), std::min(n, start(rank + 1) * block)};
}

std::vector<NeuronRange> partition(std::int64_t n, int ranks) {
  std::vector<NeuronRange> out;
  for (int r = 0; r < ranks; ++r) out.push_back(partition_range(n, ranks, r));
  return out;
}

}  // namespace qifsim
