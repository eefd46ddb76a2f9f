// host/core/exchange.hpp - the collective operations a run over several ranks needs, behind an
// interface so that the library itself never links MPI: a single process uses SingleExchange;
// qifsim::qifsim_mpi (host/mpi/mpi_exchange.cpp) implements it over an MPI communicator.
// Every call is collective: each rank of the communicator makes it, in the same order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qifsim::detail {

class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// Every rank's `counts[rank]` values, concatenated in rank order into `all` (sum of counts
  /// values); `local` holds this rank's counts[rank()].
  virtual void allgather(const double* local, const std::vector<std::int64_t>& counts, double* all) = 0;
  virtual void allgather(const float* local, const std::vector<std::int64_t>& counts, float* all) = 0;
  virtual void allgather(const std::int64_t* local, const std::vector<std::int64_t>& counts, std::int64_t* all) = 0;
  /// One integer from every rank, in rank order (whole numbers only: no floating-point
  /// reduction whose order could depend on the algorithm).
  virtual std::vector<std::int64_t> allgather_one(std::int64_t value) = 0;
  /// `bytes` bytes at `data` from rank `root` to every rank.
  virtual void broadcast(void* data, std::int64_t bytes, int root) = 0;
  /// A caller's error found on this rank alone (a wrong local size: the other ranks would wait
  /// in the next collective forever). One process: InvalidArgument. Over MPI: the message on
  /// stderr with the rank, then MPI_Abort, which ends every rank.
  [[noreturn]] virtual void abort(const std::string& why) = 0;
};

/// One process: rank 0 of 1; every collective copies or does nothing.
class SingleExchange final : public Exchange {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allgather(const double* local, const std::vector<std::int64_t>& counts, double* all) override;
  void allgather(const float* local, const std::vector<std::int64_t>& counts, float* all) override;
  void allgather(const std::int64_t* local, const std::vector<std::int64_t>& counts, std::int64_t* all) override;
  std::vector<std::int64_t> allgather_one(std::int64_t value) override { return {value}; }
  void broadcast(void*, std::int64_t, int) override {}
  [[noreturn]] void abort(const std::string& why) override;
};

}  // namespace qifsim::detail
