// bench/qifsim_sparse_bench.cpp - the large-N sparse benchmark network (bench/RESULTS.md
// section 7): N QIF neurons, each receiving k distinct presynaptic partners drawn uniformly
// (no autapses), every weight 15/k; eta Lorentzian quantiles (center -5, width 1); input I = 3
// to every neuron through a one-unit input node and an all-to-all edge; dt = 1e-3; thresholds
// +-100. Set-up (drawing the synapses, building, compiling) is timed apart from the steps.
//
//   qifsim_sparse_bench [--n 10000] [--k 100] [--steps 1000] [--precision float64|float32]
//                       [--coupling auto|dense|sparse|procedural|events] [--resync R] [--seed 1]
//                       [--save-synapses DIR] [--spikes DIR] [--rate]
//
// --save-synapses writes what every peer is given: pre.npy, post.npy (int64), w.npy, eta.npy
// (float64). --spikes writes spike.npy (steps x N, 1 where neuron i spiked at step t) for the
// parity check; --rate records the population's mean spike per step (rate.npy in --spikes DIR,
// or only its total). One JSON line goes to stdout.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/npy_writer.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "qifsim_sparse_bench: %s\nusage: qifsim_sparse_bench [--n N] [--k K] [--steps T] [--precision float64|float32]\n"
               "       [--coupling auto|dense|sparse|procedural|events] [--resync R] [--seed S] [--save-synapses DIR]\n"
               "       [--spikes DIR] [--rate]\n",
               why.c_str());
  std::exit(2);
}

void save_synapses(const std::string& dir, const qifsim::SparseMatrix& m, const std::vector<double>& eta) {
  std::filesystem::create_directories(dir);
  std::vector<std::int64_t> pre(m.indices.begin(), m.indices.end()), post(m.indices.size());
  for (std::int64_t i = 0; i < m.rows; ++i) {
    for (std::int64_t q = m.indptr[static_cast<std::size_t>(i)]; q < m.indptr[static_cast<std::size_t>(i + 1)]; ++q) {
      post[static_cast<std::size_t>(q)] = i;
    }
  }
  const std::vector<std::int64_t> shape{m.nnz()};
  qifsim::detail::write_npy(dir + "/pre.npy", pre.data(), shape);
  qifsim::detail::write_npy(dir + "/post.npy", post.data(), shape);
  qifsim::detail::write_npy(dir + "/w.npy", m.values.data(), shape);
  qifsim::detail::write_npy(dir + "/eta.npy", eta.data(), {static_cast<std::int64_t>(eta.size())});
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 10000, k = 100, steps = 1000, resync = 0;
  std::uint64_t seed = 1;
  std::string precision = "float64", coupling = "auto", synapse_dir, spike_dir;
  bool rate = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--n") n = std::stoll(next());
    else if (a == "--k") k = std::stoll(next());
    else if (a == "--steps") steps = std::stoll(next());
    else if (a == "--precision") precision = next();
    else if (a == "--coupling") coupling = next();
    else if (a == "--resync") resync = std::stoll(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--save-synapses") synapse_dir = next();
    else if (a == "--spikes") spike_dir = next();
    else if (a == "--rate") rate = true;
    else usage("unknown argument " + a);
  }
  try {
    const auto t0 = Clock::now();
    qifsim::ValueDistribution w;
    w.a = 15.0 / static_cast<double>(k);
    qifsim::SparseMatrix J = qifsim::fixed_indegree(n, n, k, w, seed, false);
    const std::vector<double> eta = qifsim::lorentzian_quantiles(n, -5.0, 1.0);
    const double draw_s = seconds_since(t0);
    if (!synapse_dir.empty()) save_synapses(synapse_dir, J, eta);
    const auto t1 = Clock::now();
    qifsim::Network net(1e-3, qifsim::Backend::Cpu, qifsim::parse_precision(precision));
    qifsim::QifPopulation p;
    p.n = n;
    p.weights = std::move(J);
    p.eta = eta;
    net.add_function("drive", 1, qifsim::Activation::Identity);
    net.add_population("qif", std::move(p));
    net.add_edge("drive", "qif", qifsim::Weights::all_to_all(n, 1, 1.0));
    net.compile();
    qifsim::RunOptions o;
    o.progress = qifsim::Progress::Off;
    o.record_output = false;
    o.coupling = qifsim::parse_coupling(coupling);
    o.resync = resync;
    if (!spike_dir.empty() && !rate) o.record_vars = {{"qif", "spike", false}};
    if (rate) o.record_vars = {{"qif", "spike", true}};
    const qifsim::Matrix inputs(steps, 1, 3.0);
    // One step first: the coupling choice (and any conversion) is made before the clock.
    net.run(qifsim::Matrix(1, 1, 3.0), o);
    net.reset();
    const double setup_s = draw_s + seconds_since(t1);
    const auto t2 = Clock::now();
    const qifsim::Observer obs = net.run(inputs, o);
    const double run_s = seconds_since(t2);
    double spikes = -1.0;
    if (!o.record_vars.empty()) {
      const qifsim::Matrix s = obs.to_matrix("qif", "spike");
      spikes = 0.0;
      for (double x : s.data) spikes += x;
      if (rate) spikes *= static_cast<double>(n);
      if (!spike_dir.empty()) {
        std::filesystem::create_directories(spike_dir);
        qifsim::detail::write_npy(spike_dir + (rate ? "/rate.npy" : "/spike.npy"), s.data.data(), {s.rows, s.cols});
      }
    }
    std::printf(
        "{\"tool\": \"qifsim\", \"n\": %lld, \"k\": %lld, \"synapses\": %lld, \"precision\": \"%s\", \"coupling\": \"%s\", "
        "\"steps\": %lld, \"setup_s\": %.4f, \"run_s\": %.4f, \"us_per_step\": %.2f, \"steps_per_s\": %.1f, "
        "\"peak_rss_mb\": %.1f, \"spikes\": %.0f}\n",
        static_cast<long long>(n), static_cast<long long>(k), static_cast<long long>(n * k), precision.c_str(),
        net.coupling_choice().c_str(), static_cast<long long>(steps), setup_s, run_s,
        1e6 * run_s / static_cast<double>(steps), static_cast<double>(steps) / run_s, peak_rss_mb(), spikes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qifsim_sparse_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
