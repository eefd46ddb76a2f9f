// bench/qifsim_mpi_network_bench.cpp - a network split over MPI ranks (Network::set_communicator)
// stepping: the time per step, and the part of it spent in the exchanges (every collective the
// step makes, timed around the call, so it includes the wait for the slowest rank), for dense,
// sparse and event coupling. Run it with one rank and T threads against T ranks of one thread
// each on the same machine:
//
//   OMP_NUM_THREADS=2 mpirun -np 1 --bind-to none build/bench/qifsim_mpi_network_bench
//   OMP_NUM_THREADS=1 mpirun -np 2 --bind-to none build/bench/qifsim_mpi_network_bench
//
// Options: --n 100000,1000000 (sparse and events), --dense-n 10000,20000, --k 100 (synapses per
// neuron), --steps 300. One JSON line per network from rank 0: step_us (median of 3 runs),
// exchange_us (the same runs' mean time in collectives per step, the largest over the ranks),
// spikes per step.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/exchange.hpp"
#include "qifsim/generators.hpp"
#include "qifsim/mpi.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Every collective of `inner`, timed.
class TimedExchange final : public qifsim::detail::Exchange {
 public:
  explicit TimedExchange(qifsim::detail::Exchange& inner) : inner_(inner) {}
  int rank() const override { return inner_.rank(); }
  int size() const override { return inner_.size(); }
  void allgather(const double* l, const std::vector<std::int64_t>& c, double* a) override {
    timed([&] { inner_.allgather(l, c, a); });
  }
  void allgather(const float* l, const std::vector<std::int64_t>& c, float* a) override {
    timed([&] { inner_.allgather(l, c, a); });
  }
  void allgather(const std::int64_t* l, const std::vector<std::int64_t>& c, std::int64_t* a) override {
    timed([&] { inner_.allgather(l, c, a); });
  }
  std::vector<std::int64_t> allgather_one(std::int64_t v) override {
    std::vector<std::int64_t> out;
    timed([&] { out = inner_.allgather_one(v); });
    return out;
  }
  void broadcast(void* d, std::int64_t b, int root) override {
    timed([&] { inner_.broadcast(d, b, root); });
  }
  [[noreturn]] void abort(const std::string& why) override {
    inner_.abort(why);
    std::abort();  // (inner_.abort ends the program)
  }
  double seconds = 0.0;
  std::int64_t calls = 0;

 private:
  template <class F>
  void timed(F&& f) {
    const auto start = Clock::now();
    f();
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    ++calls;
  }
  qifsim::detail::Exchange& inner_;
};

std::vector<std::int64_t> list_arg(int argc, char** argv, const std::string& name, std::vector<std::int64_t> fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] != name) continue;
    std::vector<std::int64_t> out;
    std::stringstream in(argv[i + 1]);
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(std::strtoll(item.c_str(), nullptr, 10));
    return out;
  }
  return fallback;
}

// inp (1) -> qif (n; J: k synapses per neuron of weight 2/k, fixed in-degree, as a dense or
// sparse matrix), dt = 0.01, excitabilities spread so that a part of the neurons fires
// tonically (about 0.2% of them per step).
qifsim::Network build(std::int64_t n, std::int64_t k, bool dense, const qifsim::Communicator* ranks) {
  qifsim::Network net(1e-2, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  if (ranks != nullptr) net.set_communicator(*ranks);
  net.add_function("inp", 1, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = n;
  qifsim::SparseMatrix J = qifsim::fixed_indegree(n, n, k, {qifsim::ValueDistribution::Kind::Constant, 2.0 / static_cast<double>(k)}, 1);
  p.weights = dense ? qifsim::Weights(qifsim::Weights(std::move(J)).to_dense()) : qifsim::Weights(std::move(J));
  p.eta = qifsim::uniform_values(n, -6.0, 2.0, 3);
  p.v0 = qifsim::uniform_values(n, -3.0, 3.0, 5);
  p.v_threshold = 100.0;
  p.v_reset = -100.0;
  net.add_population("qif", p);
  net.add_edge("inp", "qif", qifsim::Weights::all_to_all(n, 1, 1.0));
  net.compile();
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  qifsim::MpiSession mpi(&argc, &argv);
  qifsim::Communicator world = qifsim::mpi_communicator(MPI_COMM_WORLD);
  auto timed = std::make_shared<TimedExchange>(world.exchange());
  const qifsim::Communicator ranks(timed);
  const bool root = world.rank() == 0;
  const std::int64_t k = list_arg(argc, argv, "--k", {100})[0];
  const std::int64_t steps = list_arg(argc, argv, "--steps", {300})[0];
  const char* threads = std::getenv("OMP_NUM_THREADS");
  struct Case {
    const char* mode;
    std::int64_t n;
  };
  std::vector<Case> cases;
  for (std::int64_t n : list_arg(argc, argv, "--dense-n", {10000, 20000})) cases.push_back({"dense", n});
  for (std::int64_t n : list_arg(argc, argv, "--n", {100000, 1000000})) {
    cases.push_back({"sparse", n});
    cases.push_back({"events", n});
  }
  for (const Case& c : cases) {
    const std::string mode = c.mode;
    qifsim::Network net = build(c.n, k, mode == "dense", world.size() > 1 ? &ranks : nullptr);
    qifsim::RunOptions o;
    o.coupling = mode == "dense" ? qifsim::CouplingMode::Dense
                 : mode == "sparse" ? qifsim::CouplingMode::Sparse
                                    : qifsim::CouplingMode::Events;
    o.reproducible = true;  // (a split network always sums in this order)
    o.progress = qifsim::Progress::Off;
    o.record_output = false;
    o.record_vars = {{"qif", "s", true}};
    o.sampling_steps = 10;
    o.record_spikes = {"qif"};
    qifsim::Matrix x(steps, 1);
    for (double& v : x.data) v = 2.0;
    (void)net.run(qifsim::Matrix(20, 1, std::vector<double>(20, 2.0)), o);  // warm-up
    std::vector<double> step_s, exchange_s;
    std::int64_t spikes = 0;
    for (int rep = 0; rep < 3; ++rep) {
      MPI_Barrier(MPI_COMM_WORLD);
      timed->seconds = 0.0;
      const auto start = Clock::now();
      const qifsim::Observer obs = net.run(x, o);
      const double wall = std::chrono::duration<double>(Clock::now() - start).count();
      double slowest = timed->seconds;
      MPI_Allreduce(MPI_IN_PLACE, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      double longest = wall;
      MPI_Allreduce(MPI_IN_PLACE, &longest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      step_s.push_back(longest / static_cast<double>(steps));
      exchange_s.push_back(slowest / static_cast<double>(steps));
      spikes = obs.spike_count("qif");
    }
    std::vector<double> sorted = step_s;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[1];
    const auto at = static_cast<std::size_t>(std::find(step_s.begin(), step_s.end(), median) - step_s.begin());
    if (root) {
      std::printf(
          "{\"bench\": \"mpi_network\", \"mode\": \"%s\", \"n\": %lld, \"k\": %lld, \"ranks\": %d, \"threads\": \"%s\", "
          "\"steps\": %lld, \"step_us\": %.2f, \"exchange_us\": %.2f, \"compute_us\": %.2f, \"spikes_per_step\": %.1f}\n",
          c.mode, static_cast<long long>(c.n), static_cast<long long>(k), world.size(), threads ? threads : "default",
          static_cast<long long>(steps), median * 1e6, exchange_s[at] * 1e6, (median - exchange_s[at]) * 1e6,
          static_cast<double>(spikes) / static_cast<double>(steps));
      std::fflush(stdout);
    }
  }
  return 0;
}
