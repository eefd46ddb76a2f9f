// tests/install_consumer/consumer.cpp - the installed C++ API: a config string, a run, an
// HDF5 recording (so the static library's dependencies must all link), checked against a
// hand-written Euler loop of one neuron.
#include <cmath>
#include <cstdio>

#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"
#include "qifsim/recording.hpp"

int main(int argc, char** argv) try {
  const char* text = R"(dt = 1e-3
steps = 1500
[[population]]
name = "p"
n = 1
eta = 2.0
[input]
value = 3.0
[record]
vars = [["p", "v", false]]
formats = []
)";
  qifsim::RunConfig cfg = qifsim::parse_config(text);
  cfg.options.progress = qifsim::Progress::Off;
  qifsim::ConfigRun r = qifsim::run_config(cfg);
  const qifsim::Matrix v = r.observer.to_matrix("p.v");
  // The spec for one uncoupled neuron: v += dt (v^2 + eta + I), reset at v >= 100.
  double x = -2.0, worst = 0.0;
  for (int t = 0; t < 1500; ++t) {
    worst = std::fmax(worst, std::fabs(v(t, 0) - x));
    const bool spike = x >= 100.0;
    x = spike ? -100.0 : x + 1e-3 * (x * x + 5.0);
  }
  if (argc > 1 && qifsim::hdf5_supported()) qifsim::save_recording(r.observer, argv[1], {"hdf5", "npy"});
  std::printf("consumer_cpp: qifsim %s, %lld samples, max |v - reference| = %g\n", QIFSIM_VERSION_STRING,
              static_cast<long long>(r.observer.samples()), worst);
  return worst < 1e-9 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "consumer_cpp: %s\n", e.what());
  return 1;
}
