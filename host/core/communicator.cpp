// host/core/communicator.cpp - qifsim::Communicator (qifsim/communicator.hpp) over an
// Exchange, and the single process's exchange (core/exchange.hpp).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/exchange.hpp"
#include "core/exchange_ops.hpp"
#include "qifsim/communicator.hpp"
#include "qifsim/error.hpp"

namespace qifsim {

Communicator::Communicator() : exchange_(std::make_shared<detail::SingleExchange>()) {}

Communicator::Communicator(std::shared_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {
  if (!exchange_) throw InvalidArgument("Communicator: no exchange");
}

int Communicator::rank() const { return exchange_->rank(); }
int Communicator::size() const { return exchange_->size(); }
std::string Communicator::first_failure(const std::string& error) const {
  if (!distributed()) return error;
  const detail::RankFailure f = detail::exchange_status(*exchange_, error);
  return f.failed() ? "rank " + std::to_string(f.rank) + " of " + std::to_string(size()) + ": " + f.message : "";
}

void Communicator::abort_all(const std::string& why) const {
  exchange_->abort(why);
  throw InvalidArgument(why);  // (every Exchange's abort ends or throws)
}

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
