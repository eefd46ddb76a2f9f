// tests/test_reliability.cpp - bad input, divergence, stopping and resuming, checkpoints
// and determinism. Every expected value here comes from an uninterrupted run of the same
// network (the CPU backend itself is checked against the reference elsewhere) or from the
// error contract: the message names what is wrong and where.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "qifsim/qifsim.hpp"
#include "run_gate.hpp"
#include "test_util.hpp"

namespace {

using qifsim::Matrix;
using qifsim::Precision;

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

qifsim::QifPopulation random_population(std::int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 20.0 / static_cast<double>(n));
  std::uniform_real_distribution<double> e(-6.0, -2.0);
  qifsim::QifPopulation p;
  p.n = n;
  Matrix J(n, n);
  for (double& w : J.data) w = u(rng);
  p.weights = J;
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (double& x : eta) x = e(rng);
  p.eta = eta;
  return p;
}

qifsim::Network make_net(Precision precision = Precision::Float64, bool adaptation = false) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, precision);
  qifsim::QifPopulation p = random_population(24, 11);
  p.adaptation = adaptation;
  net.add_population("qif", p);
  net.compile();
  return net;
}

Matrix drive(std::int64_t steps, std::int64_t n) {
  Matrix x(steps, n);
  for (std::int64_t t = 0; t < steps; ++t) {
    for (std::int64_t i = 0; i < n; ++i) x(t, i) = 20.0 + 8.0 * std::sin(0.004 * static_cast<double>(t) + static_cast<double>(i));
  }
  return x;
}

qifsim::RunOptions options() {
  qifsim::RunOptions o;
  o.sampling_steps = 3;
  o.cutoff = 101;
  o.record_vars = {{"qif", "v", false}, {"qif", "s", true}, {"qif", "spike", true}};
  o.progress = qifsim::Progress::Off;
  return o;
}

::testing::AssertionResult identical(const qifsim::Observer& a, const qifsim::Observer& b) {
  if (a.steps() != b.steps()) return ::testing::AssertionFailure() << "sample steps differ";
  for (const auto& key : a.keys()) {
    const Matrix x = a.to_matrix(key), y = b.to_matrix(key);
    if (x.rows != y.rows || x.cols != y.cols) return ::testing::AssertionFailure() << key << ": shapes differ";
    for (std::size_t i = 0; i < x.data.size(); ++i) {
      if (x.data[i] != y.data[i]) {  // bit for bit
        return ::testing::AssertionFailure() << key << " flat index " << i << ": " << qtest::fmt(x.data[i])
                                             << " vs " << qtest::fmt(y.data[i]);
      }
    }
  }
  return ::testing::AssertionSuccess();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const qifsim::Error& e) {
    return e.what();
  }
  return "<no error>";
}

// ---- Bad input: a clear error naming what and where ------------------------------------

TEST(BadInput, WeightsNotNByN) {
  qifsim::Network net(1e-3);
  qifsim::QifPopulation p;
  p.n = 4;
  p.weights = Matrix(4, 3);
  const std::string m = error_of([&] { net.add_population("pop", p); });
  EXPECT_NE(m.find("'pop'"), std::string::npos) << m;
  EXPECT_NE(m.find("4 x 3"), std::string::npos) << m;
  EXPECT_NE(m.find("4 x 4"), std::string::npos) << m;
}

TEST(BadInput, NonFiniteWeightsParametersAndInputs) {
  for (double bad : {kNaN, kInf, -kInf}) {
    qifsim::Network net(1e-3);
    qifsim::QifPopulation p = random_population(3, 1);
    Matrix J = p.weights.dense();
    J(1, 2) = bad;
    p.weights = J;
    const std::string m = error_of([&] { net.add_population("pop", p); });
    EXPECT_NE(m.find("(1, 2)"), std::string::npos) << m;
    EXPECT_NE(m.find("not finite"), std::string::npos) << m;

    qifsim::QifPopulation q = random_population(3, 1);
    q.eta = std::vector<double>{-5.0, bad, -5.0};
    const std::string e = error_of([&] { net.add_population("pop", q); });
    EXPECT_NE(e.find("eta[1]"), std::string::npos) << e;

    qifsim::Network ok = make_net();
    Matrix x = drive(10, 24);
    x(7, 5) = bad;
    const std::string r = error_of([&] { ok.run(x, options()); });
    EXPECT_NE(r.find("input (7, 5)"), std::string::npos) << r;
    EXPECT_EQ(ok.step_count(), 0) << "nothing may run on bad input";

    const std::string s = error_of([&] { ok.set_var("qif", "v", {bad}); });
    EXPECT_NE(s.find("qif.v"), std::string::npos) << s;
  }
  qifsim::Network edges(1e-3);
  edges.add_function("in", 2, qifsim::Activation::Identity);
  edges.add_population("pop", random_population(3, 1));
  Matrix w(3, 2, 1.0);
  w(2, 1) = kNaN;
  const std::string m = error_of([&] { edges.add_edge("in", "pop", w); });
  EXPECT_NE(m.find("'in' -> 'pop'"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 1)"), std::string::npos) << m;
}

TEST(BadInput, StepSizeAndThresholds) {
  for (double dt : {0.0, -1e-3, kNaN, kInf}) {
    const std::string m = error_of([&] { qifsim::Network net(dt); });
    EXPECT_NE(m.find("dt"), std::string::npos) << m;
  }
  qifsim::Network net(1e-3);
  qifsim::QifPopulation p;
  p.n = 2;
  p.v_reset = std::vector<double>{-100.0, 150.0};
  const std::string m = error_of([&] { net.add_population("pop", p); });
  EXPECT_NE(m.find("v_reset"), std::string::npos) << m;
  EXPECT_NE(m.find("neuron 1"), std::string::npos) << m;
}

TEST(BadInput, RunArguments) {
  qifsim::Network net = make_net();
  const Matrix x = drive(50, 24);
  qifsim::RunOptions o = options();
  o.cutoff = 0;
  o.sampling_steps = 0;
  EXPECT_NE(error_of([&] { net.run(x, o); }).find("sampling_steps = 0"), std::string::npos);
  o.sampling_steps = 1;
  o.cutoff = 50;
  EXPECT_NE(error_of([&] { net.run(x, o); }).find("cutoff = 50"), std::string::npos);
  o.cutoff = 0;
  o.record_vars = {{"nope", "v", false}};
  EXPECT_NE(error_of([&] { net.run(x, o); }).find("unknown node 'nope'"), std::string::npos);
  o.record_vars = {{"qif", "w", false}};
  const std::string var = error_of([&] { net.run(x, o); });
  EXPECT_NE(var.find("no variable 'w'"), std::string::npos) << var;
  o.record_vars = {};
  EXPECT_NE(error_of([&] { net.run(drive(50, 23), o); }).find("50 x 23"), std::string::npos);
  o.divergence_check_steps = -1;
  EXPECT_NE(error_of([&] { net.run(x, o); }).find("divergence_check_steps"), std::string::npos);
  EXPECT_EQ(net.step_count(), 0);
}

TEST(BadInput, RecordingOverBudgetIsRefusedBeforeAnythingRuns) {
  qifsim::Network net = make_net();
  qifsim::RunOptions o = options();
  o.memory_budget = 1000;  // bytes
  const std::string m = error_of([&] { net.run(drive(1000, 24), o); });
  EXPECT_NE(m.find("memory budget"), std::string::npos) << m;
  EXPECT_EQ(net.step_count(), 0);
  EXPECT_FALSE(net.interrupted());
}

// ---- Divergence -------------------------------------------------------------------------

// qtest::diverging_net(): two neurons coupled by -1e308 with s0 = 1, so J s overflows to
// -inf at the first step.
TEST(Divergence, IsReportedWithNodeVariableNeuronAndStepAndKeepsTheSamples) {
  qifsim::Network net = qtest::diverging_net();
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.divergence_check_steps = 100;
  o.batch_samples = 16;
  qifsim::Observer obs(1e-3, true, false, {{"qif", "v", false}});
  try {
    net.run(Matrix(5000, 2, 0.0), o, obs);
    FAIL() << "no DivergenceError";
  } catch (const qifsim::DivergenceError& e) {
    // The sample of step 1 already holds -inf: it is refused when its batch (16 samples)
    // reaches the observer, before the state check after step 100.
    const std::string m = e.what();
    EXPECT_NE(m.find("'qif'"), std::string::npos) << m;
    EXPECT_NE(m.find("'v'"), std::string::npos) << m;
    EXPECT_NE(m.find("neuron 0"), std::string::npos) << m;
    EXPECT_NE(m.find("sample of step 1 "), std::string::npos) << m;
  }
  // Every sample before the first non-finite one is in the observer; nothing else.
  ASSERT_EQ(obs.samples(), 1);
  EXPECT_EQ(obs.steps().back(), 0);
  EXPECT_EQ(obs.to_matrix("qif", "v")(0, 0), -2.0);
  EXPECT_EQ(net.step_count(), 15);  // the batch was handed over at step 15, before its update
}

TEST(Divergence, TheStateCheckNamesNodeVariableNeuronAndStep) {
  // Recording only the output (s stays finite): the state check finds v after step 100.
  qifsim::Network net = qtest::diverging_net();
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.divergence_check_steps = 100;
  qifsim::Observer obs(1e-3, true, false, {});
  try {
    net.run(Matrix(5000, 2, 0.0), o, obs);
    FAIL() << "no DivergenceError";
  } catch (const qifsim::DivergenceError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'qif'"), std::string::npos) << m;
    EXPECT_NE(m.find("'v'"), std::string::npos) << m;
    EXPECT_NE(m.find("neuron 0"), std::string::npos) << m;
    EXPECT_NE(m.find("after step 100"), std::string::npos) << m;
    EXPECT_NE(m.find("finite after step 0"), std::string::npos) << m;
  }
  EXPECT_EQ(obs.samples(), 100);
  EXPECT_EQ(net.step_count(), 100);
}

TEST(Divergence, NoValueThatIsNotFiniteIsEverRecordedWithoutAnError) {
  // Weights of 1e308 with the check every 1000 steps: v is -inf from step 1 on. Every
  // recorded value is checked as it is recorded, whatever the check interval (even 0).
  for (std::int64_t every : {std::int64_t{1000}, std::int64_t{0}}) {
    qifsim::Network net = qtest::diverging_net();
    qifsim::RunOptions o;
    o.progress = qifsim::Progress::Off;
    o.divergence_check_steps = every;
    o.record_vars = {{"qif", "v", true}};
    qifsim::Observer obs(1e-3, true, false, o.record_vars);
    EXPECT_THROW(net.run(Matrix(3000, 2, 0.0), o, obs), qifsim::DivergenceError) << every;
    for (const auto& key : obs.keys()) {
      for (double v : obs.to_matrix(key).data) EXPECT_TRUE(std::isfinite(v)) << key;
    }
  }
  // By hand, too.
  qifsim::Observer manual(1e-3, true, false, {});
  EXPECT_THROW(manual.record(0, {1.0, std::numeric_limits<double>::infinity()}, 0.0, {}), qifsim::InvalidArgument);
  EXPECT_EQ(manual.samples(), 0);
}

TEST(Divergence, ForwardRefusesAnInputThatIsNotFinite) {
  qifsim::Network net = make_net();
  const std::vector<double> v = net.get_var("qif", "v");
  std::vector<double> x(24, 1.0);
  x[5] = kNaN;
  try {
    net.forward(x);
    FAIL() << "no InvalidArgument";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("input[5]"), std::string::npos) << e.what();
  }
  EXPECT_EQ(net.get_var("qif", "v"), v);
  EXPECT_EQ(net.step_count(), 0);
}

TEST(Divergence, CheckCanBeTurnedOff) {
  qifsim::Network net = qtest::diverging_net();
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.divergence_check_steps = 0;
  EXPECT_NO_THROW(net.run(Matrix(500, 2, 0.0), o));
  const auto v = net.get_var("qif", "v");
  EXPECT_TRUE(!std::isfinite(v[0]) || !std::isfinite(v[1]));
}

TEST(Divergence, AHealthyRunPassesEveryCheck) {
  qifsim::Network net = make_net();
  qifsim::RunOptions o = options();
  o.divergence_check_steps = 1;
  EXPECT_NO_THROW(net.run(drive(2000, 24), o));
}

// ---- Stop, resume, checkpoints --------------------------------------------------------

TEST(Resume, StoppedAndResumedRunEqualsAnUninterruptedOne) {
  for (bool adaptation : {false, true}) {
    const Matrix x = drive(3000, 24);
    qifsim::Network a = make_net(Precision::Float64, adaptation);
    const qifsim::Observer whole = a.run(x, options());

    qifsim::Network b = make_net(Precision::Float64, adaptation);
    qifsim::RunOptions o = options();
    o.stop_at_step = 1234;  // inside an output window (1234 % 3 != 0)
    qifsim::Observer parts(1e-3, true, false, o.record_vars);
    b.run(x, o, parts);
    ASSERT_TRUE(b.interrupted());
    EXPECT_EQ(b.resume_step(), 1234);
    EXPECT_EQ(b.step_count(), 1234);
    EXPECT_LT(parts.samples(), whole.samples());
    EXPECT_EQ(parts.steps().back(), 1233);
    o.stop_at_step = -1;
    o.resume = true;
    b.run(x, o, parts);
    EXPECT_FALSE(b.interrupted());
    EXPECT_EQ(b.step_count(), 3000);
    EXPECT_TRUE(identical(parts, whole)) << "adaptation " << adaptation;
    EXPECT_TRUE(qtest::expect_close(b.get_var("qif", "v"), a.get_var("qif", "v"), 0.0, 0.0));
  }
}

TEST(Resume, CheckpointedTestRunKeepsItsLoss) {
  const std::string path = (std::filesystem::temp_directory_path() / "qifsim_loss.ckpt").string();
  const Matrix x = drive(2000, 24);
  const Matrix targets(2000, 24, 0.5);
  qifsim::RunOptions o = options();
  o.record_loss = true;
  qifsim::Network a = make_net();
  const qifsim::TestResult whole = a.test(x, targets, "mse", o);

  qifsim::Network b = make_net();
  qifsim::RunOptions first = o;
  first.stop_at_step = 999;
  const qifsim::TestResult part = b.test(x, targets, "mse", first);
  b.save_checkpoint(path, &part.observer);

  qifsim::Network c = make_net();
  qifsim::RunOptions rest = o;
  rest.resume = true;
  qifsim::Observer obs(1e-3, true, true, o.record_vars);
  c.load_checkpoint(path, &obs);
  const qifsim::TestResult end = c.test(x, targets, "mse", rest);
  // test() starts a new observer; what it recorded is the rest of the run.
  EXPECT_EQ(end.loss, whole.loss);
  EXPECT_EQ(obs.samples() + end.observer.samples(), whole.observer.samples());
  EXPECT_EQ(end.observer.steps().front(), whole.observer.steps()[static_cast<std::size_t>(obs.samples())]);
  std::filesystem::remove(path);
}

TEST(Resume, CheckpointRoundTripIsBitExact) {
  const std::string path = (std::filesystem::temp_directory_path() / "qifsim_exact.ckpt").string();
  for (Precision precision : {Precision::Float64, Precision::Float32}) {
    const Matrix x = drive(3000, 24);
    qifsim::Network a = make_net(precision);
    const qifsim::Observer whole = a.run(x, options());

    qifsim::Network b = make_net(precision);
    qifsim::RunOptions o = options();
    o.stop_at_step = 2222;
    qifsim::Observer obs(1e-3, true, false, o.record_vars);
    b.run(x, o, obs);
    b.save_checkpoint(path, &obs);

    qifsim::Network c = make_net(precision);
    qifsim::Observer restored(1e-3, true, false, o.record_vars);
    c.load_checkpoint(path, &restored);
    EXPECT_TRUE(identical(restored, obs));
    o.stop_at_step = -1;
    o.resume = true;
    c.run(x, o, restored);
    EXPECT_TRUE(identical(restored, whole)) << (precision == Precision::Float32 ? "float32" : "float64");
  }
  std::filesystem::remove(path);
}

// The stop flag set by another thread while the run is held inside its first batch
// (RunGate): the run stops at its next step boundary and resumes bit for bit.
TEST(Resume, StopFlagFromAnotherThread) {
  const Matrix x = drive(20000, 24);
  qifsim::RunOptions o = options();
  o.record_vars = {{"qif", "s", true}};
  o.batch_samples = 100;
  qifsim::Network a = make_net();
  const qifsim::Observer whole = a.run(x, o);

  qifsim::Network b = make_net();
  std::atomic<bool> stop{false};
  o.stop = &stop;
  qifsim::Observer obs(1e-3, true, false, o.record_vars);
  auto gate = std::make_shared<qtest::RunGate>();
  obs.add_sink(gate);
  std::thread setter([&] {
    gate->wait_reached();
    stop = true;
    gate->open();
  });
  b.run(x, o, obs);
  setter.join();
  ASSERT_TRUE(b.interrupted());
  EXPECT_GT(b.resume_step(), 0);
  EXPECT_LT(b.resume_step(), x.rows);
  EXPECT_EQ(obs.samples(), qifsim::sample_count(b.resume_step(), o.sampling_steps, o.cutoff));
  stop = false;
  o.resume = true;
  b.run(x, o, obs);
  EXPECT_TRUE(identical(obs, whole));
}

TEST(Resume, ErrorsNameTheProblem) {
  qifsim::Network net = make_net();
  qifsim::RunOptions o = options();
  o.resume = true;
  EXPECT_NE(error_of([&] { net.run(drive(300, 24), o); }).find("no interrupted run"), std::string::npos);
  o.resume = false;
  o.stop_at_step = 50;
  net.run(drive(300, 24), o);
  ASSERT_TRUE(net.interrupted());
  o.stop_at_step = -1;
  o.resume = true;
  EXPECT_NE(error_of([&] { net.run(drive(200, 24), o); }).find("300 steps"), std::string::npos);

  const std::string path = (std::filesystem::temp_directory_path() / "qifsim_bad.ckpt").string();
  net.save_checkpoint(path);
  qifsim::Network other(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p = random_population(10, 3);
  other.add_population("qif", p);
  other.compile();
  const std::string m = error_of([&] { other.load_checkpoint(path); });
  EXPECT_NE(m.find("size 24"), std::string::npos) << m;
  // Truncated and foreign files.
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  qifsim::Network same = make_net();
  const std::string t = error_of([&] { same.load_checkpoint(path); });
  EXPECT_NE(t.find("truncated"), std::string::npos) << t;
  EXPECT_NE(t.find(path), std::string::npos) << t;
  std::ofstream(path, std::ios::trunc) << "hello";
  EXPECT_NE(error_of([&] { same.load_checkpoint(path); }).find("not a qifsim checkpoint"), std::string::npos);
  EXPECT_FALSE(same.interrupted()) << "a failed load changes nothing";
  std::filesystem::remove(path);
}

// ---- Determinism --------------------------------------------------------------------------

TEST(Determinism, SameNetworkSameResultsRunAfterRun) {
  for (Precision precision : {Precision::Float64, Precision::Float32}) {
    const Matrix x = drive(2000, 24);
    qifsim::Network a = make_net(precision);
    const qifsim::Observer first = a.run(x, options());
    a.reset();
    const qifsim::Observer again = a.run(x, options());
    qifsim::Network b = make_net(precision);
    const qifsim::Observer other = b.run(x, options());
    EXPECT_TRUE(identical(first, again));
    EXPECT_TRUE(identical(first, other));
  }
}

TEST(Determinism, LargePopulationWithThreadsIsBitIdentical) {
  // Large enough for the multithreaded update and BLAS threads.
  qifsim::QifPopulation p;  // uncoupled keeps the test fast; the update runs on all threads
  p.n = 20000;
  std::vector<double> eta(20000);
  for (std::size_t i = 0; i < eta.size(); ++i) eta[i] = -5.0 + 1e-3 * static_cast<double>(i);
  p.eta = eta;
  auto run = [&] {
    qifsim::Network net(1e-3, qifsim::Backend::Cpu);
    net.add_population("qif", p);
    net.compile();
    qifsim::RunOptions o;
    o.progress = qifsim::Progress::Off;
    o.record_output = false;
    o.record_vars = {{"qif", "v", true}, {"qif", "s", true}};
    return net.run(Matrix(300, 20000, 25.0), o);
  };
  EXPECT_TRUE(identical(run(), run()));
}

}  // namespace

namespace {

// ---- Views and observers given by the caller --------------------------------------------

TEST(Views, RawArrayViewRunsLikeTheMatrixAndTestRecordsIntoAnObserver) {
  const Matrix x = drive(1500, 24);
  const std::vector<double> raw = x.data;  // the caller's own buffer
  qifsim::Network a = make_net();
  const qifsim::Observer from_matrix = a.run(x, options());
  qifsim::Network b = make_net();
  const qifsim::Observer from_view = b.run(qifsim::MatrixView(raw.data(), 1500, 24), options());
  EXPECT_TRUE(identical(from_view, from_matrix));
  EXPECT_EQ(from_view.samples(), qifsim::sample_count(1500, 3, 101));

  const Matrix targets(1500, 24, 0.25);
  qifsim::RunOptions o = options();
  o.record_loss = true;
  qifsim::Network c = make_net();
  const qifsim::TestResult whole = c.test(x, targets, "mse", o);
  qifsim::Network d = make_net();
  qifsim::Observer into(1e-3, true, true, o.record_vars);
  const double loss = d.test(x, targets, "mse", o, into);
  EXPECT_EQ(loss, whole.loss);
  EXPECT_TRUE(identical(into, whole.observer));

  // A Matrix whose data does not match its shape is refused, naming the count.
  Matrix broken = x;
  broken.data.pop_back();
  qifsim::Network e = make_net();
  const std::string m = error_of([&] { e.run(broken, options()); });
  EXPECT_NE(m.find("35999 values"), std::string::npos) << m;
}

}  // namespace
