// tests/test_models.cpp - RectiPy's other neuron models (lif, ik, iku, ik_biexp, tanh, sigmoid)
// on the CPU backend, against references written here from the templates' equations
// (neuron_model_templates/*.yaml of RectiPy 0.12.2) with explicit Euler as RectiPy steps them,
// and against closed forms: the LIF interspike interval and the leaky integrator's fixed point.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"
#include "test_util.hpp"

namespace {

using Vec = std::vector<double>;

Vec random_weights(int n, double scale, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Vec J(static_cast<std::size_t>(n * n));
  for (double& w : J) w = scale * normal(gen);
  return J;
}

Vec matvec(const Vec& J, const Vec& x) {
  const std::size_t n = x.size();
  Vec y(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) y[i] += J[i * n + j] * x[j];
  }
  return y;
}

double mean(const Vec& x) {
  double total = 0.0;
  for (double v : x) total += v;
  return total / static_cast<double>(x.size());
}

// Runs `steps` steps of one population with input I (per neuron, constant) and records the given
// variables per neuron at every step; returns name -> samples (steps x n, row-major).
std::map<std::string, Vec> run_recorded(qifsim::NeuronPopulation pop, const Vec& I, int steps, double dt,
                                        const std::vector<std::string>& vars) {
  qifsim::Network net(dt, qifsim::Backend::Cpu);
  const std::int64_t n = pop.n;
  net.add_population("p", std::move(pop));
  net.compile();
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  for (const auto& v : vars) opt.record_vars.push_back({"p", v, false});
  qifsim::Matrix inputs(steps, n, 0.0);
  for (int t = 0; t < steps; ++t) {
    for (std::int64_t i = 0; i < n; ++i) inputs.data[static_cast<std::size_t>(t * n + i)] = I[static_cast<std::size_t>(i)];
  }
  const qifsim::Observer obs = net.run(inputs, opt);
  std::map<std::string, Vec> out;
  for (const auto& v : vars) out[v] = obs.to_matrix("p", v).data;
  return out;
}

TEST(Models, LifMatchesItsEquations) {
  const int n = 5, steps = 4000;
  const double dt = 1e-3;
  const Vec J = random_weights(n, 20.0, 1);
  qifsim::NeuronPopulation pop;
  pop.model = "lif";
  pop.n = n;
  pop.weights = qifsim::Matrix(n, n, J);
  const Vec I = {400.0, 410.0, 420.0, 430.0, 440.0};
  const auto rec = run_recorded(pop, I, steps, dt, {"v", "s", "spike"});
  // RectiPy's lif: v' = -v/tau + k*s_in + I_ext + eta, s' = -s/tau_s + spike (spike/dt as input),
  // tau 10, k 1, eta 0, tau_s 0.5, v0 = s0 = 0, threshold 100 -> reset -100.
  Vec v(n, 0.0), s(n, 0.0), ev, es, espk;
  int spikes = 0;
  for (int t = 0; t < steps; ++t) {
    const Vec s_in = matvec(J, s);
    for (int i = 0; i < n; ++i) {
      ev.push_back(v[i]);
      es.push_back(s[i]);
      const bool spike = v[i] >= 100.0;
      espk.push_back(spike ? 1.0 / dt : 0.0);  // a recorded spike is RectiPy's spike / dt
      spikes += spike;
      const double dv = -v[i] / 10.0 + 1.0 * s_in[i] + I[i] + 0.0;
      s[i] = s[i] + dt * (-s[i] / 0.5 + (spike ? 1.0 / dt : 0.0));
      v[i] = spike ? -100.0 : v[i] + dt * dv;
    }
  }
  ASSERT_GT(spikes, 20);  // the test covers spikes and resets
  EXPECT_EQ(rec.at("spike"), espk);
  EXPECT_TRUE(qtest::expect_rel(rec.at("v"), ev, 1e-9));
  EXPECT_TRUE(qtest::expect_rel(rec.at("s"), es, 1e-9));
}

TEST(Models, LifInterspikeIntervalIsTheClosedForm) {
  // One uncoupled neuron, v' = -v/tau + I: from v_reset it reaches v_th after
  // T = tau * ln((I tau - v_reset) / (I tau - v_th)); Euler's error is O(dt).
  const double dt = 1e-4, tau = 10.0, I = 50.0;
  qifsim::NeuronPopulation pop;
  pop.model = "lif";
  pop.n = 1;
  pop.values["v0"] = -100.0;
  const int steps = 200000;
  const auto rec = run_recorded(pop, {I}, steps, dt, {"spike"});
  std::vector<int> at;
  for (int t = 0; t < steps; ++t) {
    if (rec.at("spike")[static_cast<std::size_t>(t)] != 0.0) at.push_back(t);
  }
  ASSERT_GE(at.size(), 3u);
  const double expected = tau * std::log((I * tau + 100.0) / (I * tau - 100.0));
  for (std::size_t k = 1; k < at.size(); ++k) {
    const double isi = (at[k] - at[k - 1]) * dt;
    EXPECT_NEAR(isi, expected, 2e-3 * expected) << "interval " << k;
  }
}

// The Izhikevich variants written out from ik.yaml; `variant` 0 ik, 1 iku, 2 ik_biexp.
void check_ik(const char* model, int variant) {
  const int n = 6, steps = 8000;
  const double dt = 1e-2;
  const Vec J = random_weights(n, 0.5, 7);
  qifsim::NeuronPopulation pop;
  pop.model = model;
  pop.n = n;
  pop.weights = qifsim::Matrix(n, n, J);
  pop.values["eta"] = std::vector<double>{40.0, 50.0, 60.0, 70.0, 80.0, 90.0};
  pop.values["v_threshold"] = 30.0;
  pop.values["v_reset"] = -65.0;
  const Vec I(n, 150.0);
  std::vector<std::string> vars = {"v", "u", "s"};
  if (variant == 2) vars.push_back("x");
  const auto rec = run_recorded(pop, I, steps, dt, vars);
  const double C = 100, k = 0.7, v_r = -60, v_t = -40, g = 1, E_r = 0, b = -2, tau_u = 33.33, kappa = 10;
  const double tau_s = 6, tau_r = 2, tau_d = 6;
  const Vec eta = {40.0, 50.0, 60.0, 70.0, 80.0, 90.0};
  Vec v(n, -60.0), u(n, 0.0), s(n, 0.0), x(n, 0.0);
  std::map<std::string, Vec> expected;
  int spikes = 0;
  for (int t = 0; t < steps; ++t) {
    const Vec s_in = matvec(J, s);
    Vec spike(n);
    for (int i = 0; i < n; ++i) spike[i] = v[i] >= 30.0 ? 1.0 : 0.0;
    const double v_mean = mean(v), spike_mean = mean(spike);
    for (int i = 0; i < n; ++i) {
      expected["v"].push_back(v[i]);
      expected["u"].push_back(u[i]);
      expected["s"].push_back(s[i]);
      expected["x"].push_back(x[i]);
      spikes += static_cast<int>(spike[i]);
      const double dv = (k * (v[i] - v_r) * (v[i] - v_t) - u[i] + I[i] + eta[i] + g * s_in[i] * (E_r - v[i])) / C;
      const double vd = variant == 0 ? v[i] : v_mean;
      const double sp = variant == 0 ? spike[i] : spike_mean;
      const double du = (b * (vd - v_r) - u[i]) / tau_u + kappa * sp / dt;
      double ds, dx = 0.0;
      if (variant == 2) {
        ds = -s[i] / tau_d + x[i];
        dx = -x[i] / tau_r + spike[i] / dt;
      } else {
        ds = -s[i] / tau_s + spike[i] / dt;
      }
      u[i] += dt * du;
      s[i] += dt * ds;
      x[i] += dt * dx;
      v[i] = spike[i] == 1.0 ? -65.0 : v[i] + dt * dv;
    }
  }
  ASSERT_GT(spikes, 20) << model;
  for (const auto& var : vars) EXPECT_TRUE(qtest::expect_rel(rec.at(var), expected[var], 1e-8)) << model << "." << var;
}

TEST(Models, IkMatchesItsEquations) { check_ik("ik", 0); }
TEST(Models, IkuUsesPopulationMeans) { check_ik("iku", 1); }
TEST(Models, IkBiexpMatchesItsEquations) { check_ik("ik_biexp", 2); }

void check_leaky(bool sigmoid) {
  const int n = 5, steps = 3000;
  const double dt = 1e-3;
  const Vec J = random_weights(n, 1.5, 3);
  qifsim::NeuronPopulation pop;
  pop.model = sigmoid ? "sigmoid" : "tanh";
  pop.n = n;
  pop.weights = qifsim::Matrix(n, n, J);
  pop.values["v_init"] = std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0};
  pop.values["tau"] = 2.0;
  if (sigmoid) pop.values["s"] = 2.0;
  pop.output_var = "v";
  const Vec I = {0.5, 0.4, 0.3, 0.2, 0.1};
  const auto rec = run_recorded(pop, I, steps, dt, {"v", "r"});
  auto rate = [&](double v) { return sigmoid ? 1.0 / (1.0 + std::exp(2.0 * (0.0 - v))) : std::tanh(v); };
  Vec v = {-1.0, -0.5, 0.0, 0.5, 1.0}, ev, er;
  for (int t = 0; t < steps; ++t) {
    Vec r(n);
    for (int i = 0; i < n; ++i) r[i] = rate(v[i]);
    const Vec r_in = matvec(J, r);
    // A rate node's run records its state after the step (RectiPy's RateNet).
    for (int i = 0; i < n; ++i) {
      v[i] += dt * (-v[i] / 2.0 + 1.0 * r_in[i] + I[i] + 0.0);
      ev.push_back(v[i]);
      er.push_back(rate(v[i]));
    }
  }
  EXPECT_TRUE(qtest::expect_rel(rec.at("v"), ev, 1e-10));
  EXPECT_TRUE(qtest::expect_rel(rec.at("r"), er, 1e-10));
}

TEST(Models, LeakyTanhMatchesItsEquations) { check_leaky(false); }
TEST(Models, LeakySigmoidMatchesItsEquations) { check_leaky(true); }

TEST(Models, LeakyIntegratorReachesItsFixedPoint) {
  // Coupled tanh neurons settle where v = tau (k J tanh(v) + I + eta); the fixed point is found
  // here by iterating that map (a contraction for these small weights).
  const int n = 3;
  const Vec J = {0.0, 0.2, -0.1, 0.1, 0.0, 0.3, -0.2, 0.1, 0.0};
  const Vec I = {0.1, -0.2, 0.05};
  const double tau = 1.5, k = 0.8, eta = 0.1;
  Vec v(n, 0.0);
  for (int it = 0; it < 500; ++it) {
    Vec r(n);
    for (int i = 0; i < n; ++i) r[i] = std::tanh(v[i]);
    const Vec r_in = matvec(J, r);
    for (int i = 0; i < n; ++i) v[i] = tau * (k * r_in[i] + I[i] + eta);
  }
  qifsim::Network net(1e-2, qifsim::Backend::Cpu);
  qifsim::NeuronPopulation pop;
  pop.model = "tanh";
  pop.n = n;
  pop.weights = qifsim::Matrix(n, n, J);
  pop.values["tau"] = tau;
  pop.values["k"] = k;
  pop.values["eta"] = eta;
  net.add_population("li", pop);
  net.compile();
  qifsim::Matrix inputs(5000, n, 0.0);
  for (int t = 0; t < 5000; ++t) {
    for (int i = 0; i < n; ++i) inputs.data[static_cast<std::size_t>(t * n + i)] = I[i];
  }
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  net.run(inputs, opt);
  EXPECT_TRUE(qtest::expect_rel(net.get_var("li", "v"), v, 1e-9));
  Vec r(n);
  for (int i = 0; i < n; ++i) r[i] = std::tanh(v[i]);
  EXPECT_TRUE(qtest::expect_rel(net.get_var("li", "r"), r, 1e-9));
}

TEST(Models, NamesAndErrors) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::NeuronPopulation bad;
  bad.model = "hh";
  try {
    net.add_population("p", bad);
    FAIL() << "unknown model accepted";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'hh' is unknown"), std::string::npos) << e.what();
  }
  qifsim::NeuronPopulation lif;
  lif.model = "lif";
  lif.n = 3;
  lif.values["tau_x"] = 1.0;
  EXPECT_THROW(net.add_population("p", lif), qifsim::InvalidArgument);  // not a LIF parameter
  lif.values.clear();
  lif.values["tau"] = 0.0;
  EXPECT_THROW(net.add_population("p", lif), qifsim::InvalidArgument);  // time constants are > 0
  lif.values.clear();
  lif.values["v_reset"] = 200.0;
  EXPECT_THROW(net.add_population("p", lif), qifsim::InvalidArgument);  // reset above threshold
  lif.values.clear();
  lif.output_var = "u";
  EXPECT_THROW(net.add_population("p", lif), qifsim::InvalidArgument);
  lif.output_var = "";
  net.add_population("p", lif);
  const auto names = net.var_names("p");
  for (const char* want : {"v", "s", "spike", "s_in", "I_ext", "tau", "k", "eta", "tau_s", "v_threshold", "v_reset"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  EXPECT_EQ(net.get_var("p", "tau"), Vec(3, 10.0));  // RectiPy's default, before compile
  qifsim::NeuronPopulation li;
  li.model = "tanh";
  li.n = 2;
  net.add_population("li", li);
  net.add_edge("p", "li", qifsim::Matrix(2, 3, 1.0));
  net.compile();
  EXPECT_THROW(net.set_var("li", "r", {0.5}), qifsim::InvalidArgument);  // r follows from v
  net.set_var("li", "v", {0.5});
  EXPECT_EQ(net.get_var("li", "r"), Vec(2, std::tanh(0.5)));
  qifsim::RunOptions events;
  events.coupling = qifsim::CouplingMode::Events;
  events.progress = qifsim::Progress::Off;
  EXPECT_NO_THROW(net.run(qifsim::Matrix(3, 3, 0.0), events));  // lif has s' = -s/tau_s + spike (no J here)
  EXPECT_THROW(net.save_checkpoint(::testing::TempDir() + "/models.ckpt"), qifsim::InvalidArgument);
}

TEST(Models, EventsRefusedForARateModelWithWeights) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::NeuronPopulation li;
  li.model = "tanh";
  li.n = 2;
  li.weights = qifsim::Matrix(2, 2, 0.5);
  net.add_population("li", li);
  net.compile();
  qifsim::RunOptions events;
  events.coupling = qifsim::CouplingMode::Events;
  events.progress = qifsim::Progress::Off;
  try {
    net.run(qifsim::Matrix(3, 2, 0.0), events);
    FAIL() << "events accepted for a rate model";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("tanh"), std::string::npos) << e.what();
  }
}

TEST(Models, LifEventsMatchTheDenseProduct) {
  // Event-driven coupling applies to the LIF synapse (s' = -s/tau_s + spike): same spikes.
  const int n = 50, steps = 2000;
  Vec J = random_weights(n, 2.0, 11);
  auto run = [&](qifsim::CouplingMode mode) {
    qifsim::Network net(1e-3, qifsim::Backend::Cpu);
    qifsim::NeuronPopulation pop;
    pop.model = "lif";
    pop.n = n;
    pop.weights = qifsim::Matrix(n, n, J);
    net.add_population("p", pop);
    net.compile();
    qifsim::RunOptions opt;
    opt.coupling = mode;
    opt.progress = qifsim::Progress::Off;
    opt.record_vars = {{"p", "spike", false}};
    return net.run(qifsim::Matrix(steps, n, 400.0), opt).to_matrix("p", "spike").data;
  };
  const Vec dense = run(qifsim::CouplingMode::Dense);
  double total = 0.0;
  for (double z : dense) total += z;
  ASSERT_GT(total, 100.0);
  EXPECT_EQ(run(qifsim::CouplingMode::Events), dense);
}

}  // namespace
