// qifsim/communicator.hpp - the processes (ranks) that share one run: an opaque handle, so that
// no public header but qifsim/mpi.hpp includes mpi.h.
//
//   qifsim::Communicator one;                         // a single process: rank 0 of 1
//   #include "qifsim/mpi.hpp"                          // builds with MPI only
//   qifsim::Communicator world = qifsim::mpi_communicator(MPI_COMM_WORLD);
//   world.rank(), world.size()
//
// How the neurons of a population are split over the ranks: qifsim::partition_range
// (contiguous ranges of whole 256-neuron reduction blocks, so a sum over neurons adds in the
// same order for any number of ranks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace qifsim {

namespace detail {
class Exchange;  // host/core/exchange.hpp: the collective operations a communicator offers
}

class Communicator {
 public:
  /// A single process (rank 0 of 1); needs no MPI.
  Communicator();
  /// Over an implementation of the collectives (qifsim::mpi_communicator makes one over MPI).
  explicit Communicator(std::shared_ptr<detail::Exchange> exchange);

  int rank() const;
  int size() const;
  /// More than one rank.
  bool distributed() const { return size() > 1; }
  detail::Exchange& exchange() const { return *exchange_; }
  /// A failure on this rank that the others cannot learn of (they may be waiting in an
  /// exchange): `why` on stderr with the rank, then every rank ends (MPI_Abort). One process:
  /// throws qifsim::InvalidArgument(why).
  [[noreturn]] void abort_all(const std::string& why) const;
  /// Collective: every rank gives its error ("" where it succeeded) and learns the lowest
  /// failing rank's, as "rank R of N: message" ("" where every rank succeeded; one process: its
  /// own error as given), so that all ranks stop at the same point.
  std::string first_failure(const std::string& error) const;

 private:
  std::shared_ptr<detail::Exchange> exchange_;
};

/// A rank's neurons of a population: global indices [lo, hi).
struct NeuronRange {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  std::int64_t size() const { return hi - lo; }
  bool empty() const { return hi <= lo; }
  bool operator==(const NeuronRange& o) const { return lo == o.lo && hi == o.hi; }
};

/// The neurons rank `rank` of `ranks` holds of a population of `n`: contiguous, in whole
/// 256-neuron blocks (the reduction blocks of the one summation order), the blocks shared out
/// as evenly as they go and the extra ones to the first ranks. A rank may hold none (601
/// neurons are three blocks: a fourth rank gets none). InvalidArgument for n < 0, ranks < 1
/// or a rank outside [0, ranks).
NeuronRange partition_range(std::int64_t n, int ranks, int rank);
/// Every rank's range, in rank order.
std::vector<NeuronRange> partition(std::int64_t n, int ranks);

/// True where this qifsim was built with MPI (qifsim/mpi.hpp and the qifsim::qifsim_mpi library).
bool mpi_supported();

}  // namespace qifsim
