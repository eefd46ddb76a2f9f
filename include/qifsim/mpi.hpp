// qifsim/mpi.hpp - qifsim over MPI: a Communicator from an MPI communicator, and MPI started
// and finished around a program. Only in builds with MPI (qifsim::mpi_supported(); link
// qifsim::qifsim_mpi); this is the one public header that includes mpi.h.
//
//   int main(int argc, char** argv) {
//     qifsim::MpiSession mpi(&argc, &argv);            // MPI_Init_thread, MPI_Finalize at the end
//     qifsim::Communicator world = qifsim::mpi_communicator(MPI_COMM_WORLD);
//     ...
//   }
#pragma once

#include <mpi.h>

#include "qifsim/communicator.hpp"

namespace qifsim {

/// A Communicator over a duplicate of `comm` (qifsim's messages never mix with the caller's);
/// the duplicate is freed with the last copy of the Communicator (one that outlives
/// MPI_Finalize leaves it to MPI). BackendError where MPI is not initialised; a failed MPI call
/// ends the program (MPI's default error handler), as does a caller's error found on one rank
/// alone (MPI_Abort with the rank and the message).
Communicator mpi_communicator(MPI_Comm comm);

/// MPI started (MPI_Init_thread, funneled: the calling thread makes every MPI call) unless it
/// already was, and finished when this is destroyed (only where this started it). BackendError
/// where the MPI offers less than MPI_THREAD_FUNNELED.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool started_ = false;
};

}  // namespace qifsim
