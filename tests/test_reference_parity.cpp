// tests/test_reference_parity.cpp - the engine in float64 against the naive reference
// (tests/reference_qif.hpp, written from the spec), number for number: |a - b| <= 1e-10 *
// max(1, |b|). Only summation order (BLAS vs a plain loop) separates the two, so the
// differences are rounding-level; 1e-10 leaves room for their growth over a few thousand
// steps of a spiking network and still catches any semantic slip (a one-step shift of a
// spike, a wrong window, a missing term) by many orders of magnitude.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"
#include "reference_qif.hpp"
#include "test_util.hpp"

namespace {

using qtest::expect_matrix_close;
using qtest::expect_rel;
using qtest::expect_steps;

constexpr double kTol = 1e-10;
constexpr double kDt = 1e-3;

class Parity : public ::testing::TestWithParam<qifsim::Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == qifsim::Backend::Cuda && !qtest::cuda_available())
      GTEST_SKIP() << "CUDA backend not built or no usable device";
  }
  qifsim::Network make_net(const ref::QifParams& p) const {
    qifsim::Network net(kDt, GetParam(), qifsim::Precision::Float64);
    net.add_population("qif", qtest::to_population(p));
    net.compile();
    return net;
  }
};

/// A random excitatory or mixed-sign population with per-neuron eta.
ref::QifParams random_population(std::mt19937& rng, int n, double j_lo, double j_hi) {
  ref::QifParams p = ref::QifParams::defaults(n);
  p.J = qtest::uniform(rng, static_cast<std::size_t>(n * n), j_lo / n, j_hi / n);
  p.eta = qtest::uniform(rng, static_cast<std::size_t>(n), -7.0, -3.0);
  p.v0 = qtest::uniform(rng, static_cast<std::size_t>(n), -3.0, 3.0);
  return p;
}

/// Run the engine and the reference on the same inputs with the same recording and
/// compare every series. Returns the number of spikes in the reference run.
long compare_run(qifsim::Network& net, const ref::QifParams& p, const qifsim::Matrix& inputs,
                 std::int64_t sampling, std::int64_t cutoff,
                 const std::vector<qifsim::RecordVar>& vars) {
  qifsim::RunOptions opt = qtest::quiet_options(sampling, cutoff);
  opt.record_vars = vars;
  qifsim::Observer obs = net.run(inputs, opt);

  ref::QifPop pop(p);
  std::vector<ref::VarReq> reqs;
  for (const auto& v : vars) reqs.push_back({v.node + "." + v.var, v.mean});
  ref::Recording rec = ref::run_observer(
      inputs.rows, sampling, cutoff, reqs,
      [&](std::int64_t t) { return pop.step(qtest::row_of(inputs, t), kDt); },
      [&](std::size_t i) { return pop.var(vars[i].var, kDt); });

  EXPECT_TRUE(expect_steps(obs.steps(), rec.steps));
  const auto ns = static_cast<std::int64_t>(rec.steps.size());
  EXPECT_EQ(obs.samples(), ns);
  std::vector<double> times;
  for (std::int64_t s : rec.steps) times.push_back(static_cast<double>(s) * kDt);
  EXPECT_TRUE(qtest::expect_close(obs.times(), times, 1e-14, 1e-14));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), ns, p.n, qtest::flatten(rec.out), kTol, kTol))
      << "series out";
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const std::string key = vars[i].node + "." + vars[i].var;
    const std::int64_t w = vars[i].mean ? 1 : p.n;
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix(key), ns, w, qtest::flatten(rec.vars[i]), kTol, kTol))
        << "series " << key;
  }
  return pop.spikes_total;
}

TEST_P(Parity, RunExcitatoryCouplingManySpikes) {
  const int n = 40;
  const std::int64_t T = 3000;
  std::mt19937 rng(12345);
  ref::QifParams p = random_population(rng, n, 0.0, 20.0);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 20.0, 10.0, 1.3, phase);
  qifsim::Network net = make_net(p);
  const long spikes = compare_run(net, p, inputs, 3, 101,
                                  {{"qif", "v", false}, {"qif", "s", true}, {"qif", "spike", false}});
  EXPECT_GT(spikes, 100) << "the reference run must exercise spikes and resets";
  EXPECT_EQ(net.step_count(), T);
}

TEST_P(Parity, RunMixedSignCouplingPerNeuronParameters) {
  const int n = 32;
  const std::int64_t T = 2500;
  std::mt19937 rng(777);
  ref::QifParams p = random_population(rng, n, -10.0, 20.0);
  p.tau = qtest::uniform(rng, n, 0.8, 1.2);
  p.k = qtest::uniform(rng, n, 0.5, 1.5);
  p.tau_s = qtest::uniform(rng, n, 0.5, 2.0);
  p.v_th = qtest::uniform(rng, n, 80.0, 120.0);
  p.v_reset = qtest::uniform(rng, n, -120.0, -80.0);
  p.s0 = qtest::uniform(rng, n, 0.0, 0.5);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 25.0, 10.0, 2.1, phase);
  qifsim::Network net = make_net(p);
  const long spikes = compare_run(net, p, inputs, 3, 101,
                                  {{"qif", "v", false}, {"qif", "s", false}, {"qif", "spike", true}});
  EXPECT_GT(spikes, 100);
}

TEST_P(Parity, RunAdaptation) {
  const int n = 30;
  const std::int64_t T = 3000;
  std::mt19937 rng(4242);
  ref::QifParams p = random_population(rng, n, 0.0, 15.0);
  p.adaptation = true;
  p.alpha = qtest::uniform(rng, n, 0.5, 1.5);
  p.tau_x = qtest::uniform(rng, n, 3.0, 10.0);
  p.x0 = qtest::uniform(rng, n, 0.0, 1.0);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 25.0, 10.0, 1.0, phase);
  qifsim::Network net = make_net(p);
  const long spikes = compare_run(net, p, inputs, 3, 101,
                                  {{"qif", "v", false}, {"qif", "x", false}, {"qif", "s", true},
                                   {"qif", "spike", true}});
  EXPECT_GT(spikes, 100);

  // Adaptation must matter: without it, the same network spikes more (x >= 0 lowers eta).
  ref::QifParams q = p;
  q.adaptation = false;
  ref::QifPop plain(q);
  for (std::int64_t t = 0; t < T; ++t) plain.step(qtest::row_of(inputs, t), kDt);
  EXPECT_GT(plain.spikes_total, spikes);
}

TEST_P(Parity, OutputVarV) {
  const int n = 10;
  const std::int64_t T = 2000;
  std::mt19937 rng(99);
  ref::QifParams p = random_population(rng, n, 0.0, 10.0);
  p.output_v = true;
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 30.0, 10.0, 1.7, phase);
  qifsim::Network net = make_net(p);
  const long spikes = compare_run(net, p, inputs, 4, 50, {{"qif", "s", false}});
  EXPECT_GT(spikes, 20);
}

TEST_P(Parity, ForwardStepByStep) {
  const int n = 32;
  const std::int64_t T = 2000;
  std::mt19937 rng(2024);
  ref::QifParams p = random_population(rng, n, -5.0, 20.0);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 35.0, 10.0, 1.1, phase);
  qifsim::Network net = make_net(p);
  ASSERT_EQ(net.input_width(), n);
  ASSERT_EQ(net.output_width(), n);
  ref::QifPop pop(p);
  std::vector<double> y2(static_cast<std::size_t>(n));
  for (std::int64_t t = 0; t < T; ++t) {
    const std::vector<double> x = qtest::row_of(inputs, t);
    ASSERT_TRUE(expect_rel(net.next_state("qif", "spike"), pop.spike_delta(kDt), kTol)) << "spike before step " << t;
    const std::vector<double> v_start = pop.v, s_start = pop.s, spike_start = pop.spike_delta(kDt);
    const std::vector<double> y_ref = pop.step(x, kDt);
    std::vector<double> y;
    if (t % 2 == 0) {
      y = net.forward(x);
    } else {
      net.forward(x.data(), y2.data());  // the allocation-free overload
      y = y2;
    }
    ASSERT_TRUE(expect_rel(y, y_ref, kTol)) << "output of step " << t;
    ASSERT_TRUE(expect_rel(net.next_state("qif", "v"), pop.v, kTol)) << "v after step " << t;
    ASSERT_TRUE(expect_rel(net.next_state("qif", "s"), pop.s, kTol)) << "s after step " << t;
    // RectiPy's view after forward: the state at the start of the step just taken.
    ASSERT_TRUE(expect_rel(net.get_var("qif", "v"), v_start, kTol)) << "v at the start of step " << t;
    ASSERT_TRUE(expect_rel(net.get_var("qif", "s"), s_start, kTol)) << "s at the start of step " << t;
    ASSERT_TRUE(expect_rel(net.get_var("qif", "spike"), spike_start, kTol)) << "spike of step " << t;
    ASSERT_TRUE(expect_rel(net.get_var("qif", "s_in"), pop.s_in, kTol)) << "s_in of step " << t;
    ASSERT_TRUE(expect_rel(net.get_var("qif", "I_ext"), pop.I_ext, kTol)) << "I_ext of step " << t;
    ASSERT_EQ(net.step_count(), t + 1);
  }
  EXPECT_GT(pop.spikes_total, 100);
}

TEST_P(Parity, SetGetResetRoundTrips) {
  const int n = 16;
  const std::int64_t T = 1500;
  std::mt19937 rng(31337);
  ref::QifParams p = random_population(rng, n, 0.0, 15.0);
  p.s0 = qtest::uniform(rng, n, 0.0, 0.3);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 20.0, 10.0, 1.5, phase);
  qifsim::Network net = make_net(p);

  // Initial state and parameters read back.
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "v"), p.v0));
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "s"), p.s0));
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "eta"), p.eta));
  EXPECT_EQ(net.step_count(), 0);

  // set_var: per-neuron and scalar values read back exactly.
  const std::vector<double> v_new = qtest::uniform(rng, n, -10.0, 10.0);
  net.set_var("qif", "v", v_new);
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "v"), v_new));
  net.set_var("qif", "s", {0.25});
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "s"), std::vector<double>(n, 0.25)));
  const std::vector<double> eta_new = qtest::uniform(rng, n, -2.0, 2.0);
  net.set_var("qif", "eta", eta_new);
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "eta"), eta_new));

  // A run from the modified state and parameter matches the reference set up the same way.
  {
    ref::QifParams q = p;
    q.eta = eta_new;
    ref::QifPop pop(q);
    pop.v = v_new;
    pop.s.assign(n, 0.25);
    qifsim::RunOptions opt = qtest::quiet_options(5, 0);
    opt.record_vars = {{"qif", "v", false}};
    qifsim::Observer obs = net.run(inputs, opt);
    ref::Recording rec = ref::run_observer(
        T, 5, 0, {{"qif.v", false}},
        [&](std::int64_t t) { return pop.step(qtest::row_of(inputs, t), kDt); },
        [&](std::size_t) { return pop.v; });
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), static_cast<std::int64_t>(rec.out.size()), n,
                                    qtest::flatten(rec.out), kTol, kTol));
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif", "v"), static_cast<std::int64_t>(rec.out.size()), n,
                                    qtest::flatten(rec.vars[0]), kTol, kTol));
    EXPECT_GT(pop.spikes_total, 20);
    EXPECT_EQ(net.step_count(), T);
  }

  // reset(): back to v0, s0 at step 0.
  net.reset();
  EXPECT_EQ(net.step_count(), 0);
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "v"), p.v0));
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "s"), p.s0));

  // reset(state): initial state, then the given variables.
  const std::vector<double> v_state = qtest::uniform(rng, n, -5.0, 5.0);
  net.reset({{"qif", "v", v_state}});
  EXPECT_EQ(net.step_count(), 0);
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "v"), v_state));
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "s"), p.s0));
  net.reset({{"qif", "s", {0.5}}});
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "v"), p.v0));
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "s"), std::vector<double>(n, 0.5)));

  // Stepping after reset(state) follows the reference from that state.
  net.reset({{"qif", "v", v_state}});
  ref::QifParams q = p;
  q.eta = net.get_var("qif", "eta");  // parameters are not state; use what the network holds
  ref::QifPop pop(q);
  pop.v = v_state;
  for (std::int64_t t = 0; t < 300; ++t) {
    const std::vector<double> x = qtest::row_of(inputs, t);
    const std::vector<double> y_ref = pop.step(x, kDt);
    ASSERT_TRUE(expect_rel(net.forward(x), y_ref, kTol)) << "step " << t;
    ASSERT_TRUE(expect_rel(net.next_state("qif", "v"), pop.v, kTol)) << "v after step " << t;
  }
}

TEST_P(Parity, AdaptationStateRoundTrip) {
  const int n = 8;
  std::mt19937 rng(5);
  ref::QifParams p = random_population(rng, n, 0.0, 10.0);
  p.adaptation = true;
  p.x0 = qtest::uniform(rng, n, 0.0, 2.0);
  qifsim::Network net = make_net(p);
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "x"), p.x0));
  const std::vector<double> x_new = qtest::uniform(rng, n, 0.0, 3.0);
  net.set_var("qif", "x", x_new);
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "x"), x_new));
  // One step from the set state matches the reference: x decays, v feels eta - x.
  ref::QifPop pop(p);
  pop.x = x_new;
  const std::vector<double> in(n, 30.0);
  pop.step(in, kDt);
  net.forward(in);
  EXPECT_TRUE(expect_rel(net.next_state("qif", "x"), pop.x, kTol));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "v"), pop.v, kTol));
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "x"), x_new));  // the step's start
  net.reset();
  EXPECT_TRUE(qtest::expect_identical(net.get_var("qif", "x"), p.x0));
}

std::string backend_name(const ::testing::TestParamInfo<qifsim::Backend>& info) {
  return info.param == qifsim::Backend::Cuda ? "Cuda" : "Cpu";
}

INSTANTIATE_TEST_SUITE_P(Backends, Parity,
                         ::testing::Values(qifsim::Backend::Cpu, qifsim::Backend::Cuda), backend_name);

// A small hand-computed case, independent of the reference code: two neurons, two steps.
TEST(ParityHand, TwoNeuronsTwoSteps) {
  // J = [[0, 2], [3, 0]], eta = -5, tau = 1, k = 1, tau_s = 1, dt = 0.1,
  // v0 = (99, 101) (neuron 1 already above threshold 100), s0 = (0.5, 0), I = (1, 2).
  qifsim::Network net(0.1, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  qifsim::QifPopulation p;
  p.n = 2;
  p.weights = qifsim::Matrix(2, 2, std::vector<double>{0.0, 2.0, 3.0, 0.0});
  p.v0 = std::vector<double>{99.0, 101.0};
  p.s0 = std::vector<double>{0.5, 0.0};
  net.add_population("qif", p);
  net.compile();
  // Step 0: spike = (0, 1); s_in = (2*0, 3*0.5) = (0, 1.5)
  //   v0' = 99 + 0.1*(9801 - 5 + 1 + 0)  = 99 + 979.7 = 1078.7
  //   v1' = reset -100
  //   s' = (0.5 - 0.05, 0 + 0 + 1) = (0.45, 1)
  //   output = s at start = (0.5, 0)
  auto y = net.forward({1.0, 2.0});
  EXPECT_TRUE(expect_rel(y, {0.5, 0.0}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "v"), {1078.7, -100.0}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "s"), {0.45, 1.0}, 1e-12));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "s_in"), {0.0, 1.5}, 1e-12));
  // spike reads 1 / dt on a spike step (RectiPy's spike / dt): 1 / 0.1 = 10.
  EXPECT_TRUE(expect_rel(net.next_state("qif", "spike"), {10.0, 0.0}, 0.0));
  // get_var after forward, as RectiPy: the state at the start of step 0.
  EXPECT_TRUE(expect_rel(net.get_var("qif", "v"), {99.0, 101.0}, 0.0));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "s"), {0.5, 0.0}, 0.0));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "spike"), {0.0, 10.0}, 0.0));
  // Step 1: spike = (1, 0); s_in = (2*1, 3*0.45) = (2, 1.35)
  //   v0 -> reset -100
  //   v1' = -100 + 0.1*(10000 - 5 + 2 + 1.35) = -100 + 999.835 = 899.835
  //   s' = (0.45 - 0.045 + 1, 1 - 0.1) = (1.405, 0.9)
  y = net.forward({1.0, 2.0});
  EXPECT_TRUE(expect_rel(y, {0.45, 1.0}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "v"), {-100.0, 899.835}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "s"), {1.405, 0.9}, 1e-12));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "v"), {1078.7, -100.0}, 1e-12));  // start of step 1
  EXPECT_TRUE(expect_rel(net.get_var("qif", "s_in"), {2.0, 1.35}, 1e-12));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "I_ext"), {1.0, 2.0}, 1e-12));
}

TEST(ParityHand, AdaptationOneStep) {
  // One neuron, adaptation, dt = 0.01: v0 = 100 (spikes), x0 = 2, alpha = 0.5, tau_x = 4,
  // eta = -5, I = 10.  spike = 1;
  //   v -> reset -100 (whatever Euler gave);  s = 0 + 0 + 1 = 1;
  //   x = 2 + 0.01*(-2/4) + 0.5 = 2.495.
  // Next step (no spike): v = -100 + 0.01*(10000 + (-5 - 2.495) + 10) = -100 + 100.02505 = 0.02505
  //   x = 2.495 - 0.01*2.495/4 = 2.48876250;  s = 1 - 0.01 = 0.99.
  qifsim::Network net(0.01, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  qifsim::QifPopulation p;
  p.n = 1;
  p.adaptation = true;
  p.v0 = 100.0;
  p.x0 = 2.0;
  p.alpha = 0.5;
  p.tau_x = 4.0;
  net.add_population("qif", p);
  net.compile();
  net.forward({10.0});
  EXPECT_TRUE(expect_rel(net.next_state("qif", "v"), {-100.0}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "s"), {1.0}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "x"), {2.495}, 1e-12));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "x"), {2.0}, 0.0));  // the step's start
  net.forward({10.0});
  EXPECT_TRUE(expect_rel(net.next_state("qif", "v"), {0.02505}, 1e-10));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "x"), {2.4887625}, 1e-12));
  EXPECT_TRUE(expect_rel(net.next_state("qif", "s"), {0.99}, 1e-12));
  EXPECT_TRUE(expect_rel(net.get_var("qif", "x"), {2.495}, 1e-12));
}

}  // namespace
