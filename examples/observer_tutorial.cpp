// examples/observer_tutorial.cpp - the Observer tutorial: a network of N = 5 randomly
// coupled QIF neurons driven by a constant input, recorded two ways.
//
//   observer_tutorial [OUT_DIR]      (default OUT_DIR: observer_tutorial_results)
//
// 1. A custom loop: forward() every step and Observer::record() of the output and of
//    every neuron's v.
// 2. The same simulation through Network::run(), recording the neuron-averaged v, once at
//    every step and once at every second step.
// It prints a short summary and writes the recordings (.npy and .csv) to OUT_DIR.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <random>
#include <string>

#include "qifsim/qifsim.hpp"

namespace {

// Spikes per neuron counted from a per-neuron v recording: a sample at or above the
// threshold is one spike (the neuron is reset at the end of that step).
double spikes_per_neuron(const qifsim::Matrix& v, double threshold) {
  std::int64_t count = 0;
  for (double value : v.data) count += value >= threshold ? 1 : 0;
  return static_cast<double>(count) / static_cast<double>(v.cols);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string out_dir = argc > 1 ? argv[1] : "observer_tutorial_results";

  // Step 1: network initialization (J = rand(N, N) * 20, seeded for reproducibility).
  const std::int64_t N = 5;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  qifsim::Matrix J(N, N);
  for (double& w : J.data) w = uniform(rng) * 20.0;

  qifsim::Network net(1e-3, qifsim::Backend::Auto, qifsim::Precision::Float64);
  qifsim::QifPopulation qif;
  qif.n = N;
  qif.weights = J;
  net.add_population("qif", qif);
  net.compile();

  // Step 2: observer initialization: the output and every neuron's v.
  qifsim::Observer obs(net.dt(), /*record_output=*/true, /*record_loss=*/false,
                       {{"qif", "v", /*mean=*/false}});

  // Step 3: a custom loop over 10000 steps of constant input 15.
  const std::int64_t steps = 10000;
  const qifsim::Matrix inp(steps, N, 15.0);
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::vector<double> x(inp.row(step), inp.row(step) + N);
    const std::vector<double> out = net.forward(x);
    obs.record(step, out, 0.0, {net.get_var("qif", "v")});
  }

  // The same simulation through run(): neuron-averaged v, every step and every 2nd step.
  net.reset();
  qifsim::RunOptions options;
  options.record_vars = {{"qif", "v", /*mean=*/true}};
  const qifsim::Observer obs1 = net.run(inp, options);
  net.reset();
  options.sampling_steps = 2;
  const qifsim::Observer obs2 = net.run(inp, options);

  const qifsim::Matrix v = obs.to_matrix("qif", "v");
  const qifsim::Matrix s = obs.to_matrix("out");
  std::printf("qifsim %s: N = %lld QIF neurons, %lld steps of dt = %g (backend %s, %s)\n",
              QIFSIM_VERSION_STRING, static_cast<long long>(N), static_cast<long long>(steps),
              net.dt(), qifsim::to_string(net.backend()).c_str(),
              qifsim::to_string(net.precision()).c_str());
  std::printf("manual loop : %lld samples, out %lld x %lld, qif.v %lld x %lld\n",
              static_cast<long long>(obs.samples()), static_cast<long long>(s.rows),
              static_cast<long long>(s.cols), static_cast<long long>(v.rows),
              static_cast<long long>(v.cols));
  std::printf("              spikes per neuron %.1f, mean output s %.4f, max s %.4f\n",
              spikes_per_neuron(v, 100.0),
              [&] { double m = 0; for (double x : s.data) m += x; return m / static_cast<double>(s.data.size()); }(),
              *std::max_element(s.data.begin(), s.data.end()));
  std::printf("run()       : %lld samples of mean v (sampling_steps = 1), %lld (sampling_steps = 2)\n",
              static_cast<long long>(obs1.to_matrix("qif", "v").rows),
              static_cast<long long>(obs2.to_matrix("qif", "v").rows));
  // The manual loop read v after forward(), i.e. at the start of the next step; run()
  // records v at the start of the sampled step. So manual sample t is run() sample t + 1.
  double max_diff = 0.0;
  const qifsim::Matrix m1 = obs1.to_matrix("qif", "v");
  for (std::int64_t t = 0; t + 1 < steps; ++t) {
    double mean = 0.0;
    for (std::int64_t i = 0; i < N; ++i) mean += v(t, i);
    max_diff = std::max(max_diff, std::abs(mean / static_cast<double>(N) - m1(t + 1, 0)));
  }
  std::printf("              max |manual mean v(t) - run() mean v(t + 1)| = %.3g\n", max_diff);

  const auto files = obs.save(out_dir + "/manual", {"npy", "csv"});
  const auto files2 = obs2.save(out_dir + "/run_sampling2", {"npy"});
  std::printf("wrote %zu files to %s/manual and %zu to %s/run_sampling2\n", files.size(),
              out_dir.c_str(), files2.size(), out_dir.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "observer_tutorial: error: %s\n", e.what());
  return 1;
}
