// bench/qifsim_mpi_exchange_bench.cpp - what one step of a network split over MPI ranks would
// spend exchanging (host/core/exchange_ops.hpp over qifsim::qifsim_mpi), per call, on this
// machine's MPI: a population's s gathered whole (dense or sparse J s), a sum over its neurons
// from block sums (a recorded mean), the spiking neurons' indices at a firing fraction per
// step (event coupling), and the per-batch status exchange. One JSON line per measurement
// from rank 0: the median over repeats of the mean time per call, and bytes_in_all (what every
// rank holds after the exchange, its own part included).
//
//   mpirun -np 2 build/bench/qifsim_mpi_exchange_bench [--n 100000,1000000] [--fire 0.001,0.01] [--calls 200]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/exchange_ops.hpp"
#include "core/partition.hpp"
#include "qifsim/mpi.hpp"

namespace {

std::vector<double> list_arg(int argc, char** argv, const std::string& name, std::vector<double> fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] != name) continue;
    std::vector<double> out;
    std::stringstream in(argv[i + 1]);
    std::string item;
    while (std::getline(in, item, ',')) out.push_back(std::strtod(item.c_str(), nullptr));
    return out;
  }
  return fallback;
}

// Median over 5 repeats of the mean seconds per call of f (every rank calls it `calls` times).
double per_call(const std::function<void()>& f, int calls) {
  std::vector<double> t;
  for (int rep = 0; rep < 5; ++rep) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < calls; ++c) f();
    MPI_Barrier(MPI_COMM_WORLD);
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  qifsim::MpiSession mpi(&argc, &argv);
  qifsim::Communicator world = qifsim::mpi_communicator(MPI_COMM_WORLD);
  qifsim::detail::Exchange& x = world.exchange();
  const std::vector<double> sizes = list_arg(argc, argv, "--n", {1e5, 1e6});
  const std::vector<double> fire = list_arg(argc, argv, "--fire", {0.001, 0.01});
  const int calls = static_cast<int>(list_arg(argc, argv, "--calls", {200})[0]);
  const auto report = [&](const char* op, std::int64_t n, double extra, double seconds, double bytes) {
    if (world.rank() != 0) return;
    std::printf("{\"op\": \"%s\", \"n\": %lld, \"ranks\": %d, \"fire\": %g, \"us_per_call\": %.3f, \"bytes_in_all\": %.0f}\n",
                op, static_cast<long long>(n), world.size(), extra, seconds * 1e6, bytes);
  };
  for (const double nd : sizes) {
    const auto n = static_cast<std::int64_t>(nd);
    const qifsim::NeuronRange mine = qifsim::partition_range(n, world.size(), world.rank());
    std::vector<double> s(static_cast<std::size_t>(mine.size()));
    for (std::int64_t i = 0; i < mine.size(); ++i) s[static_cast<std::size_t>(i)] = std::sin(0.001 * static_cast<double>(i));
    report("gather_s_f64", n, 0.0, per_call([&] { (void)qifsim::detail::gather_population(x, n, s); }, calls),
           8.0 * static_cast<double>(n));
    std::vector<float> s32(s.begin(), s.end());
    report("gather_s_f32", n, 0.0, per_call([&] { (void)qifsim::detail::gather_population(x, n, s32); }, calls),
           4.0 * static_cast<double>(n));
    const auto [first, last] = qifsim::detail::blocks_of(mine);
    const std::vector<double> blocks(static_cast<std::size_t>(last - first), 1.0);
    report("block_sum", n, 0.0, per_call([&] { (void)qifsim::detail::ordered_sum_over_ranks(x, n, blocks); }, calls),
           8.0 * static_cast<double>(qifsim::detail::reduction_blocks(n)));
    for (const double f : fire) {
      std::vector<std::int64_t> spiked;
      const auto every = static_cast<std::int64_t>(std::max(1.0, std::round(1.0 / f)));
      for (std::int64_t i = mine.lo; i < mine.hi; ++i) {
        if (i % every == 0) spiked.push_back(i);
      }
      report("gather_spikes", n, f, per_call([&] { (void)qifsim::detail::gather_spikes(x, spiked); }, calls),
             8.0 * static_cast<double>(n) * f);
    }
  }
  report("status", 0, 0.0, per_call([&] { (void)qifsim::detail::exchange_status(x, ""); }, calls), 8.0);
  report("decided_by_root", 0, 0.0, per_call([&] { (void)qifsim::detail::decided_by_root(x, false); }, calls), 1.0);
  return 0;
}
