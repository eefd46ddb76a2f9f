// bench/qifsim_run_npy.cpp - run one QIF population from .npy arrays and time it; the qifsim
// side of bench/compare_peers.py, which feeds the same arrays to every peer.
//
//   qifsim_run_npy --weights J.npy --inputs I.npy [--eta eta.npy | --eta-value -5]
//                  [--dt 1e-3] [--precision float64|float32] [--backend cpu|cuda|auto]
//                  [--adaptation [--alpha A] [--tau-x T]] [--record out,v,v_mean]
//                  [--sampling-steps K] [--repeats R] [--save DIR] [--cuda-coupling cublas|rows|fused]
//                  [--event-coupling R] [--reproducible]
//   qifsim_run_npy --write-example DIR [--n N] [--steps T]   (small arrays for a smoke test)
//
// J is N x N (row i = weights onto neuron i), I is steps x N, eta is a scalar or N values.
// Setup (reading the arrays, building and compiling the network) is timed apart from the
// runs. Each repeat resets the network and runs all steps; the recordings of the last repeat
// go to DIR (out.npy, qif.v.npy, steps.npy, time.npy). One JSON line goes to stdout.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "qifsim/npy.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "qifsim_run_npy: %s\n"
               "usage: qifsim_run_npy --weights J.npy --inputs I.npy [--eta eta.npy | --eta-value X]\n"
               "         [--dt DT] [--precision float64|float32] [--backend cpu|cuda|auto]\n"
               "         [--adaptation [--alpha A] [--tau-x T]] [--record out,v,v_mean]\n"
               "         [--sampling-steps K] [--repeats R] [--save DIR] [--cuda-coupling cublas|rows|fused]\n"
               "         [--event-coupling R] [--reproducible]\n"
               "       qifsim_run_npy --write-example DIR [--n N] [--steps T]\n",
               why.c_str());
  std::exit(2);
}

// A minimal float64 .npy writer (C order), for --write-example.
void write_npy(const std::string& path, const std::vector<std::int64_t>& shape, const std::vector<double>& data) {
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) dims += std::to_string(shape[i]) + (shape.size() == 1 ? "," : (i + 1 < shape.size() ? ", " : ""));
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write " + path);
  const char magic[] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  f.write(magic, sizeof(magic));
  const auto len = static_cast<std::uint16_t>(header.size());
  const char lenb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  f.write(lenb, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(double)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

int write_example(const std::string& dir, std::int64_t n, std::int64_t steps) {
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> J(static_cast<std::size_t>(n * n));
  for (double& w : J) w = u(rng) * 20.0 / static_cast<double>(n);
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (double& e : eta) e = -5.0 + u(rng);
  write_npy(dir + "/J.npy", {n, n}, J);
  write_npy(dir + "/eta.npy", {n}, eta);
  write_npy(dir + "/inputs.npy", {steps, n}, std::vector<double>(static_cast<std::size_t>(steps * n), 15.0));
  std::printf("{\"wrote\": \"%s\", \"n\": %lld, \"steps\": %lld}\n", dir.c_str(), static_cast<long long>(n),
              static_cast<long long>(steps));
  return 0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  char buf[64];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? ", " : "", v[i]);
    s += buf;
  }
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) try {
  std::string weights_path, inputs_path, eta_path, save_dir, example_dir;
  std::string precision = "float64", backend = "cpu", record = "out", coupling = "cublas";
  double dt = 1e-3, eta_value = -5.0, alpha = 1.0, tau_x = 10.0;
  bool adaptation = false;
  std::int64_t sampling = 1, repeats = 3, example_n = 8, example_steps = 200, event_coupling = 0;
  bool reproducible = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--weights") weights_path = next();
    else if (a == "--inputs") inputs_path = next();
    else if (a == "--eta") eta_path = next();
    else if (a == "--eta-value") eta_value = std::stod(next());
    else if (a == "--dt") dt = std::stod(next());
    else if (a == "--precision") precision = next();
    else if (a == "--backend") backend = next();
    else if (a == "--adaptation") adaptation = true;
    else if (a == "--alpha") alpha = std::stod(next());
    else if (a == "--tau-x") tau_x = std::stod(next());
    else if (a == "--record") record = next();
    else if (a == "--sampling-steps") sampling = std::stoll(next());
    else if (a == "--repeats") repeats = std::stoll(next());
    else if (a == "--save") save_dir = next();
    else if (a == "--cuda-coupling") coupling = next();
    else if (a == "--event-coupling") event_coupling = std::stoll(next());
    else if (a == "--reproducible") reproducible = true;
    else if (a == "--write-example") example_dir = next();
    else if (a == "--n") example_n = std::stoll(next());
    else if (a == "--steps") example_steps = std::stoll(next());
    else if (a == "-h" || a == "--help") usage("help");
    else usage("unknown argument " + a);
  }
  if (!example_dir.empty()) return write_example(example_dir, example_n, example_steps);
  if (weights_path.empty() || inputs_path.empty()) usage("--weights and --inputs are required");
  if (repeats < 1) usage("--repeats must be >= 1");
  if (coupling != "cublas" && coupling != "rows" && coupling != "fused") usage("--cuda-coupling is cublas, rows or fused");
  qifsim::set_log_handler(nullptr);

  // ---- Setup: arrays, network, compile. ----
  const auto t_load = Clock::now();
  qifsim::Matrix J = qifsim::read_npy_matrix(weights_path);
  const qifsim::Matrix inputs = qifsim::read_npy_matrix(inputs_path);
  std::vector<double> eta{eta_value};
  if (!eta_path.empty()) eta = qifsim::read_npy(eta_path).data;
  const double load_s = seconds_since(t_load);

  const auto t_setup = Clock::now();
  const std::int64_t n = J.rows;
  if (J.cols != n) usage("weights must be square");
  qifsim::Network net(dt, qifsim::parse_backend(backend), qifsim::parse_precision(precision));
  qifsim::QifPopulation pop;
  pop.n = n;
  pop.weights = std::move(J);
  pop.eta = eta;
  pop.adaptation = adaptation;
  pop.alpha = alpha;
  pop.tau_x = tau_x;
  net.add_population("qif", pop);
  net.compile();
  const double setup_s = seconds_since(t_setup);

  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.sampling_steps = sampling;
  opt.record_output = false;
  if (coupling == "rows") opt.cuda_coupling = qifsim::CudaCoupling::RowBlocks;
  if (coupling == "fused") opt.cuda_coupling = qifsim::CudaCoupling::Fused;
  opt.event_coupling = event_coupling;
  opt.reproducible = reproducible;
  for (const std::string& r : split(record, ',')) {
    if (r == "out") opt.record_output = true;
    else if (r == "v") opt.record_vars.push_back({"qif", "v", false});
    else if (r == "v_mean") opt.record_vars.push_back({"qif", "v", true});
    else if (r == "s") opt.record_vars.push_back({"qif", "s", false});
    else if (r == "spike") opt.record_vars.push_back({"qif", "spike", false});
    else if (r != "none") usage("unknown --record item " + r);
  }

  // ---- Runs: each from the initial state. ----
  std::vector<double> run_s;
  qifsim::Observer obs(dt);
  for (std::int64_t r = 0; r < repeats; ++r) {
    net.reset();
    const auto t0 = Clock::now();
    obs = net.run(inputs, opt);
    run_s.push_back(seconds_since(t0));
  }
  if (!save_dir.empty()) obs.save(save_dir, {"npy"});
  std::vector<double> sorted = run_s;
  std::sort(sorted.begin(), sorted.end());
  const double best = repeats > 1 ? *std::min_element(run_s.begin() + 1, run_s.end()) : run_s[0];
  std::printf(
      "{\"tool\": \"qifsim\", \"version\": \"%s\", \"n\": %lld, \"steps\": %lld, \"precision\": \"%s\", "
      "\"backend\": \"%s\", \"load_s\": %.6g, \"setup_s\": %.6g, \"run_s\": %s, \"best_run_s\": %.9g, "
      "\"median_run_s\": %.9g, \"samples\": %lld}\n",
      QIFSIM_VERSION_STRING, static_cast<long long>(n), static_cast<long long>(inputs.rows), precision.c_str(),
      qifsim::to_string(net.backend()).c_str(), load_s, setup_s, json_list(run_s).c_str(), best,
      sorted[sorted.size() / 2], static_cast<long long>(obs.samples()));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "qifsim_run_npy: %s\n", e.what());
  return 1;
}
