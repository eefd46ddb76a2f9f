// tests/test_observer.cpp - Observer semantics (spec: "Observer"): which steps are sampled,
// their times, window means of the output, neuron means, manual recording as in the seed
// tutorial, shapes and keys, file output (NPY/CSV read back with independent readers),
// ring-buffer batches, the memory budget, and the loss of test().
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "npy_reader.hpp"
#include "qifsim/qifsim.hpp"
#include "reference_qif.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using qtest::expect_matrix_close;
using qtest::expect_steps;

constexpr double kDt = 1e-3;
constexpr double kTol = 1e-10;

struct Scenario {
  ref::QifParams p;
  qifsim::Matrix inputs;
};

/// A coupled spiking population (a few spikes per neuron and time unit).
Scenario spiking(int n, std::int64_t T, unsigned seed) {
  std::mt19937 rng(seed);
  Scenario sc{ref::QifParams::defaults(n), {}};
  sc.p.J = qtest::uniform(rng, static_cast<std::size_t>(n * n), 0.0, 20.0 / n);
  sc.p.eta = qtest::uniform(rng, n, -7.0, -3.0);
  sc.p.v0 = qtest::uniform(rng, n, -3.0, 3.0);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  sc.inputs = qtest::sine_inputs(T, n, kDt, 40.0, 10.0, 1.3, phase);
  return sc;
}

qifsim::Network build(const ref::QifParams& p) {
  qifsim::Network net(kDt, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  net.add_population("qif", qtest::to_population(p));
  net.compile();
  return net;
}

/// The reference recording of a scenario (optionally with targets for the loss).
ref::Recording reference(const Scenario& sc, std::int64_t sampling, std::int64_t cutoff,
                         const std::vector<qifsim::RecordVar>& vars,
                         const qifsim::Matrix* targets = nullptr, const std::string& loss = "mse",
                         long* spikes = nullptr) {
  ref::QifPop pop(sc.p);
  std::vector<ref::VarReq> reqs;
  for (const auto& v : vars) reqs.push_back({v.node + "." + v.var, v.mean});
  std::function<std::vector<double>(std::int64_t)> tg;
  if (targets) tg = [targets](std::int64_t t) { return qtest::row_of(*targets, t); };
  ref::Recording rec = ref::run_observer(
      sc.inputs.rows, sampling, cutoff, reqs,
      [&](std::int64_t t) { return pop.step(qtest::row_of(sc.inputs, t), kDt); },
      [&](std::size_t i) { return pop.var(vars[i].var, kDt); }, tg, loss);
  if (spikes) *spikes = pop.spikes_total;
  return rec;
}

std::int64_t nrows(const ref::Recording& r) { return static_cast<std::int64_t>(r.steps.size()); }

/// A fresh temporary directory for one test, removed by the destructor.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::temp_directory_path() /
           ("qifsim_test_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// ---------------------------------------------------------------------------------------
// Sample steps and times

struct SamplingCase {
  std::int64_t T, sampling, cutoff, expected_count, first, last;
};

class ObserverSampling : public ::testing::TestWithParam<SamplingCase> {};

TEST_P(ObserverSampling, StepsTimesAndCount) {
  const SamplingCase c = GetParam();
  // Hand-derived counts and ends agree with the rule t >= cutoff && t % sampling == 0.
  const std::vector<std::int64_t> rule = ref::sample_steps(c.T, c.sampling, c.cutoff);
  ASSERT_EQ(static_cast<std::int64_t>(rule.size()), c.expected_count) << "test case inconsistent";
  ASSERT_EQ(rule.front(), c.first);
  ASSERT_EQ(rule.back(), c.last);

  ref::QifParams p = ref::QifParams::defaults(2);  // uncoupled, cheap
  qifsim::Network net = build(p);
  qifsim::RunOptions opt = qtest::quiet_options(c.sampling, c.cutoff);
  opt.record_vars = {{"qif", "v", true}};
  const qifsim::Observer obs = net.run(qifsim::Matrix(c.T, 2, 1.0), opt);
  EXPECT_EQ(obs.samples(), c.expected_count);
  EXPECT_TRUE(expect_steps(obs.steps(), rule));
  std::vector<double> times;
  for (std::int64_t s : rule) times.push_back(static_cast<double>(s) * kDt);
  EXPECT_TRUE(qtest::expect_close(obs.times(), times, 1e-14, 0.0));
  EXPECT_EQ(obs.to_matrix("out").rows, c.expected_count);
  EXPECT_EQ(obs.to_matrix("qif.v").rows, c.expected_count);
  EXPECT_DOUBLE_EQ(obs.dt(), kDt);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ObserverSampling,
    ::testing::Values(SamplingCase{10000, 2, 0, 5000, 0, 9998},    // the seed's obs2
                      SamplingCase{10000, 1, 0, 10000, 0, 9999},   // every step
                      SamplingCase{10000, 7, 1000, 1286, 1001, 9996},  // 1428 - 142 multiples of 7
                      SamplingCase{1000, 3, 101, 300, 102, 999},   // cutoff not a multiple
                      SamplingCase{1000, 1000, 0, 1, 0, 0},        // a single sample
                      SamplingCase{1000, 4, 995, 1, 996, 996}));      // one sample after a late cutoff

// ---------------------------------------------------------------------------------------
// Window means: closed form for a decaying synapse

TEST(ObserverWindow, ClosedFormGeometricDecay) {
  // No spikes (eta = -5, I = 0: v falls from -2 toward -sqrt(5)), so s_i(t) = s0_i q_i^t with
  // q_i = 1 - dt/tau_s_i exactly in real arithmetic. The window [a, b] mean of s_i is
  //   s0_i (q^a - q^(b+1)) / ((1 - q)(b - a + 1)).
  const int n = 3;
  const std::int64_t T = 3000, S = 7, C = 10;
  const std::vector<double> s0{1.0, 2.0, 0.5}, tau_s{0.5, 1.0, 2.0};
  qifsim::QifPopulation p;
  p.n = n;
  p.s0 = s0;
  p.tau_s = tau_s;
  qifsim::Network net(kDt, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  net.add_population("qif", p);
  net.compile();
  qifsim::RunOptions opt = qtest::quiet_options(S, C);
  opt.record_vars = {{"qif", "s", false}, {"qif", "spike", true}};
  const qifsim::Observer obs = net.run(qifsim::Matrix(T, n, 0.0), opt);

  std::vector<double> out_exp, s_exp;
  std::vector<std::int64_t> steps_exp;
  std::int64_t a = C;
  for (std::int64_t t = C; t < T; ++t) {
    if (t % S != 0) continue;
    steps_exp.push_back(t);
    for (int i = 0; i < n; ++i) {
      const double q = 1.0 - kDt / tau_s[i];
      out_exp.push_back(s0[i] * (std::pow(q, a) - std::pow(q, t + 1)) /
                        ((1.0 - q) * static_cast<double>(t - a + 1)));
      s_exp.push_back(s0[i] * std::pow(q, t));
    }
    a = t + 1;
  }
  // First window is [10, 14]: 5 steps, not 7.
  ASSERT_EQ(steps_exp.front(), 14);
  const auto ns = static_cast<std::int64_t>(steps_exp.size());
  EXPECT_TRUE(expect_steps(obs.steps(), steps_exp));
  // Rounding: ~3000 multiply-adds per value, each <= 1 ulp: relative error < 1e-12.
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), ns, n, out_exp, 1e-11, 0.0));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.s"), ns, n, s_exp, 1e-11, 0.0));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.spike"), ns, 1, std::vector<double>(ns, 0.0), 0.0, 0.0));
}

TEST(ObserverWindow, SpikingWindowsMatchReference) {
  const Scenario sc = spiking(12, 1500, 11);
  for (const auto& sc_case : {std::pair<std::int64_t, std::int64_t>{5, 3},   // first window [3, 5]
                              std::pair<std::int64_t, std::int64_t>{4, 0},   // first window {0}
                              std::pair<std::int64_t, std::int64_t>{1, 17}}) {  // every step
    const std::int64_t S = sc_case.first, C = sc_case.second;
    qifsim::Network net = build(sc.p);
    qifsim::RunOptions opt = qtest::quiet_options(S, C);
    opt.record_vars = {{"qif", "s", true}};
    const qifsim::Observer obs = net.run(sc.inputs, opt);
    long spikes = 0;
    const ref::Recording rec = reference(sc, S, C, opt.record_vars, nullptr, "mse", &spikes);
    EXPECT_GT(spikes, 20);
    EXPECT_TRUE(expect_steps(obs.steps(), rec.steps)) << "S=" << S << " C=" << C;
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), nrows(rec), 12, qtest::flatten(rec.out), kTol, kTol))
        << "S=" << S << " C=" << C;
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.s"), nrows(rec), 1, qtest::flatten(rec.vars[0]), kTol, kTol))
        << "S=" << S << " C=" << C;
  }
}

// ---------------------------------------------------------------------------------------
// Neuron means

TEST(ObserverMeans, MeanVariableIsTheAverageOverNeurons) {
  const int n = 20;
  const Scenario sc = spiking(n, 2000, 21);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(4, 9);
  opt.record_vars = {{"qif", "v", false}, {"qif", "s", true}, {"qif", "spike", true}};
  const qifsim::Observer obs = net.run(sc.inputs, opt);
  long spikes = 0;
  const ref::Recording rec = reference(sc, 4, 9, opt.record_vars, nullptr, "mse", &spikes);
  EXPECT_GT(spikes, 50);
  ASSERT_EQ(obs.width("qif.s"), 1);
  ASSERT_EQ(obs.width("qif.spike"), 1);
  ASSERT_EQ(obs.width("qif.v"), n);
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.v"), nrows(rec), n, qtest::flatten(rec.vars[0]), kTol, kTol));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.s"), nrows(rec), 1, qtest::flatten(rec.vars[1]), kTol, kTol));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.spike"), nrows(rec), 1, qtest::flatten(rec.vars[2]), kTol, kTol));
  // The fraction of neurons above threshold is k/20 for an integer k: exact.
  const qifsim::Matrix spk = obs.to_matrix("qif.spike");
  double nonzero = 0.0;
  for (double z : spk.data) {
    EXPECT_NEAR(z * n, std::round(z * n), 1e-12);
    nonzero += z > 0 ? 1 : 0;
  }
  EXPECT_GT(nonzero, 0.0) << "some sample should see a neuron above threshold";
}

TEST(ObserverMeans, MeanAndPerNeuronOfTheSameRunAgree) {
  // Per-neuron s and the mean of v in one run; a second run of an identical network records
  // mean s and per-neuron v: the means must equal the averages of the per-neuron rows.
  const int n = 15;
  const Scenario sc = spiking(n, 1200, 5);
  qifsim::Network net1 = build(sc.p);
  qifsim::Network net2 = build(sc.p);
  qifsim::RunOptions o1 = qtest::quiet_options(3, 0), o2 = qtest::quiet_options(3, 0);
  o1.record_vars = {{"qif", "s", false}, {"qif", "v", true}};
  o2.record_vars = {{"qif", "s", true}, {"qif", "v", false}};
  const qifsim::Observer a = net1.run(sc.inputs, o1);
  const qifsim::Observer b = net2.run(sc.inputs, o2);
  const qifsim::Matrix s_all = a.to_matrix("qif.s"), v_mean = a.to_matrix("qif.v");
  const qifsim::Matrix s_mean = b.to_matrix("qif.s"), v_all = b.to_matrix("qif.v");
  ASSERT_EQ(s_all.rows, s_mean.rows);
  std::vector<double> s_avg, v_avg;
  for (std::int64_t r = 0; r < s_all.rows; ++r) {
    double ss = 0.0, vv = 0.0;
    for (int i = 0; i < n; ++i) {
      ss += s_all(r, i);
      vv += v_all(r, i);
    }
    s_avg.push_back(ss / n);
    v_avg.push_back(vv / n);
  }
  EXPECT_TRUE(qtest::expect_close(s_mean.data, s_avg, 1e-12, 1e-12));
  EXPECT_TRUE(qtest::expect_close(v_mean.data, v_avg, 1e-12, 1e-12));
}

// ---------------------------------------------------------------------------------------
// Manual recording (the seed tutorial)

TEST(ObserverManual, SeedLoopStoresWhatItIsGiven) {
  // N = 5, J = rand * 20, constant input 15, forward + record in a custom loop.
  const int n = 5;
  const std::int64_t T = 3000;
  std::mt19937 rng(1);
  ref::QifParams p = ref::QifParams::defaults(n);
  p.J = qtest::uniform(rng, n * n, 0.0, 20.0);
  qifsim::Network net = build(p);
  qifsim::Observer obs(net.dt(), /*record_output=*/true, /*record_loss=*/false, {{"qif", "v", false}});
  qifsim::Observer obs_mean(net.dt(), true, false, {{"qif", "v", true}});
  ref::QifPop pop(p);
  const std::vector<double> x(n, 15.0);
  std::vector<double> out_given, v_given, v_mean_given;
  std::vector<std::int64_t> steps;
  for (std::int64_t step = 0; step < T; ++step) {
    const std::vector<double> v_start = pop.v;  // the reference's state at the step's start
    const std::vector<double> y = net.forward(x);
    const std::vector<double> v = net.get_var("qif", "v");  // as RectiPy: v at the step's start
    obs.record(step, y, 0.0, {v});
    obs_mean.record(step, y, 0.0, {v});  // N values for a mean variable: averaged by record()
    out_given.insert(out_given.end(), y.begin(), y.end());
    v_given.insert(v_given.end(), v.begin(), v.end());
    double m = 0.0;
    for (double z : v) m += z;
    v_mean_given.push_back(m / n);
    steps.push_back(step);
    // The engine follows the spec while we are at it.
    const std::vector<double> y_ref = pop.step(x, kDt);
    ASSERT_TRUE(qtest::expect_rel(y, y_ref, kTol)) << "step " << step;
    ASSERT_TRUE(qtest::expect_rel(v, v_start, kTol)) << "step " << step;
    ASSERT_TRUE(qtest::expect_rel(net.next_state("qif", "v"), pop.v, kTol)) << "step " << step;
  }
  EXPECT_GT(pop.spikes_total, 50);
  EXPECT_EQ(obs.samples(), T);
  EXPECT_TRUE(expect_steps(obs.steps(), steps));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), T, n, out_given, 0.0, 0.0));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif", "v"), T, n, v_given, 0.0, 0.0));
  EXPECT_TRUE(expect_matrix_close(obs_mean.to_matrix("qif.v"), T, 1, v_mean_given, 1e-14, 1e-14));
  EXPECT_EQ(obs_mean.width("qif.v"), 1);
  const std::vector<std::string> rsv = obs.recorded_state_variables();
  ASSERT_EQ(rsv.size(), 1u);
  EXPECT_EQ(rsv[0], "qif.v");

  // The seed's second part: net.run(inp, record_vars=...) after a reset records exactly
  // what the loop recorded, bit for bit: the output and v of each sample are at the
  // sampled step's start in both.
  net.reset();
  qifsim::RunOptions opt = qtest::quiet_options();
  opt.record_vars = {{"qif", "v", false}};
  const qifsim::Observer run_obs = net.run(qifsim::Matrix(T, n, 15.0), opt);
  EXPECT_TRUE(expect_steps(run_obs.steps(), steps));
  EXPECT_TRUE(expect_matrix_close(run_obs.to_matrix("out"), T, n, out_given, 0.0, 0.0));
  EXPECT_TRUE(expect_matrix_close(run_obs.to_matrix("qif.v"), T, n, v_given, 0.0, 0.0));
  net.reset();
  opt.record_vars = {{"qif", "v", true}};
  const qifsim::Observer run_mean = net.run(qifsim::Matrix(T, n, 15.0), opt);
  EXPECT_TRUE(expect_matrix_close(run_mean.to_matrix("qif.v"), T, 1, v_mean_given, 1e-14, 1e-14));
  // After run(), get_var shows the state the next step starts from.
  EXPECT_EQ(net.get_var("qif", "v"), net.next_state("qif", "v"));
}

TEST(ObserverManual, GetVarAfterForwardShowsTheStepStartAndSetVarActsOnTheNextStep) {
  // Two uncoupled neurons, v0 = -2, eta = -5, I = 15, dt = 1e-3: while no neuron spikes,
  // v(t+1) = v(t) + dt (v(t)^2 + 10), so v(1) = -1.986, v(2) = -1.972055804 (RectiPy 0.12.2
  // prints -2, -1.986, -1.972056, -1.958167 for get_var after the first four forward calls
  // of the tutorial's network, whose s is 0 until the first spike).
  ref::QifParams p = ref::QifParams::defaults(2);
  qifsim::Network net = build(p);
  const std::vector<double> x(2, 15.0);
  EXPECT_EQ(net.get_var("qif", "v"), (std::vector<double>{-2.0, -2.0}));  // before any forward
  std::vector<double> seen;
  double v = -2.0;
  for (int t = 0; t < 4; ++t) {
    net.forward(x);
    seen.push_back(net.get_var("qif", "v")[0]);
    EXPECT_EQ(net.get_var("qif", "v")[0], v) << "step " << t;  // v(t), bit for bit
    v = v + kDt * (v * v + (-5.0 + 15.0));
    EXPECT_EQ(net.next_state("qif", "v")[0], v) << "step " << t;  // v(t + 1)
  }
  const std::vector<double> rectipy = {-2.0, -1.986, -1.972056, -1.958167};
  for (std::size_t t = 0; t < 4; ++t) EXPECT_NEAR(seen[t], rectipy[t], 5e-7) << "step " << t;
  // set_var between forward calls: the next step starts from the new value, and get_var
  // shows it until the next forward.
  net.set_var("qif", "v", {1.5});
  EXPECT_EQ(net.get_var("qif", "v"), (std::vector<double>{1.5, 1.5}));
  net.forward(x);
  EXPECT_EQ(net.get_var("qif", "v")[1], 1.5);
  EXPECT_EQ(net.next_state("qif", "v")[1], 1.5 + kDt * (1.5 * 1.5 + 10.0));
  // A parameter set between forward calls leaves the view of the state as it was.
  net.set_var("qif", "eta", {-4.0});
  EXPECT_EQ(net.get_var("qif", "v")[1], 1.5);
  net.reset();
  EXPECT_EQ(net.get_var("qif", "v"), (std::vector<double>{-2.0, -2.0}));
}

TEST(ObserverManual, WidthsFixedByTheFirstSample) {
  qifsim::Observer obs(kDt, true, false, {{"qif", "v", false}});
  obs.record(0, {1.0, 2.0}, 0.0, {{1.0, 2.0, 3.0}});
  EXPECT_THROW(obs.record(1, {1.0, 2.0, 3.0}, 0.0, {{1.0, 2.0, 3.0}}), qifsim::InvalidArgument);
  EXPECT_THROW(obs.record(1, {1.0, 2.0}, 0.0, {{1.0, 2.0}}), qifsim::InvalidArgument);
  EXPECT_THROW(obs.record(1, {1.0, 2.0}, 0.0, {}), qifsim::InvalidArgument);  // one vector per var
  obs.record(1, {3.0, 4.0}, 0.0, {{4.0, 5.0, 6.0}});
  EXPECT_EQ(obs.samples(), 2);
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), 2, 2, {1, 2, 3, 4}, 0.0, 0.0));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.v"), 2, 3, {1, 2, 3, 4, 5, 6}, 0.0, 0.0));
}

TEST(ObserverManual, OutputAndLossSwitches) {
  qifsim::Observer obs(0.5, /*record_output=*/false, /*record_loss=*/true, {{"pop", "s", true}});
  obs.record(3, {7.0, 8.0}, 0.25, {{1.0, 2.0, 6.0}});
  obs.record(5, {9.0, 1.0}, 0.75, {{0.0, 0.0, 3.0}});
  EXPECT_FALSE(obs.has("out"));
  EXPECT_TRUE(obs.has("loss"));
  EXPECT_TRUE(obs.has("pop.s"));
  EXPECT_FALSE(obs.has("pop.v"));
  EXPECT_EQ(obs.keys(), (std::vector<std::string>{"loss", "pop.s"}));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("loss"), 2, 1, {0.25, 0.75}, 0.0, 0.0));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("pop.s"), 2, 1, {3.0, 1.0}, 1e-15, 0.0));
  EXPECT_TRUE(qtest::expect_close(obs.times(), {1.5, 2.5}, 0.0, 0.0));
  EXPECT_TRUE(expect_steps(obs.steps(), {3, 5}));
  EXPECT_THROW(obs.to_matrix("out"), qifsim::Error);
}

// ---------------------------------------------------------------------------------------
// Shapes and keys

TEST(ObserverShapes, KeysWidthsAndMatrices) {
  const int n = 6;
  const Scenario sc = spiking(n, 400, 3);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(4, 0);
  opt.record_vars = {{"qif", "v", false}, {"qif", "s", true}, {"qif", "spike", false}};
  const qifsim::Observer obs = net.run(sc.inputs, opt);
  EXPECT_EQ(obs.keys(), (std::vector<std::string>{"out", "qif.v", "qif.s", "qif.spike"}));
  EXPECT_EQ(obs.recorded_state_variables(), (std::vector<std::string>{"qif.v", "qif.s", "qif.spike"}));
  EXPECT_TRUE(obs.has("out"));
  EXPECT_FALSE(obs.has("loss"));
  EXPECT_FALSE(obs.has("qif.x"));
  EXPECT_EQ(obs.samples(), 100);
  EXPECT_EQ(obs.width("out"), n);
  EXPECT_EQ(obs.width("qif.v"), n);
  EXPECT_EQ(obs.width("qif.s"), 1);
  EXPECT_EQ(obs.width("qif.spike"), n);
  for (const std::string& k : obs.keys()) {
    const qifsim::Matrix m = obs.to_matrix(k);
    EXPECT_EQ(m.rows, 100) << k;
    EXPECT_EQ(m.cols, obs.width(k)) << k;
    EXPECT_EQ(static_cast<std::int64_t>(m.data.size()), m.rows * m.cols) << k;
  }
  EXPECT_TRUE(qtest::expect_identical(obs.to_matrix("qif", "v").data, obs.to_matrix("qif.v").data));
  EXPECT_THROW(obs.to_matrix("qif.nope"), qifsim::Error);
  EXPECT_THROW(obs.to_matrix("nope", "v"), qifsim::Error);
  // Bytes per sample: values (out n + v n + s 1 + spike n) and the step index, 8 bytes each.
  EXPECT_EQ(obs.bytes_per_sample(), static_cast<std::size_t>((3 * n + 1) * 8 + 8));
  EXPECT_GE(obs.bytes_held(), static_cast<std::size_t>(100) * obs.bytes_per_sample());

  // test() with record_loss adds "loss" after "out".
  net.reset();
  qifsim::RunOptions ol = opt;
  ol.record_loss = true;
  const qifsim::TestResult tr = net.test(sc.inputs, qifsim::Matrix(400, n, 0.0), "mse", ol);
  EXPECT_EQ(tr.observer.keys(), (std::vector<std::string>{"out", "loss", "qif.v", "qif.s", "qif.spike"}));
  EXPECT_EQ(tr.observer.width("loss"), 1);
}

// ---------------------------------------------------------------------------------------
// Files

TEST(ObserverFiles, WriteNpyReadBack) {
  TempDir tmp;
  const int n = 7;
  const Scenario sc = spiking(n, 600, 8);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(2, 1);
  opt.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
  const qifsim::Observer obs = net.run(sc.inputs, opt);
  ASSERT_EQ(obs.samples(), 299);
  for (const std::string key : {"out", "qif.v", "qif.s"}) {
    const std::string path = (tmp.path / (key + ".npy")).string();
    obs.write_npy(key, path);
    const qtest::NpyArray a = qtest::read_npy(path);
    EXPECT_EQ(a.descr, "<f8") << key;
    EXPECT_FALSE(a.fortran_order) << key;
    EXPECT_EQ(a.data_offset % 16, 0u) << key << ": header not padded for alignment";
    ASSERT_EQ(a.shape.size(), 2u) << key << " header: " << a.header;
    EXPECT_EQ(a.shape[0], obs.samples()) << key;
    EXPECT_EQ(a.shape[1], obs.width(key)) << key;
    EXPECT_TRUE(qtest::expect_identical(a.f8, obs.to_matrix(key).data)) << key;
  }
  // Independently of to_matrix: the file's "qif.s" equals the reference mean s.
  const ref::Recording rec = reference(sc, 2, 1, opt.record_vars);
  const qtest::NpyArray s = qtest::read_npy((tmp.path / "qif.s.npy").string());
  EXPECT_TRUE(qtest::expect_rel(s.f8, qtest::flatten(rec.vars[1]), kTol));
  EXPECT_THROW(obs.write_npy("out", (tmp.path / "no_such_dir" / "x.npy").string()), qifsim::IoError);
}

TEST(ObserverFiles, WriteCsvReadBack) {
  TempDir tmp;
  const int n = 4;
  const Scenario sc = spiking(n, 500, 9);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(5, 7);
  opt.record_vars = {{"qif", "v", false}};
  const qifsim::Observer obs = net.run(sc.inputs, opt);
  for (const std::string key : {"out", "qif.v"}) {
    const std::string path = (tmp.path / (key + ".csv")).string();
    obs.write_csv(key, path);
    const auto rows = qtest::read_csv(path);
    ASSERT_EQ(static_cast<std::int64_t>(rows.size()), obs.samples() + 1) << key;
    const auto& h = rows[0];
    ASSERT_EQ(static_cast<std::int64_t>(h.size()), 2 + obs.width(key)) << key;
    EXPECT_EQ(h[0], "step");
    EXPECT_EQ(h[1], "time");
    for (std::size_t c = 2; c < h.size(); ++c)
      EXPECT_NE(h[c].find(key), std::string::npos) << "column " << c << " header '" << h[c] << "'";
    const qifsim::Matrix m = obs.to_matrix(key);
    std::vector<double> vals, times_csv, times_exp;
    for (std::int64_t r = 0; r < obs.samples(); ++r) {
      const auto& f = rows[static_cast<std::size_t>(r + 1)];
      ASSERT_EQ(static_cast<std::int64_t>(f.size()), 2 + obs.width(key)) << key << " row " << r;
      EXPECT_EQ(std::stoll(f[0]), obs.steps()[static_cast<std::size_t>(r)]) << key << " row " << r;
      times_csv.push_back(std::stod(f[1]));
      times_exp.push_back(static_cast<double>(obs.steps()[static_cast<std::size_t>(r)]) * kDt);
      for (std::size_t c = 2; c < f.size(); ++c) vals.push_back(std::stod(f[c]));
    }
    // A float64 CSV must keep the values (17 significant digits round-trip exactly; allow
    // 1e-12 for writers that print 15-16).
    EXPECT_TRUE(qtest::expect_close(times_csv, times_exp, 1e-12, 1e-15)) << key;
    EXPECT_TRUE(qtest::expect_close(vals, m.data, 1e-12, 1e-300)) << key;
  }
}

TEST(ObserverFiles, SaveWritesEverySeriesWithStepsAndTime) {
  TempDir tmp;
  const int n = 5;
  const Scenario sc = spiking(n, 300, 10);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(3, 2);
  opt.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
  const qifsim::Observer obs = net.run(sc.inputs, opt);
  const fs::path dir = tmp.path / "nested" / "out";  // created if missing
  const std::vector<std::string> written = obs.save(dir.string());
  for (const std::string f : {"out.npy", "qif.v.npy", "qif.s.npy", "steps.npy", "time.npy"}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
    bool listed = false;
    for (const auto& w : written) listed = listed || fs::path(w).filename() == f;
    EXPECT_TRUE(listed) << f << " not in the returned paths";
  }
  for (const std::string key : {"out", "qif.v", "qif.s"}) {
    const qtest::NpyArray a = qtest::read_npy((dir / (key + ".npy")).string());
    ASSERT_EQ(a.descr, "<f8");
    ASSERT_EQ(a.shape.size(), 2u);
    EXPECT_EQ(a.shape[0], obs.samples());
    EXPECT_EQ(a.shape[1], obs.width(key));
    EXPECT_TRUE(qtest::expect_identical(a.f8, obs.to_matrix(key).data)) << key;
  }
  const std::vector<std::int64_t> rule = ref::sample_steps(300, 3, 2);
  const qtest::NpyArray st = qtest::read_npy((dir / "steps.npy").string());
  ASSERT_TRUE(st.shape.size() == 1 || (st.shape.size() == 2 && st.shape[1] == 1)) << st.header;
  EXPECT_EQ(st.shape[0], static_cast<std::int64_t>(rule.size()));
  if (st.descr == "<i8") {
    EXPECT_TRUE(expect_steps(st.i8, rule));
  } else {
    std::vector<double> r(rule.begin(), rule.end());
    EXPECT_TRUE(qtest::expect_identical(st.f8, r));
  }
  const qtest::NpyArray tm = qtest::read_npy((dir / "time.npy").string());
  ASSERT_EQ(tm.descr, "<f8");
  std::vector<double> texp;
  for (std::int64_t s : rule) texp.push_back(static_cast<double>(s) * kDt);
  EXPECT_TRUE(qtest::expect_close(tm.f8, texp, 1e-14, 0.0));

  const fs::path dir2 = tmp.path / "csv";
  obs.save(dir2.string(), {"csv"});
  for (const std::string f : {"out.csv", "qif.v.csv", "qif.s.csv"}) EXPECT_TRUE(fs::exists(dir2 / f)) << f;
  EXPECT_THROW(obs.save((tmp.path / "bad").string(), {"xlsx"}), qifsim::Error);
}

// ---------------------------------------------------------------------------------------
// Ring-buffer batches

TEST(ObserverBatches, SmallRingBufferGivesIdenticalResults) {
  const int n = 10;
  const Scenario sc = spiking(n, 1000, 12);
  std::vector<qifsim::Observer> results;
  for (std::int64_t batch : {0, 7, 1, 1000}) {
    qifsim::Network net = build(sc.p);
    qifsim::RunOptions opt = qtest::quiet_options(10, 0);  // 100 samples: 0, 10, ..., 990
    opt.batch_samples = batch;
    opt.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
    results.push_back(net.run(sc.inputs, opt));
  }
  const ref::Recording rec = reference(sc, 10, 0, {{"qif", "v", false}, {"qif", "s", true}});
  ASSERT_EQ(rec.steps.size(), 100u);
  for (std::size_t k = 0; k < results.size(); ++k) {
    const qifsim::Observer& o = results[k];
    EXPECT_TRUE(expect_steps(o.steps(), rec.steps)) << "run " << k;
    for (const std::string key : {"out", "qif.v", "qif.s"})
      EXPECT_TRUE(qtest::expect_identical(o.to_matrix(key).data, results[0].to_matrix(key).data))
          << "run " << k << " key " << key;
  }
  EXPECT_TRUE(expect_matrix_close(results[1].to_matrix("out"), 100, n, qtest::flatten(rec.out), kTol, kTol));
  EXPECT_TRUE(expect_matrix_close(results[1].to_matrix("qif.v"), 100, n, qtest::flatten(rec.vars[0]), kTol, kTol));
}

// ---------------------------------------------------------------------------------------
// Memory budget

TEST(ObserverMemory, RunRefusesATooSmallBudget) {
  const Scenario sc = spiking(8, 500, 13);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(5, 0);  // 100 samples
  opt.record_vars = {{"qif", "v", false}};
  opt.memory_budget = 64;  // not even one sample of 8 + 8 values and a step index
  try {
    net.run(sc.inputs, opt);
    ADD_FAILURE() << "run() accepted a 64-byte budget for 100 samples";
  } catch (const qifsim::MemoryBudgetError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
  }
  // An ample explicit budget works.
  opt.memory_budget = std::size_t{64} << 20;
  net.reset();
  const qifsim::Observer obs = net.run(sc.inputs, opt);
  EXPECT_EQ(obs.samples(), 100);
}

TEST(ObserverMemory, RunIntoObserverRefusesAndKeepsItsSamples) {
  const int n = 8;
  const Scenario sc = spiking(n, 500, 14);
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(5, 0);
  qifsim::Observer obs(kDt, true, false, {{"qif", "v", false}, {"qif", "s", true}});
  net.run(sc.inputs, opt, obs);
  ASSERT_EQ(obs.samples(), 100);
  // What it holds agrees with the reference.
  const ref::Recording rec = reference(sc, 5, 0, {{"qif", "v", false}, {"qif", "s", true}});
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), 100, n, qtest::flatten(rec.out), kTol, kTol));
  EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.v"), 100, n, qtest::flatten(rec.vars[0]), kTol, kTol));
  const std::vector<std::int64_t> steps_before = obs.steps();
  const std::vector<double> out_before = obs.to_matrix("out").data;
  const std::vector<double> v_before = obs.to_matrix("qif.v").data;
  const std::vector<double> s_before = obs.to_matrix("qif.s").data;

  obs.set_memory_budget(obs.bytes_held());  // no room for one more sample
  EXPECT_THROW(net.run(sc.inputs, opt, obs), qifsim::MemoryBudgetError);
  EXPECT_EQ(obs.samples(), 100);
  EXPECT_TRUE(expect_steps(obs.steps(), steps_before));
  EXPECT_TRUE(qtest::expect_identical(obs.to_matrix("out").data, out_before));
  EXPECT_TRUE(qtest::expect_identical(obs.to_matrix("qif.v").data, v_before));
  EXPECT_TRUE(qtest::expect_identical(obs.to_matrix("qif.s").data, s_before));

  // With room, a second run appends and leaves the first samples as they were.
  obs.set_memory_budget(std::size_t{64} << 20);
  net.run(sc.inputs, opt, obs);
  EXPECT_EQ(obs.samples(), 200);
  const qifsim::Matrix out = obs.to_matrix("out");
  const std::vector<double> head(out.data.begin(), out.data.begin() + 100 * n);
  EXPECT_TRUE(qtest::expect_identical(head, out_before));
}

// ---------------------------------------------------------------------------------------
// Loss in test mode

class ObserverLoss : public ::testing::TestWithParam<std::string> {};

TEST_P(ObserverLoss, WindowMeanOfPerStepLossAndMeanLoss) {
  const std::string loss = GetParam();
  const int n = 9;
  const std::int64_t T = 1500;
  const Scenario sc = spiking(n, T, 15);
  std::mt19937 rng(16);
  const qifsim::Matrix targets(T, n, qtest::uniform(rng, static_cast<std::size_t>(T * n), 0.0, 2.0));
  qifsim::Network net = build(sc.p);
  qifsim::RunOptions opt = qtest::quiet_options(6, 50);
  opt.record_loss = true;
  const qifsim::TestResult tr = net.test(sc.inputs, targets, loss, opt);
  long spikes = 0;
  const ref::Recording rec = reference(sc, 6, 50, {}, &targets, loss, &spikes);
  EXPECT_GT(spikes, 20);
  ASSERT_TRUE(tr.observer.has("loss"));
  EXPECT_TRUE(expect_steps(tr.observer.steps(), rec.steps));
  EXPECT_TRUE(expect_matrix_close(tr.observer.to_matrix("loss"), nrows(rec), 1, rec.loss, kTol, kTol));
  EXPECT_TRUE(expect_matrix_close(tr.observer.to_matrix("out"), nrows(rec), n, qtest::flatten(rec.out), kTol, kTol));
  EXPECT_TRUE(qtest::expect_rel({tr.loss}, {rec.mean_loss}, kTol));
  // The loss is not trivially zero.
  EXPECT_GT(rec.mean_loss, 0.1);

  // Without record_loss the mean loss is still returned, and "loss" is not recorded.
  net.reset();
  qifsim::RunOptions o2 = qtest::quiet_options(6, 50);
  const qifsim::TestResult tr2 = net.test(sc.inputs, targets, loss, o2);
  EXPECT_FALSE(tr2.observer.has("loss"));
  EXPECT_TRUE(qtest::expect_rel({tr2.loss}, {rec.mean_loss}, kTol));
}

INSTANTIATE_TEST_SUITE_P(Losses, ObserverLoss, ::testing::Values("mse", "l1"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
