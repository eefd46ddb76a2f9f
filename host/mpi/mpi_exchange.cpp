// host/mpi/mpi_exchange.cpp - the collectives of core/exchange.hpp over an MPI communicator
// (the qifsim::qifsim_mpi library; qifsim/mpi.hpp). Counts travel as MPI's int: a rank's part
// of one exchange above 2^31 - 1 values is refused, naming it (on every rank alike: the counts
// are every rank's). MPI's default error handler ends the program on a failed call; check()
// reports what a communicator set to return errors gives back.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/exchange.hpp"
#include "qifsim/error.hpp"
#include "qifsim/mpi.hpp"

namespace qifsim {

namespace {

// An MPI call's result: BackendError naming the call and MPI's own words for a failure.
void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) length = 0;
  throw BackendError(std::string(call) + " failed: " + (length > 0 ? std::string(text, static_cast<std::size_t>(length)) : "error " + std::to_string(rc)));
}

int as_int(std::int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<int>::max()) {
    throw BackendError(std::string("MPI exchange: ") + what + " of " + std::to_string(v) +
                       " values does not fit MPI's int count");
  }
  return static_cast<int>(v);
}

class MpiExchange final : public detail::Exchange {
 public:
  explicit MpiExchange(MPI_Comm comm) {
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) throw BackendError("mpi_communicator: MPI is not initialised (MPI_Init, or qifsim::MpiSession)");
    check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  ~MpiExchange() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
  MpiExchange(const MpiExchange&) = delete;
  MpiExchange& operator=(const MpiExchange&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void allgather(const double* local, const std::vector<std::int64_t>& counts, double* all) override {
    gatherv(local, counts, all, MPI_DOUBLE);
  }
  void allgather(const float* local, const std::vector<std::int64_t>& counts, float* all) override {
    gatherv(local, counts, all, MPI_FLOAT);
  }
  void allgather(const std::int64_t* local, const std::vector<std::int64_t>& counts, std::int64_t* all) override {
    gatherv(local, counts, all, MPI_INT64_T);
  }

  std::vector<std::int64_t> allgather_one(std::int64_t value) override {
    std::vector<std::int64_t> out(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&value, 1, MPI_INT64_T, out.data(), 1, MPI_INT64_T, comm_), "MPI_Allgather");
    return out;
  }

  void broadcast(void* data, std::int64_t bytes, int root) override {
    check(MPI_Bcast(data, as_int(bytes, "a broadcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
  }

  [[noreturn]] void abort(const std::string& why) override {
    std::fprintf(stderr, "qifsim: rank %d of %d: %s\n", rank_, size_, why.c_str());
    std::fflush(stderr);
    MPI_Abort(comm_, 1);
    std::abort();  // (MPI_Abort does not return)
  }

 private:
  template <class T>
  void gatherv(const T* local, const std::vector<std::int64_t>& counts, T* all, MPI_Datatype type) {
    if (static_cast<int>(counts.size()) != size_) throw InvalidArgument("MPI exchange: one count per rank expected");
    std::vector<int> n(counts.size()), at(counts.size());
    std::int64_t offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      n[r] = as_int(counts[r], "a rank's part");
      at[r] = as_int(offset, "an exchange");
      offset += counts[r];
    }
    check(MPI_Allgatherv(local, n[static_cast<std::size_t>(rank_)], type, all, n.data(), at.data(), type, comm_),
          "MPI_Allgatherv");
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

Communicator mpi_communicator(MPI_Comm comm) { return Communicator(std::make_shared<MpiExchange>(comm)); }

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (initialized) return;
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  started_ = true;
  if (provided < MPI_THREAD_FUNNELED) {  // OpenMP threads beside MPI need at least this
    MPI_Finalize();
    started_ = false;
    throw BackendError("MPI_Init_thread: this MPI provides thread level " + std::to_string(provided) +
                       ", below MPI_THREAD_FUNNELED (the library's OpenMP threads run beside MPI)");
  }
}

MpiSession::~MpiSession() {
  if (!started_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace qifsim
