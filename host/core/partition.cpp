// host/core/partition.cpp - partition_range and the single-process communicator
// (qifsim/communicator.hpp).
#include "core/partition.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/exchange.hpp"
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

Communicator::Communicator() : exchange_(std::make_shared<detail::SingleExchange>()) {}

Communicator::Communicator(std::shared_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {
  if (!exchange_) throw InvalidArgument("Communicator: no exchange");
}

int Communicator::rank() const { return exchange_->rank(); }
int Communicator::size() const { return exchange_->size(); }

bool mpi_supported() {
#ifdef QIFSIM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

namespace detail {

namespace {
template <class T>
void copy_local(const T* local, const std::vector<std::int64_t>& counts, T* all) {
  if (counts.size() != 1) throw InvalidArgument("SingleExchange: one count expected");
  std::copy(local, local + counts[0], all);
}
}  // namespace

void SingleExchange::abort(const std::string& why) { throw InvalidArgument(why); }

void SingleExchange::allgather(const double* local, const std::vector<std::int64_t>& counts, double* all) {
  copy_local(local, counts, all);
}
void SingleExchange::allgather(const float* local, const std::vector<std::int64_t>& counts, float* all) {
  copy_local(local, counts, all);
}
void SingleExchange::allgather(const std::int64_t* local, const std::vector<std::int64_t>& counts, std::int64_t* all) {
  copy_local(local, counts, all);
}

}  // namespace detail

}  // namespace qifsim
