// examples/sweep_example.cpp - a parameter sweep from C++: the Montbrio-Pazo-Roxin network
// (1000 QIF neurons, Lorentzian eta, all-to-all coupling) at eight coupling gains, as one
// batched run (RunOptions::sweep), then each member's mean rate after a step input has ended.
//
//   ./build/examples/sweep_example [out_dir]     # writes out_dir/sweep (NPY, members.csv) if given
#include <cstdio>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"

int main(int argc, char** argv) {
  const double dt = 1e-3;
  const std::int64_t n = 1000, steps = 30000;
  qifsim::Network net(dt, qifsim::Backend::Cpu);
  net.add_function("inp", 1, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = n;
  p.eta = qifsim::lorentzian_quantiles(n, -5.0, 1.0);
  p.weights = qifsim::Weights::all_to_all(n, n, 15.0 / static_cast<double>(n));
  p.v_threshold = 100.0;
  p.v_reset = -100.0;
  net.add_population("qif", p);
  net.add_edge("inp", "qif", qifsim::Weights::all_to_all(n, 1, 1.0));
  net.compile();

  qifsim::Matrix input(steps, 1, 0.0);  // I = 3 from t = 10 to t = 20
  for (std::int64_t t = 10000; t < 20000; ++t) input(t, 0) = 3.0;

  qifsim::RunOptions opt;
  opt.record_output = false;
  opt.record_vars = {{"qif", "s", /*mean=*/true}};  // the population rate (mean synaptic activation)
  opt.sampling_steps = 10;
  const std::vector<double> gains = {0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6};
  opt.sweep.keys = {qifsim::SweepKey::numbers("qif.k", gains)};
  const qifsim::Observer obs = net.run(input, opt);  // every series: samples x 8 members x width

  std::printf("%d members, %lld samples\n", static_cast<int>(obs.members()), static_cast<long long>(obs.samples()));
  for (std::int64_t b = 0; b < obs.members(); ++b) {
    const qifsim::Matrix s = obs.member_matrix("qif.s", b);  // samples x 1
    double late = 0.0;
    const std::int64_t from = s.rows * 7 / 10;  // t > 21: after the input ended
    for (std::int64_t r = from; r < s.rows; ++r) late += s(r, 0);
    std::printf("k = %.1f: mean rate %.4f after the input\n", gains[static_cast<std::size_t>(b)],
                late / static_cast<double>(s.rows - from));
  }
  if (argc > 1) {
    for (const std::string& f : obs.save(std::string(argv[1]) + "/sweep")) std::printf("wrote %s\n", f.c_str());
  }
  return 0;
}
