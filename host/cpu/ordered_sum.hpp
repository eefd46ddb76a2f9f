// host/cpu/ordered_sum.hpp - the one reduction order (model/reduction.hpp) over many values on
// the CPU: the blocks of 256 summed on every thread, the block sums then added in block order by
// one thread, so the result has model::ordered_sum's bits for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "model/reduction.hpp"

namespace qifsim::detail {

/// From this many values on, the blocks are summed on all OpenMP threads.
constexpr std::int64_t kParallelOrderedSum = 65536;

/// model::ordered_sum(n, value), its blocks summed in parallel from `min_parallel` values on;
/// `partial` is scratch (one double per block, kept between calls).
template <class F>
double ordered_sum_threaded(std::int64_t n, F value, std::vector<double>& partial,
                            std::int64_t min_parallel = kParallelOrderedSum) {
  if (n < min_parallel) return model::ordered_sum(n, value);
  const std::int64_t blocks = (n + model::kReductionBlock - 1) / model::kReductionBlock;
  partial.resize(static_cast<std::size_t>(blocks));
  double* out = partial.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b) out[b] = model::ordered_block_sum(b, n, value);
  double total = 0.0;
  for (std::int64_t b = 0; b < blocks; ++b) total += out[b];
  return total;
}

}  // namespace qifsim::detail
