// bench/qifsim_sweep_bench.cpp - ensembles against separate runs (bench/RESULTS.md section 19):
// B members of one network of N QIF neurons (eta Lorentzian quantiles, center -5, width 1; input
// I = 3 through a one-unit input node; dt = 1e-3; thresholds +-100), member b at coupling gain
// k_b = 0.5 + b / B, recording the mean s every 10 steps. --mode batched runs them as one sweep
// (RunOptions::sweep); --mode separate runs B single networks one after another, each with the
// library's threads, one network at a time. Set-up is timed apart from the steps: a separate
// network is built and warmed up by one step (then reset) outside the clock; a sweep run builds
// its members inside run(), so the batched time is that of a run of T steps less that of a run
// of one step (setup_s), best of three of each; a separate network's, best of two.
//
//   qifsim_sweep_bench [--n 1000] [--members 64] [--steps 200] [--precision float64|float32]
//                      [--coupling dense|sparse|procedural|events] [--mode batched|separate]
//                      [--reproducible]
//
// Weights: dense, a uniform random J (mean 15/N); sparse and events, N/10 partners per neuron
// (fixed in-degree, weight 150/N); procedural, every entry 15/N. One JSON line goes to stdout:
// member-steps per second and, for a dense J, the product's rate in GFLOP/s (2 N^2 per
// member-step).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "qifsim_sweep_bench: %s\nusage: qifsim_sweep_bench [--n N] [--members B] [--steps T] "
               "[--precision float64|float32]\n       [--coupling dense|sparse|procedural|events] "
               "[--mode batched|separate] [--reproducible]\n",
               why.c_str());
  std::exit(2);
}

qifsim::Weights weights(std::int64_t n, const std::string& coupling) {
  if (coupling == "procedural") return qifsim::Weights::all_to_all(n, n, 15.0 / static_cast<double>(n));
  if (coupling == "sparse" || coupling == "events") {
    const std::int64_t k = std::max<std::int64_t>(1, n / 10);
    qifsim::ValueDistribution w;
    w.a = 15.0 / static_cast<double>(k);
    return qifsim::fixed_indegree(n, n, k, w, 1, false);
  }
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 30.0 / static_cast<double>(n));
  qifsim::Matrix J(n, n);
  for (double& x : J.data) x = u(rng);
  return J;
}

qifsim::Network network(std::int64_t n, const qifsim::Weights& J, const std::string& precision) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, qifsim::parse_precision(precision));
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = J;
  p.eta = qifsim::lorentzian_quantiles(n, -5.0, 1.0);
  p.v_threshold = 100.0;
  p.v_reset = -100.0;
  net.add_function("drive", 1, qifsim::Activation::Identity);
  net.add_population("qif", std::move(p));
  net.add_edge("drive", "qif", qifsim::Weights::all_to_all(n, 1, 1.0));
  net.compile();
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 1000, members = 64, steps = 200;
  std::string precision = "float64", coupling = "dense", mode = "batched";
  bool reproducible = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--n") n = std::stoll(next());
    else if (a == "--members") members = std::stoll(next());
    else if (a == "--steps") steps = std::stoll(next());
    else if (a == "--precision") precision = next();
    else if (a == "--coupling") coupling = next();
    else if (a == "--mode") mode = next();
    else if (a == "--reproducible") reproducible = true;
    else usage("unknown argument " + a);
  }
  if (mode != "batched" && mode != "separate") usage("--mode is batched or separate");
  const std::string operators = "auto dense sparse procedural events";
  if (operators.find(coupling) == std::string::npos) usage("--coupling is one of " + operators);
  try {
    const auto t0 = Clock::now();
    const qifsim::Weights J = weights(n, coupling);
    std::vector<double> gains;
    for (std::int64_t b = 0; b < members; ++b) gains.push_back(0.5 + static_cast<double>(b) / static_cast<double>(members));
    qifsim::RunOptions o;
    o.progress = qifsim::Progress::Off;
    o.record_output = false;
    o.record_vars = {{"qif", "s", true}};
    o.sampling_steps = 10;
    o.coupling = qifsim::parse_coupling(coupling);
    o.reproducible = reproducible;
    const qifsim::Matrix inputs(steps, 1, 3.0);
    double run_s = 0.0, setup_s = 0.0, checksum = 0.0;
    std::string choice;
    // The ensemble says its operators in a notice ("coupling (B members): 'qif': dense").
    std::string sweep_choice = coupling;
    qifsim::set_log_handler([&sweep_choice](const std::string& line) {
      const std::string head = "members): ";
      const std::size_t at = line.find(head);
      if (line.rfind("coupling (", 0) == 0 && at != std::string::npos) sweep_choice = line.substr(at + head.size());
    });
    if (mode == "batched") {
      qifsim::Network net = network(n, J, precision);
      o.sweep.keys = {qifsim::SweepKey::numbers("qif.k", gains)};
      // Each sweep run builds its ensemble (the members, J's conversion for events): timed as
      // a run of one step, and taken off the run of all steps (best of two of each).
      const qifsim::Matrix one(1, 1, 3.0);
      (void)net.run(one, o);
      setup_s = 1e300;
      run_s = 1e300;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t1 = Clock::now();
        (void)net.run(one, o);
        setup_s = std::min(setup_s, seconds_since(t1));
        const auto t2 = Clock::now();
        const qifsim::Observer obs = net.run(inputs, o);
        run_s = std::min(run_s, seconds_since(t2));
        checksum = 0.0;
        for (double x : obs.to_matrix("qif.s").data) checksum += x;
      }
      run_s -= setup_s;  // one step of the T counted in setup_s: within the noise
      choice = sweep_choice;
    } else {
      // One network at a time (B copies of a large J would not fit): each built, warmed up
      // by one step and reset outside the clock, then its run timed.
      for (std::int64_t b = 0; b < members; ++b) {
        qifsim::Network net = network(n, J, precision);
        net.set_var("qif", "k", {gains[static_cast<std::size_t>(b)]});
        (void)net.run(qifsim::Matrix(1, 1, 3.0), o);
        double best = 1e300;
        for (int rep = 0; rep < 2; ++rep) {  // best of two, as the batched runs
          net.reset();
          const auto t1 = Clock::now();
          const qifsim::Observer obs = net.run(inputs, o);
          best = std::min(best, seconds_since(t1));
          if (rep == 0) {
            for (double x : obs.to_matrix("qif.s").data) checksum += x;
          }
        }
        run_s += best;
        choice = net.coupling_choice();
      }
      setup_s = seconds_since(t0) - run_s;
    }
    const double member_steps = static_cast<double>(members) * static_cast<double>(steps);
    const double gflops = coupling == "dense" ? 2.0 * static_cast<double>(n) * static_cast<double>(n) * member_steps / run_s / 1e9 : 0.0;
    std::printf(
        "{\"tool\": \"qifsim_sweep_bench\", \"n\": %lld, \"members\": %lld, \"precision\": \"%s\", \"requested\": \"%s\", \"coupling\": \"%s\", "
        "\"mode\": \"%s\", \"reproducible\": %s, \"steps\": %lld, \"setup_s\": %.3f, \"run_s\": %.4f, "
        "\"member_steps_per_s\": %.1f, \"gflops\": %.2f, \"checksum\": %.6g}\n",
        static_cast<long long>(n), static_cast<long long>(members), precision.c_str(), coupling.c_str(), choice.c_str(),
        mode.c_str(),
        reproducible ? "true" : "false", static_cast<long long>(steps), setup_s, run_s, member_steps / run_s, gflops,
        checksum);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "qifsim_sweep_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
