// examples/observer_tutorial.cpp - the Observer tutorial: a network of N = 5 randomly
// coupled QIF neurons driven by a constant input, recorded two ways.
//
//   observer_tutorial [OUT_DIR]      (default OUT_DIR: observer_tutorial_results)
//
// 1. A custom loop: forward() every step and Observer::record() of the output and of
//    every neuron's v.
// 2. The same simulation through Network::run(), recording the neuron-averaged v, once at
//    every step and once at every second step.
// 3. Toggling what is recorded: the output off, then test() with the loss recorded.
// It prints a short summary and writes the recordings (.npy, .csv, .h5) to OUT_DIR; plot them
// with scripts/qifsim-plot (or `qifsim plot`), e.g.
//   qifsim-plot OUT_DIR/manual --var qif.v --xy qif.v:out --heatmap qif.v
//   qifsim-plot OUT_DIR/run_sampling1 OUT_DIR/run_sampling2 --var qif.v --label obs --label obs2
// examples/observer_tutorial.toml is the same tutorial as a config for `qifsim run`.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "qifsim/generators.hpp"
#include "qifsim/qifsim.hpp"
#include "qifsim/recording.hpp"

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

  // Step 1: network initialization (J = rand(N, N) * 20, seeded for reproducibility). The
  // generator is the one of config files, so observer_tutorial.toml builds the same J.
  const std::int64_t N = 5;
  const qifsim::Matrix J(N, N, qifsim::uniform_values(N * N, 0.0, 20.0, /*seed=*/42));

  qifsim::Network net(1e-3, qifsim::Backend::Auto, qifsim::Precision::Float64);
  qifsim::QifPopulation qif;
  qif.n = N;
  qif.weights = J;
  net.add_population("qif", qif);
  net.compile();

  // Step 2: observer initialization: the output and every neuron's v.
  qifsim::Observer obs(net.dt(), /*record_output=*/true, /*record_loss=*/false,
                       {{"qif", "v", /*mean=*/false}});
  // ... and, beside it, the neuron-averaged v (averaged by record() as run() averages).
  qifsim::Observer obs_mean(net.dt(), /*record_output=*/false, /*record_loss=*/false, {{"qif", "v", /*mean=*/true}});

  // Step 3: a custom loop over 10000 steps of constant input 15.
  const std::int64_t steps = 10000;
  const qifsim::Matrix inp(steps, N, 15.0);
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::vector<double> x(inp.row(step), inp.row(step) + N);
    const std::vector<double> out = net.forward(x);
    const std::vector<double> v_now = net.get_var("qif", "v");
    obs.record(step, out, 0.0, {v_now});
    obs_mean.record(step, {}, 0.0, {v_now});
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
  // get_var after forward() shows v at the start of the step just taken, as in RectiPy: the
  // instant run() records for the sampled step. Both average over the neurons in the one
  // reduction order, so the manual loop and run() agree bit for bit.
  double max_diff = 0.0;
  const qifsim::Matrix m0 = obs_mean.to_matrix("qif", "v");
  const qifsim::Matrix m1 = obs1.to_matrix("qif", "v");
  for (std::int64_t t = 0; t < steps; ++t) max_diff = std::max(max_diff, std::abs(m0(t, 0) - m1(t, 0)));
  std::printf("              max |manual mean v(t) - run() mean v(t)| = %.3g\n", max_diff);

  // Toggling output and loss recording (RectiPy: record_output=..., record_loss=...).
  net.reset();
  qifsim::RunOptions no_output;
  no_output.record_output = false;             // only the variables
  no_output.record_vars = {{"qif", "v", true}};
  const qifsim::Observer obs3 = net.run(inp, no_output);
  net.reset();
  qifsim::RunOptions with_loss = no_output;
  with_loss.record_output = true;
  with_loss.record_loss = true;                // the loss needs targets: test()
  const qifsim::Matrix targets(steps, N, 0.0);
  const qifsim::TestResult tested = net.test(inp, targets, "mse", with_loss);
  auto keys = [](const qifsim::Observer& o) {
    std::string k;
    for (const auto& key : o.keys()) k += (k.empty() ? "" : ", ") + key;
    return k;
  };
  std::printf("output off  : series [%s]\n", keys(obs3).c_str());
  std::printf("test + loss : series [%s], mean loss (MSE against 0) %.4f\n", keys(tested.observer).c_str(),
              tested.loss);

  const auto files = qifsim::save_recording(obs, out_dir + "/manual", {"npy", "csv", "hdf5"});
  const auto files1 = obs1.save(out_dir + "/run_sampling1", {"npy"});
  const auto files2 = obs2.save(out_dir + "/run_sampling2", {"npy"});
  const auto files3 = tested.observer.save(out_dir + "/test_with_loss", {"npy"});
  std::printf("wrote %zu files to %s/manual, %zu to run_sampling1, %zu to run_sampling2, %zu to test_with_loss\n",
              files.size(), out_dir.c_str(), files1.size(), files2.size(), files3.size());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "observer_tutorial: error: %s\n", e.what());
  return 1;
}
