// host/core/exchange_ops.cpp - the exchanges of a run over ranks (core/exchange_ops.hpp).
#include "core/exchange_ops.hpp"

#include <string>

#include "core/partition.hpp"

namespace qifsim::detail {

template <class T>
std::vector<T> gather_population(Exchange& x, std::int64_t n, const std::vector<T>& local) {
  std::vector<std::int64_t> counts;
  for (const NeuronRange& r : partition(n, x.size())) counts.push_back(r.size());
  if (static_cast<std::int64_t>(local.size()) != counts[static_cast<std::size_t>(x.rank())]) {
    x.abort("gather_population: rank " + std::to_string(x.rank()) + " holds " + std::to_string(local.size()) +
            " values; its range has " + std::to_string(counts[static_cast<std::size_t>(x.rank())]));
  }
  std::vector<T> all(static_cast<std::size_t>(n));
  x.allgather(local.data(), counts, all.data());
  return all;
}

template std::vector<double> gather_population(Exchange&, std::int64_t, const std::vector<double>&);
template std::vector<float> gather_population(Exchange&, std::int64_t, const std::vector<float>&);

double ordered_sum_over_ranks(Exchange& x, std::int64_t n, const std::vector<double>& local_block_sums) {
  std::vector<std::int64_t> counts;
  for (const NeuronRange& r : partition(n, x.size())) {
    const auto [first, last] = blocks_of(r);
    counts.push_back(last - first);
  }
  if (static_cast<std::int64_t>(local_block_sums.size()) != counts[static_cast<std::size_t>(x.rank())]) {
    x.abort("ordered_sum_over_ranks: rank " + std::to_string(x.rank()) + " gives " +
            std::to_string(local_block_sums.size()) + " block sums; its range has " +
            std::to_string(counts[static_cast<std::size_t>(x.rank())]) + " blocks");
  }
  std::vector<double> all(static_cast<std::size_t>(reduction_blocks(n)));
  x.allgather(local_block_sums.data(), counts, all.data());
  double total = 0.0;
  for (double b : all) total += b;  // block order, as model::ordered_sum
  return total;
}

std::vector<std::int64_t> gather_spikes(Exchange& x, const std::vector<std::int64_t>& local_ascending) {
  std::vector<std::int64_t> all;
  gather_spikes(x, local_ascending, all);
  return all;
}

void gather_spikes(Exchange& x, const std::vector<std::int64_t>& local_ascending, std::vector<std::int64_t>& all) {
  const std::vector<std::int64_t> counts = x.allgather_one(static_cast<std::int64_t>(local_ascending.size()));
  std::int64_t total = 0;
  for (std::int64_t c : counts) total += c;
  all.resize(static_cast<std::size_t>(total));
  x.allgather(local_ascending.data(), counts, all.data());
}

RankFailure exchange_status(Exchange& x, const std::string& error) {
  const std::vector<std::int64_t> lengths = x.allgather_one(error.empty() ? -1 : static_cast<std::int64_t>(error.size()));
  RankFailure out;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    if (lengths[r] >= 0) {
      out.rank = static_cast<int>(r);
      break;
    }
  }
  if (!out.failed()) return out;
  out.message = x.rank() == out.rank ? error : std::string(static_cast<std::size_t>(lengths[static_cast<std::size_t>(out.rank)]), '\0');
  if (!out.message.empty()) x.broadcast(out.message.data(), static_cast<std::int64_t>(out.message.size()), out.rank);
  return out;
}

bool decided_by_root(Exchange& x, bool value) {
  unsigned char v = value ? 1 : 0;
  x.broadcast(&v, 1, 0);
  return v != 0;
}

}  // namespace qifsim::detail
