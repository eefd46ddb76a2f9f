// host/core/exchange_ops.hpp - what a run over ranks exchanges, built on the collectives of
// core/exchange.hpp, each giving every rank the bits one process would have:
//   - a population's values gathered whole (the s that a dense or sparse J s reads);
//   - a sum over its neurons from each rank's reduction-block sums, added in block order
//     (never a floating-point allreduce, whose order depends on the algorithm and the ranks);
//   - the global indices of the neurons that spiked, ascending;
//   - a rank's failure, known to every rank with the rank and its message;
//   - a decision of rank 0 (stop, checkpoint), the same on every rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/exchange.hpp"
#include "qifsim/communicator.hpp"

namespace qifsim::detail {

/// A population of n split by partition_range over the exchange's ranks: this rank's values
/// (its range's size) gathered into all n, in neuron order.
template <class T>
std::vector<T> gather_population(Exchange& x, std::int64_t n, const std::vector<T>& local);

/// The sum over a population's n neurons from this rank's reduction-block sums (the blocks of
/// its range, in order: model::ordered_block_sum): every rank's blocks, then added in block
/// order, as model::ordered_sum adds them in one process.
double ordered_sum_over_ranks(Exchange& x, std::int64_t n, const std::vector<double>& local_block_sums);

/// The global indices of the neurons that spiked on every rank, ascending (each rank's list
/// ascending, its range after the lower ranks').
std::vector<std::int64_t> gather_spikes(Exchange& x, const std::vector<std::int64_t>& local_ascending);
/// The same into `all` (resized; its capacity kept, so a step's exchange allocates nothing once
/// warm).
void gather_spikes(Exchange& x, const std::vector<std::int64_t>& local_ascending, std::vector<std::int64_t>& all);

/// A rank's failure: the lowest rank whose `error` is not empty, and its message (-1 and ""
/// when every rank succeeded). Collective; a rank that fails still calls it, so every rank
/// stops at the same point with the same message.
struct RankFailure {
  int rank = -1;
  std::string message;
  bool failed() const { return rank >= 0; }
};
RankFailure exchange_status(Exchange& x, const std::string& error);

/// Rank 0's `value` on every rank.
bool decided_by_root(Exchange& x, bool value);

}  // namespace qifsim::detail
