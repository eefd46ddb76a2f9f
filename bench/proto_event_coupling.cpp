// bench/proto_event_coupling.cpp - a measurement, not library code: how much faster a step
// gets when the coupling J s is updated from the spikes instead of recomputed by a dense gemv.
//
//   proto_event_coupling [--n 1000] [--steps 2000] [--resync 1000] [--float32]
//
// With one synaptic time constant for the whole population, s(t+1) = c s(t) + spike(t) with
// c = 1 - dt/tau_s, so J s(t+1) = c (J s(t)) + sum over the neurons j that spiked of column j
// of J: O(N) per step plus O(N) per spike instead of O(N^2). Rounding differs from the dense
// product (the spec's float64 arithmetic), so the result is not bit for bit qifsim's; a dense
// gemv every --resync steps bounds the drift. The program runs qifsim (Network::run, the
// reference), a dense loop of the spec (must equal qifsim bit for bit) and the event-driven
// loop on the same network, and prints times and the differences of v and of the spike steps.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <class T>
void gemv(int n, const T* A, const T* x, T* y) {
  if constexpr (sizeof(T) == 8) {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0, A, n, x, 1, 0.0, y, 1);
  } else {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, n, 1.0f, A, n, x, 1, 0.0f, y, 1);
  }
}

struct Result {
  double seconds = 0.0;
  std::vector<double> v_final;
  std::vector<std::vector<std::int64_t>> spikes;  // per neuron
};

// The spec's step (host/model/qif.hpp order) with the coupling either dense every step
// or event-driven with a dense resync every `resync` steps (resync = 0: dense).
template <class T>
Result simulate(const std::vector<double>& Jd, const std::vector<double>& etad, std::int64_t n, std::int64_t steps,
                std::int64_t resync) {
  const T dt = T(1e-3), tau = T(1), k = T(1), tau_s = T(1), v_th = T(100), v_reset = T(-100), input = T(15);
  std::vector<T> J(Jd.begin(), Jd.end()), eta(etad.begin(), etad.end());
  std::vector<T> Jt(J.size());  // columns of J, contiguous
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) Jt[static_cast<std::size_t>(j * n + i)] = J[static_cast<std::size_t>(i * n + j)];
  }
  std::vector<T> v(static_cast<std::size_t>(n), T(-2)), s(static_cast<std::size_t>(n), T(0)),
      s_in(static_cast<std::size_t>(n), T(0));
  std::vector<std::int64_t> fired;
  Result r;
  r.spikes.resize(static_cast<std::size_t>(n));
  const T c = T(1) + dt * (T(-1) / tau_s);  // s(t+1) = c s(t) + spike, up to rounding
  const int ni = static_cast<int>(n);
  const auto t0 = Clock::now();
  for (std::int64_t t = 0; t < steps; ++t) {
    if (resync == 0 || t % resync == 0) {
      gemv<T>(ni, J.data(), s.data(), s_in.data());
    }
    fired.clear();
    for (std::int64_t i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      const T v0 = v[u];
      const bool spike = v0 >= v_th;
      const T v1 = v0 + dt * ((v0 * v0 + eta[u] + input) / tau + k * s_in[u]);
      s[u] = s[u] + dt * (-s[u] / tau_s) + (spike ? T(1) : T(0));
      v[u] = spike ? v_reset : v1;
      if (spike) fired.push_back(i);
    }
    for (std::int64_t i : fired) r.spikes[static_cast<std::size_t>(i)].push_back(t);
    if (resync != 0 && (t + 1) % resync != 0) {
      // J s(t+1) = c J s(t) + sum_j fired J[:, j]
      for (std::int64_t i = 0; i < n; ++i) s_in[static_cast<std::size_t>(i)] *= c;
      for (std::int64_t j : fired) {
        const T* col = Jt.data() + j * n;
        for (std::int64_t i = 0; i < n; ++i) s_in[static_cast<std::size_t>(i)] += col[i];
      }
    }
  }
  r.seconds = since(t0);
  r.v_final.assign(v.begin(), v.end());
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  std::int64_t n = 1000, steps = 2000, resync = 1000;
  bool f32 = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return std::stoll(argv[++i]); };
    if (a == "--n" && i + 1 < argc) n = next();
    else if (a == "--steps" && i + 1 < argc) steps = next();
    else if (a == "--resync" && i + 1 < argc) resync = next();
    else if (a == "--float32") f32 = true;
    else {
      std::fprintf(stderr, "usage: proto_event_coupling [--n N] [--steps T] [--resync R] [--float32]\n");
      return 2;
    }
  }
  // The network of compare_peers.py's kind: J uniform in [0, 20/N), eta in [-5, -3), input 15.
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> J(static_cast<std::size_t>(n * n)), eta(static_cast<std::size_t>(n));
  for (double& w : J) w = u(rng) * 20.0 / static_cast<double>(n);
  for (double& e : eta) e = -5.0 + 2.0 * u(rng);

  // qifsim itself: run() without recording, then v.
  qifsim::set_log_handler(nullptr);
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, f32 ? qifsim::Precision::Float32 : qifsim::Precision::Float64);
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = qifsim::Matrix(n, n, J);
  p.eta = eta;
  net.add_population("qif", p);
  net.compile();
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.record_output = false;
  const qifsim::Matrix inputs(steps, n, 15.0);
  net.run(inputs, opt);  // warm-up
  // Interleaved repeats (qifsim, dense loop, event loop), the best of each: the memory
  // bandwidth of a shared machine drifts, so A/B runs alternate.
  double q_best = 1e30;
  Result dense, event;
  dense.seconds = event.seconds = 1e30;
  std::vector<double> q_v;
  for (int rep = 0; rep < 3; ++rep) {
    net.reset();
    const auto t0 = Clock::now();
    net.run(inputs, opt);
    q_best = std::min(q_best, since(t0));
    q_v = net.get_var("qif", "v");
    Result d = f32 ? simulate<float>(J, eta, n, steps, 0) : simulate<double>(J, eta, n, steps, 0);
    if (d.seconds < dense.seconds) dense = std::move(d);
    Result e = f32 ? simulate<float>(J, eta, n, steps, resync) : simulate<double>(J, eta, n, steps, resync);
    if (e.seconds < event.seconds) event = std::move(e);
  }
  auto max_diff = [](const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
  };
  std::int64_t total_spikes = 0, differing = 0;
  for (std::size_t i = 0; i < dense.spikes.size(); ++i) {
    total_spikes += static_cast<std::int64_t>(dense.spikes[i].size());
    differing += dense.spikes[i] != event.spikes[i] ? 1 : 0;
  }
  std::printf(
      "{\"n\": %lld, \"steps\": %lld, \"precision\": \"%s\", \"resync\": %lld, \"spikes\": %lld,\n"
      " \"qifsim_run_us_per_step\": %.3f, \"dense_loop_us_per_step\": %.3f, \"event_loop_us_per_step\": %.3f,\n"
      " \"speedup_event_vs_qifsim\": %.1f,\n"
      " \"dense_vs_qifsim_max_abs_v\": %.3g, \"event_vs_dense_max_abs_v\": %.3g, \"neurons_with_other_spike_steps\": %lld}\n",
      static_cast<long long>(n), static_cast<long long>(steps), f32 ? "float32" : "float64",
      static_cast<long long>(resync), static_cast<long long>(total_spikes), q_best / static_cast<double>(steps) * 1e6,
      dense.seconds / static_cast<double>(steps) * 1e6, event.seconds / static_cast<double>(steps) * 1e6,
      q_best / event.seconds, max_diff(dense.v_final, q_v), max_diff(event.v_final, dense.v_final),
      static_cast<long long>(differing));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "proto_event_coupling: %s\n", e.what());
  return 1;
}
