// tests/test_cuda_backend.cpp - the CUDA backend against the CPU backend (which the other
// tests check against an independent reference of the spec). Every test skips, with the
// reason, where no GPU is usable; on a GPU they all run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/qifsim.hpp"
#include "test_util.hpp"

namespace {

using qifsim::Backend;
using qifsim::Matrix;
using qifsim::Precision;

#define REQUIRE_GPU()                                                              \
  do {                                                                             \
    const qifsim::DeviceStatus status_ = qifsim::cuda_device_status();            \
    if (!status_.usable) GTEST_SKIP() << "no usable GPU: " << status_.description; \
  } while (0)

struct NetSpec {
  std::int64_t n = 64;
  std::int64_t steps = 2000;
  double coupling = 20.0;  // J_ij uniform in [0, coupling / n)
  bool adaptation = false;
  bool readout = false;    // input function node -> population -> softmax readout
};

Matrix random_matrix(std::mt19937& rng, std::int64_t rows, std::int64_t cols, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  Matrix m(rows, cols);
  for (double& x : m.data) x = u(rng);
  return m;
}

qifsim::Network make_network(const NetSpec& s, Backend backend, Precision precision) {
  std::mt19937 rng(7);
  qifsim::Network net(1e-3, backend, precision);
  qifsim::QifPopulation p;
  p.n = s.n;
  p.weights = random_matrix(rng, s.n, s.n, 0.0, s.coupling / static_cast<double>(s.n));
  std::vector<double> eta(static_cast<std::size_t>(s.n));
  for (std::int64_t i = 0; i < s.n; ++i) eta[static_cast<std::size_t>(i)] = -5.0 + 10.0 * static_cast<double>(i) / static_cast<double>(s.n);
  p.eta = eta;
  p.adaptation = s.adaptation;
  if (s.readout) {
    net.add_function("inp", 3, qifsim::Activation::Identity);
    net.add_population("qif", p);
    net.add_function("readout", 4, qifsim::Activation::Softmax);
    net.add_edge("inp", "qif", random_matrix(rng, s.n, 3, 0.0, 20.0));
    net.add_edge("qif", "readout", random_matrix(rng, 4, s.n, -1.0, 1.0));
  } else {
    net.add_population("qif", p);
  }
  net.compile();
  return net;
}

Matrix make_inputs(const NetSpec& s, std::int64_t width) {
  Matrix x(s.steps, width);
  for (std::int64_t t = 0; t < s.steps; ++t) {
    for (std::int64_t j = 0; j < width; ++j) {
      x(t, j) = 20.0 + 10.0 * std::sin(0.01 * static_cast<double>(t) + 0.3 * static_cast<double>(j));
    }
  }
  return x;
}

qifsim::RunOptions options(std::int64_t sampling, std::int64_t cutoff, bool readout) {
  qifsim::RunOptions o;
  o.sampling_steps = sampling;
  o.cutoff = cutoff;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "v", false}, {"qif", "s", true}, {"qif", "spike", false}, {"qif", "s_in", true}};
  if (readout) o.record_vars.push_back({"readout", "out", false});
  return o;
}

::testing::AssertionResult same_recording(const qifsim::Observer& gpu, const qifsim::Observer& cpu,
                                          double rtol, double atol) {
  if (gpu.steps() != cpu.steps()) return ::testing::AssertionFailure() << "sample steps differ";
  if (gpu.keys() != cpu.keys()) return ::testing::AssertionFailure() << "series differ";
  for (const auto& key : cpu.keys()) {
    const Matrix c = cpu.to_matrix(key);
    auto r = qtest::expect_matrix_close(gpu.to_matrix(key), c.rows, c.cols, c.data, rtol, atol);
    if (!r) return ::testing::AssertionFailure() << "series '" << key << "': " << r.message();
  }
  return ::testing::AssertionSuccess();
}

void compare_run(const NetSpec& s, Precision precision, std::int64_t sampling, std::int64_t cutoff,
                 double rtol, double atol, std::int64_t batch = 0, bool graphs = true,
                 qifsim::CudaCoupling coupling = qifsim::CudaCoupling::Cublas) {
  qifsim::Network cpu = make_network(s, Backend::Cpu, precision);
  qifsim::Network gpu = make_network(s, Backend::Cuda, precision);
  ASSERT_EQ(gpu.backend(), Backend::Cuda);
  const Matrix x = make_inputs(s, cpu.input_width());
  qifsim::RunOptions o = options(sampling, cutoff, s.readout);
  // The CPU's dense product (its `auto` takes events over a dense J from N = 512; the GPU has
  // none): both backends then compute the same J s, each in its own order.
  qifsim::RunOptions on_cpu = o;
  on_cpu.coupling = qifsim::CouplingMode::Dense;
  const qifsim::Observer expected = cpu.run(x, on_cpu);
  o.batch_samples = batch;
  o.cuda_graphs = graphs;
  o.cuda_coupling = coupling;
  const qifsim::Observer actual = gpu.run(x, o);
  double spikes = 0.0;
  for (double v : expected.to_matrix("qif", "spike").data) spikes += v;
  EXPECT_GT(spikes, 50.0) << "the comparison should cover many spikes";
  EXPECT_TRUE(same_recording(actual, expected, rtol, atol));
  EXPECT_TRUE(qtest::expect_close(gpu.get_var("qif", "v"), cpu.get_var("qif", "v"), rtol, atol));
}

TEST(CudaBackend, ReportsWhyItIsUnavailableOrRuns) {
  const qifsim::DeviceStatus status = qifsim::cuda_device_status();
  EXPECT_FALSE(status.description.empty());
  if (!status.usable) {
    qifsim::Network net(1e-3, Backend::Cuda);
    qifsim::QifPopulation p;
    net.add_population("qif", p);
    try {
      net.compile();
      FAIL() << "backend cuda compiled without a usable GPU";
    } catch (const qifsim::BackendError& e) {
      EXPECT_NE(std::string(e.what()).find("no GPU is usable"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << "no usable GPU: " << status.description;
  }
}

TEST(CudaBackend, Float64MatchesCpuWithSamplingAndCutoff) {
  REQUIRE_GPU();
  compare_run(NetSpec{}, Precision::Float64, 3, 101, 1e-9, 1e-9);
}

TEST(CudaBackend, Float64AdaptationMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.adaptation = true;
  compare_run(s, Precision::Float64, 2, 10, 1e-9, 1e-9);
}

TEST(CudaBackend, Float64GraphWithReadoutMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.readout = true;
  compare_run(s, Precision::Float64, 5, 0, 1e-9, 1e-9);
}

TEST(CudaBackend, RingWrapsAroundWithSmallBatches) {
  REQUIRE_GPU();
  // 2000 steps sampled every 3rd from 101: 633 samples through batches of 7 (91 flushes).
  compare_run(NetSpec{}, Precision::Float64, 3, 101, 1e-9, 1e-9, /*batch=*/7);
}

TEST(CudaBackend, LargePopulationMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 5000;  // several blocks: the neuron means go through the last-block reduction
  s.steps = 600;
  compare_run(s, Precision::Float64, 4, 0, 1e-9, 1e-9);
}

// Small enough for compute-sanitizer racecheck: 20 blocks reduce neuron means every step.
TEST(CudaBackend, ShortRunOfManyBlocksMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 5000;
  s.steps = 400;
  compare_run(s, Precision::Float64, 1, 0, 1e-9, 1e-9);
}

// The row-block coupling kernel (RunOptions::cuda_coupling) against the CPU backend: one
// block (N = 64, fewer columns than threads), many rows (N = 5000), and a short run small
// enough for racecheck (its warp sums go through shared memory).
TEST(CudaBackend, RowCouplingFloat64MatchesCpu) {
  REQUIRE_GPU();
  compare_run(NetSpec{}, Precision::Float64, 3, 101, 1e-9, 1e-9, 0, true, qifsim::CudaCoupling::RowBlocks);
}

TEST(CudaBackend, RowCouplingLargePopulationMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 5000;
  s.steps = 600;
  compare_run(s, Precision::Float64, 4, 0, 1e-9, 1e-9, 0, true, qifsim::CudaCoupling::RowBlocks);
}

TEST(CudaBackend, RowCouplingShortRunMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 1000;
  s.steps = 400;
  compare_run(s, Precision::Float64, 1, 0, 1e-9, 1e-9, 0, false, qifsim::CudaCoupling::RowBlocks);
}

// float32 through qifsim's own coupling kernels: the same spikes as the CPU's float32 run
// and s within float32 rounding (weak coupling, few steps), plus the neuron mean of J s.
void compare_float32(qifsim::CudaCoupling coupling) {
  NetSpec s;
  s.coupling = 0.5;
  s.steps = 600;
  qifsim::Network cpu = make_network(s, Backend::Cpu, Precision::Float32);
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float32);
  const Matrix x = make_inputs(s, s.n);
  qifsim::RunOptions o = options(1, 0, false);
  o.record_vars = {{"qif", "s", false}, {"qif", "spike", false}, {"qif", "s_in", true}};
  o.cuda_coupling = coupling;
  const qifsim::Observer c = cpu.run(x, o);
  const qifsim::Observer g = gpu.run(x, o);
  ASSERT_EQ(g.steps(), c.steps());
  const Matrix cspike = c.to_matrix("qif", "spike");
  double spikes = 0.0;
  for (double v : cspike.data) spikes += v;
  EXPECT_GT(spikes, 10.0);
  EXPECT_TRUE(qtest::expect_matrix_close(g.to_matrix("qif", "spike"), cspike.rows, cspike.cols, cspike.data, 0.0, 0.0));
  for (const char* var : {"s", "s_in"}) {
    const Matrix cm = c.to_matrix("qif", var);
    EXPECT_TRUE(qtest::expect_matrix_close(g.to_matrix("qif", var), cm.rows, cm.cols, cm.data, 1e-4, 1e-4)) << var;
  }
}

TEST(CudaBackend, RowCouplingFloat32MatchesCpuFloat32) {
  REQUIRE_GPU();
  compare_float32(qifsim::CudaCoupling::RowBlocks);
}

// The fused step (RunOptions::cuda_coupling = Fused: J s, update, recording and the step
// counter in one launch, s in two buffers) against the CPU backend and the row-block path.
TEST(CudaBackend, FusedStepFloat64MatchesCpu) {
  REQUIRE_GPU();
  compare_run(NetSpec{}, Precision::Float64, 3, 101, 1e-9, 1e-9, 0, true, qifsim::CudaCoupling::Fused);
}

TEST(CudaBackend, FusedStepAdaptationMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.adaptation = true;
  s.steps = 1001;  // odd: the final s is in the second buffer until the run copies it back
  compare_run(s, Precision::Float64, 2, 10, 1e-9, 1e-9, 0, false, qifsim::CudaCoupling::Fused);
}

// 5000 neurons: 5000 blocks, neuron means summed by the last block from 5000 partials.
TEST(CudaBackend, FusedStepLargePopulationMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 5000;
  s.steps = 401;
  compare_run(s, Precision::Float64, 1, 0, 1e-9, 1e-9, 0, true, qifsim::CudaCoupling::Fused);
}

// Small enough for racecheck: 1000 blocks share warp sums and block sums in shared memory,
// and the last block adds 1000 partials per neuron mean at every step.
TEST(CudaBackend, FusedStepShortRunMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 1000;
  s.steps = 400;  // the first spikes come after ~320 steps
  compare_run(s, Precision::Float64, 1, 0, 1e-9, 1e-9, 0, false, qifsim::CudaCoupling::Fused);
}

// The fused step sums each row as the row-block kernel does and updates each neuron with the
// same code: every per-neuron series is bit for bit the row-block run's. Then the state after
// an odd number of steps is where get_var and forward() read it.
TEST(CudaBackend, FusedStepEqualsRowBlocksBitForBit) {
  REQUIRE_GPU();
  for (Precision precision : {Precision::Float64, Precision::Float32}) {
    NetSpec s;
    s.n = 300;
    s.steps = 777;
    qifsim::Network rows = make_network(s, Backend::Cuda, precision);
    qifsim::Network fused = make_network(s, Backend::Cuda, precision);
    const Matrix x = make_inputs(s, s.n);
    qifsim::RunOptions o = options(1, 0, false);
    o.record_vars = {{"qif", "v", false}, {"qif", "s", false}, {"qif", "spike", false}, {"qif", "s_in", false}};
    o.cuda_coupling = qifsim::CudaCoupling::RowBlocks;
    const qifsim::Observer a = rows.run(x, o);
    o.cuda_coupling = qifsim::CudaCoupling::Fused;
    const qifsim::Observer b = fused.run(x, o);
    EXPECT_TRUE(same_recording(b, a, 0.0, 0.0)) << qifsim::to_string(precision);
    for (const char* var : {"v", "s", "s_in", "I_ext"}) {
      EXPECT_TRUE(qtest::expect_close(fused.get_var("qif", var), rows.get_var("qif", var), 0.0, 0.0)) << var;
    }
    const std::vector<double> in(static_cast<std::size_t>(s.n), 22.0);
    for (int t = 0; t < 3; ++t) {
      EXPECT_TRUE(qtest::expect_close(fused.forward(in), rows.forward(in), 0.0, 0.0)) << "forward " << t;
    }
  }
}

// Stopped after an odd number of steps (the state in the second buffer) and resumed, the
// fused run equals an uninterrupted one bit for bit; so does a resume from an even stop.
TEST(CudaBackend, FusedStepStopAndResumeEqualsUninterruptedRun) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 1000;
  s.steps = 1500;
  const Matrix x = make_inputs(s, s.n);
  qifsim::RunOptions o = options(3, 101, false);
  o.batch_samples = 50;
  o.cuda_coupling = qifsim::CudaCoupling::Fused;
  qifsim::Network a = make_network(s, Backend::Cuda, Precision::Float64);
  const qifsim::Observer whole = a.run(x, o);
  for (std::int64_t stop : {std::int64_t{701}, std::int64_t{702}}) {
    qifsim::Network b = make_network(s, Backend::Cuda, Precision::Float64);
    qifsim::RunOptions first = o;
    first.stop_at_step = stop;
    qifsim::Observer parts(1e-3, true, false, o.record_vars);
    b.run(x, first, parts);
    ASSERT_EQ(b.step_count(), stop);
    qifsim::RunOptions rest = o;
    rest.resume = true;
    b.run(x, rest, parts);
    EXPECT_TRUE(same_recording(parts, whole, 0.0, 0.0)) << "stopped at " << stop;
    EXPECT_TRUE(qtest::expect_close(b.get_var("qif", "s"), a.get_var("qif", "s"), 0.0, 0.0)) << stop;
  }
}

TEST(CudaBackend, FusedStepFloat32MatchesCpuFloat32) {
  REQUIRE_GPU();
  compare_float32(qifsim::CudaCoupling::Fused);
}

// Short enough for compute-sanitizer racecheck (scripts/gpu-check): 300 blocks, 20 steps,
// every step sampled with neuron means (the last block's reduction) and per-neuron values.
TEST(CudaBackend, FusedStepRacecheckShortRun) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 300;
  s.steps = 20;
  qifsim::Network cpu = make_network(s, Backend::Cpu, Precision::Float64);
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float64);
  cpu.set_var("qif", "v", {150.0});  // every neuron spikes at step 0: resets and jumps of s
  gpu.set_var("qif", "v", {150.0});
  const Matrix x = make_inputs(s, s.n);
  qifsim::RunOptions o = options(1, 0, false);
  const qifsim::Observer expected = cpu.run(x, o);
  o.cuda_coupling = qifsim::CudaCoupling::Fused;
  EXPECT_TRUE(same_recording(gpu.run(x, o), expected, 1e-12, 1e-12));
}

// float32 with more blocks than one wave holds (5000 blocks; 8 per SM are resident): blocks
// of later waves read s from the buffer the first wave did not write. Float32 sums J s in
// another order than the CPU, so a spike may move by a step: allow 0.1% of them.
TEST(CudaBackend, FusedStepFloat32ManyWavesMatchesCpuFloat32) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 5000;
  s.coupling = 0.5;
  s.steps = 300;
  qifsim::Network cpu = make_network(s, Backend::Cpu, Precision::Float32);
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float32);
  cpu.set_var("qif", "v", {60.0});
  gpu.set_var("qif", "v", {60.0});
  const Matrix x = make_inputs(s, s.n);
  qifsim::RunOptions o = options(1, 0, false);
  o.record_vars = {{"qif", "spike", false}, {"qif", "s", true}};
  o.coupling = qifsim::CouplingMode::Dense;  // the CPU's `auto` would take events at this N
  const qifsim::Observer c = cpu.run(x, o);
  o.cuda_coupling = qifsim::CudaCoupling::Fused;
  const qifsim::Observer g = gpu.run(x, o);
  const Matrix cs = c.to_matrix("qif", "spike"), gs = g.to_matrix("qif", "spike");
  ASSERT_EQ(cs.data.size(), gs.data.size());
  double spikes = 0.0, moved = 0.0;
  for (std::size_t i = 0; i < cs.data.size(); ++i) {
    spikes += cs.data[i];
    moved += cs.data[i] != gs.data[i] ? 1.0 : 0.0;
  }
  EXPECT_GT(spikes, 5000.0);
  EXPECT_LE(moved, 1e-3 * spikes) << moved << " of " << spikes << " spike entries differ";
  const Matrix cm = c.to_matrix("qif.s");
  EXPECT_TRUE(qtest::expect_matrix_close(g.to_matrix("qif.s"), cm.rows, cm.cols, cm.data, 1e-3, 1e-3));
}

// More neurons than the fused grid has blocks (32768): blocks loop over neurons. float32 and
// a uniform J (33000 x 33000 is 4.4 GB in float32; the host holds the float64 graph twice:
// about 26 GB in all). A few steps from states that spike at once and soon.
TEST(CudaBackend, FusedStepHugePopulationMoreNeuronsThanBlocks) {
  REQUIRE_GPU();
  const std::int64_t n = 33000;
  auto make = [n](Backend backend) {
    qifsim::Network net(1e-3, backend, Precision::Float32);
    qifsim::QifPopulation p;
    p.n = n;
    p.weights = Matrix(n, n, 20.0 / static_cast<double>(n));
    std::vector<double> v0(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v0[static_cast<std::size_t>(i)] = 60.0 + 80.0 * static_cast<double>(i % 97) / 96.0;
    p.v0 = v0;
    net.add_population("qif", p);
    net.compile();
    return net;
  };
  qifsim::Network cpu = make(Backend::Cpu);
  qifsim::Network gpu = make(Backend::Cuda);
  const Matrix x(8, n, 10.0);
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "spike", false}, {"qif", "v", true}, {"qif", "s_in", true}};
  const qifsim::Observer c = cpu.run(x, o);
  o.cuda_coupling = qifsim::CudaCoupling::Fused;
  o.coupling = qifsim::CouplingMode::Dense;  // `auto` stores an equal-valued J this large procedurally
  const qifsim::Observer g = gpu.run(x, o);
  const Matrix cs = c.to_matrix("qif.spike");
  EXPECT_TRUE(qtest::expect_matrix_close(g.to_matrix("qif.spike"), cs.rows, cs.cols, cs.data, 0.0, 0.0));
  for (const char* key : {"qif.v", "qif.s_in"}) {
    const Matrix cm = c.to_matrix(key);
    EXPECT_TRUE(qtest::expect_matrix_close(g.to_matrix(key), cm.rows, cm.cols, cm.data, 1e-4, 1e-4)) << key;
  }
}

// A network the fused step cannot take is refused before anything runs, saying why.
TEST(CudaBackend, FusedStepRefusesOtherNetworks) {
  REQUIRE_GPU();
  NetSpec s;
  s.readout = true;
  qifsim::Network net = make_network(s, Backend::Cuda, Precision::Float64);
  qifsim::RunOptions o = options(1, 0, true);
  o.cuda_coupling = qifsim::CudaCoupling::Fused;
  qifsim::Observer obs(1e-3, true, false, o.record_vars);
  try {
    net.run(make_inputs(s, 3), o, obs);
    FAIL() << "no InvalidArgument";
  } catch (const qifsim::InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("Fused"), std::string::npos) << m;
    EXPECT_NE(m.find("3 nodes"), std::string::npos) << m;
  }
  EXPECT_EQ(obs.samples(), 0);
  EXPECT_EQ(net.step_count(), 0);
}

TEST(CudaBackend, GraphReplayEqualsPlainLaunches) {
  REQUIRE_GPU();
  NetSpec s;
  s.readout = true;
  qifsim::Network a = make_network(s, Backend::Cuda, Precision::Float64);
  qifsim::Network b = make_network(s, Backend::Cuda, Precision::Float64);
  const Matrix x = make_inputs(s, a.input_width());
  qifsim::RunOptions o = options(1, 0, true);
  o.cuda_graphs = true;
  const qifsim::Observer with_graphs = a.run(x, o);
  o.cuda_graphs = false;
  const qifsim::Observer plain = b.run(x, o);
  EXPECT_TRUE(same_recording(with_graphs, plain, 0.0, 0.0));  // bit for bit
}

TEST(CudaBackend, Float32MatchesCpuFloat32OnANonChaoticNetwork) {
  REQUIRE_GPU();
  NetSpec s;
  s.coupling = 0.0;  // uncoupled: no chaos, differences stay at float32 rounding
  s.steps = 1000;
  qifsim::Network cpu = make_network(s, Backend::Cpu, Precision::Float32);
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float32);
  const Matrix x = make_inputs(s, s.n);
  qifsim::RunOptions o = options(10, 0, false);
  o.record_vars = {{"qif", "s", false}};
  const qifsim::Observer c = cpu.run(x, o);
  const qifsim::Observer g = gpu.run(x, o);
  ASSERT_EQ(g.steps(), c.steps());
  // s decays and jumps by 1 at spikes; the same spikes give s within float32 rounding of a
  // few hundred operations.
  const Matrix cs = c.to_matrix("qif", "s");
  EXPECT_TRUE(qtest::expect_matrix_close(g.to_matrix("qif", "s"), cs.rows, cs.cols, cs.data, 1e-4, 1e-4));
}

TEST(CudaBackend, ForwardAndVariablesMatchCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.n = 16;
  qifsim::Network cpu = make_network(s, Backend::Cpu, Precision::Float64);
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float64);
  gpu.set_var("qif", "v", {1.0});
  cpu.set_var("qif", "v", {1.0});
  gpu.set_var("qif", "eta", {3.0});
  cpu.set_var("qif", "eta", {3.0});
  std::vector<double> x(static_cast<std::size_t>(s.n), 25.0);
  for (int t = 0; t < 500; ++t) {
    const auto yc = cpu.forward(x);
    const auto yg = gpu.forward(x);
    ASSERT_TRUE(qtest::expect_close(yg, yc, 1e-10, 1e-10)) << "step " << t;
  }
  for (const char* var : {"v", "s", "spike", "s_in", "I_ext", "eta"}) {
    // get_var after forward: the state at the last step's start (the GPU keeps a copy).
    EXPECT_TRUE(qtest::expect_close(gpu.get_var("qif", var), cpu.get_var("qif", var), 1e-10, 1e-10)) << var;
    EXPECT_TRUE(qtest::expect_close(gpu.next_state("qif", var), cpu.next_state("qif", var), 1e-10, 1e-10)) << var;
  }
  gpu.reset();
  cpu.reset();
  EXPECT_TRUE(qtest::expect_close(gpu.get_var("qif", "v"), cpu.get_var("qif", "v"), 0.0, 0.0));
}

TEST(CudaBackend, TestModeLossMatchesCpu) {
  REQUIRE_GPU();
  NetSpec s;
  s.readout = true;
  qifsim::Network cpu = make_network(s, Backend::Cpu, Precision::Float64);
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float64);
  const Matrix x = make_inputs(s, 3);
  Matrix targets(s.steps, 4, 0.25);
  qifsim::RunOptions o = options(4, 8, true);
  o.record_loss = true;
  const auto c = cpu.test(x, targets, "mse", o);
  const auto g = gpu.test(x, targets, "mse", o);
  EXPECT_NEAR(g.loss, c.loss, 1e-9 * std::max(1.0, std::fabs(c.loss)));
  EXPECT_TRUE(same_recording(g.observer, c.observer, 1e-9, 1e-9));
}

// Stopping inside an output window and inside an input chunk (n = 3000: chunks of 349
// steps), then resuming, gives the uninterrupted run bit for bit, with CUDA Graphs on.
TEST(CudaBackend, StopAndResumeAcrossInputChunksEqualsUninterruptedRun) {
  REQUIRE_GPU();
  for (Precision precision : {Precision::Float64, Precision::Float32}) {
    NetSpec s;
    s.n = 3000;
    s.steps = 1500;
    const Matrix x = make_inputs(s, s.n);
    qifsim::RunOptions o = options(3, 101, false);
    o.batch_samples = 50;
    qifsim::Network a = make_network(s, Backend::Cuda, precision);
    const qifsim::Observer whole = a.run(x, o);

    qifsim::Network b = make_network(s, Backend::Cuda, precision);
    o.stop_at_step = 700;  // chunk 2 (698..1046), mid-window (700 % 3 != 0)
    qifsim::Observer parts(1e-3, true, false, o.record_vars);
    b.run(x, o, parts);
    ASSERT_TRUE(b.interrupted());
    EXPECT_EQ(b.step_count(), 700);
    EXPECT_EQ(parts.steps().back(), 699);
    o.stop_at_step = -1;
    o.resume = true;
    b.run(x, o, parts);
    EXPECT_EQ(b.step_count(), 1500);
    EXPECT_TRUE(same_recording(parts, whole, 0.0, 0.0)) << qifsim::to_string(precision);
    EXPECT_TRUE(qtest::expect_close(b.get_var("qif", "v"), a.get_var("qif", "v"), 0.0, 0.0));
  }
}

// A state that overflows is reported with node, variable, neuron and check step, and the
// samples taken before the error stay in the Observer (as on the CPU backend).
TEST(CudaBackend, DivergenceIsReportedAndTheSamplesKept) {
  REQUIRE_GPU();
  for (auto coupling : {qifsim::CudaCoupling::Cublas, qifsim::CudaCoupling::Fused}) {
    SCOPED_TRACE(coupling == qifsim::CudaCoupling::Fused ? "fused step" : "cuBLAS");
    qifsim::Network net = qtest::diverging_net(Backend::Cuda);
    qifsim::RunOptions o;
    o.progress = qifsim::Progress::Off;
    o.divergence_check_steps = 100;
    o.batch_samples = 16;
    o.cuda_coupling = coupling;
    qifsim::Observer obs(1e-3, true, false, {{"qif", "v", false}});
    try {
      net.run(Matrix(5000, 2, 0.0), o, obs);
      FAIL() << "no DivergenceError";
    } catch (const qifsim::DivergenceError& e) {
      // Either the state check (after step 100, read back without waiting) or the check of
      // the recorded samples (v is -inf from step 1 on) stops the run first.
      const std::string m = e.what();
      EXPECT_NE(m.find("'qif'"), std::string::npos) << m;
      EXPECT_NE(m.find("'v'"), std::string::npos) << m;
      EXPECT_NE(m.find("neuron 0"), std::string::npos) << m;
    }
    // Only the samples before the first non-finite one reach the observer.
    EXPECT_GE(net.step_count(), 16);
    EXPECT_LE(net.step_count(), 5000);
    ASSERT_EQ(obs.samples(), 1);
    EXPECT_EQ(obs.to_matrix("qif", "v")(0, 0), -2.0);
  }
}

TEST(CudaBackend, OutOfMemorySaysHowMuchWasAskedAndIsFree) {
  REQUIRE_GPU();
  // A one-unit input projected onto 480000 uncoupled neurons, every neuron's v recorded
  // through a device ring of 2 x 2^20 samples: 7.3 TiB, more than any GPU has.
  const std::int64_t n = 480000;
  qifsim::Network net(1e-3, Backend::Cuda, Precision::Float64);
  net.add_function("in", 1, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = n;
  net.add_population("qif", p);
  net.add_edge("in", "qif", Matrix(n, 1, 1.0));
  net.compile();
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.batch_samples = std::int64_t{1} << 20;
  qifsim::Observer obs(1e-3, false, false, {{"qif", "v", false}});
  obs.set_keep_in_memory(false);            // nothing held on the host ...
  obs.set_memory_budget(std::size_t{1} << 62);  // ... and no host limit: the GPU must refuse
  try {
    net.run(Matrix(std::int64_t{1} << 21, 1, 0.0), o, obs);
    FAIL() << "no error";
  } catch (const qifsim::MemoryBudgetError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("GPU memory"), std::string::npos) << m;
    EXPECT_NE(m.find("free of"), std::string::npos) << m;
  }
  EXPECT_EQ(obs.samples(), 0);
  EXPECT_EQ(net.step_count(), 0);
}

// ---- sparse and procedural coupling (RunOptions::coupling) against the CPU backend ----------

using qifsim::CouplingMode;
using qifsim::SparseMatrix;

// k random partners per neuron (no autapses), weight w * U(0.5, 1.5) each; with eta in
// [-5, -3] and input 15 every neuron fires regularly and the network is not chaotic (as in
// test_coupling.cpp): the backends' different summation orders stay at rounding level.
SparseMatrix random_sparse(std::int64_t n, std::int64_t k, double w, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, n - 1);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  std::vector<std::int64_t> row, col;
  std::vector<double> val;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t q = 0; q < k; ++q) {
      std::int64_t j = pick(rng);
      if (j == i) j = (j + 1) % n;
      row.push_back(i);
      col.push_back(j);
      val.push_back(w * u(rng));
    }
  }
  return SparseMatrix::from_coo(n, n, row, col, val);
}

qifsim::Network coupled_network(const qifsim::Weights& w, Backend backend, Precision precision) {
  const std::int64_t n = w.rows();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> e(-5.0, -3.0);
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (double& x : eta) x = e(rng);
  qifsim::Network net(1e-3, backend, precision);
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = w;
  p.eta = eta;
  net.add_population("qif", p);
  net.compile();
  return net;
}

qifsim::RunOptions coupling_options(CouplingMode mode) {
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.coupling = mode;
  o.record_vars = {{"qif", "v", false}, {"qif", "spike", false}, {"qif", "s_in", false}, {"qif", "s", true}};
  return o;
}

// Largest |a - b| / max(1, |b|) (test_coupling.cpp's measure).
double max_rel(const Matrix& a, const Matrix& b) {
  double m = a.data.size() == b.data.size() ? 0.0 : INFINITY;
  for (std::size_t i = 0; i < a.data.size() && i < b.data.size(); ++i) {
    const double d = std::fabs(a.data[i] - b.data[i]) / std::max(1.0, std::fabs(b.data[i]));
    m = std::max(m, std::isnan(d) ? INFINITY : d);
  }
  return m;
}

// Spike entries that differ, and the CPU's spike count.
std::pair<double, double> moved_spikes(const qifsim::Observer& gpu, const qifsim::Observer& cpu) {
  const Matrix g = gpu.to_matrix("qif.spike"), c = cpu.to_matrix("qif.spike");
  double moved = g.data.size() == c.data.size() ? 0.0 : INFINITY, spikes = 0.0;
  for (std::size_t i = 0; i < c.data.size() && i < g.data.size(); ++i) {
    spikes += c.data[i];
    moved += c.data[i] != g.data[i] ? 1.0 : 0.0;
  }
  return {moved, spikes};
}

// The same network on both backends with RunOptions::coupling = `mode`. float64: the same
// spike steps, and J s, the mean of s and v within 1e-12 relative (on the CPU, dense against
// sparse summation differs by about 1e-15 in J s and 2e-14 in v on these networks); float32:
// at most 0.1% of spike entries moved by a step (J s summed in another order) and the mean of s
// within 1e-3. The GPU's choice line must be `line` (when not empty).
void compare_coupling(const qifsim::Weights& w, CouplingMode mode, Precision precision, std::int64_t steps,
                      const std::string& line) {
  qifsim::Network cpu = coupled_network(w, Backend::Cpu, precision);
  qifsim::Network gpu = coupled_network(w, Backend::Cuda, precision);
  ASSERT_EQ(gpu.backend(), Backend::Cuda);
  const Matrix x(steps, w.rows(), 15.0);
  const qifsim::RunOptions o = coupling_options(mode);
  const qifsim::Observer c = cpu.run(x, o);
  const qifsim::Observer g = gpu.run(x, o);
  if (!line.empty()) {
    EXPECT_EQ(gpu.coupling_choice(), line);
  }
  EXPECT_EQ(gpu.coupling_choice(), cpu.coupling_choice()) << "both backends store J alike";
  ASSERT_EQ(g.steps(), c.steps());
  const auto [moved, spikes] = moved_spikes(g, c);
  EXPECT_GT(spikes, 2.0 * static_cast<double>(w.rows())) << "neurons should fire repeatedly";
  if (precision == Precision::Float64) {
    EXPECT_EQ(moved, 0.0) << "spike steps differ";
    EXPECT_LT(max_rel(g.to_matrix("qif.s_in"), c.to_matrix("qif.s_in")), 1e-12);
    EXPECT_LT(max_rel(g.to_matrix("qif.s"), c.to_matrix("qif.s")), 1e-12);
    EXPECT_LT(max_rel(g.to_matrix("qif.v"), c.to_matrix("qif.v")), 1e-12);
    EXPECT_TRUE(qtest::expect_close(gpu.get_var("qif", "s"), cpu.get_var("qif", "s"), 1e-12, 1e-12));
  } else {
    EXPECT_LE(moved, 1e-3 * spikes) << moved << " of " << spikes << " spike entries differ";
    EXPECT_LT(max_rel(g.to_matrix("qif.s"), c.to_matrix("qif.s")), 1e-3);
  }
}

TEST(CudaCoupling, SparseGivenMatchesCpuFloat64) {
  REQUIRE_GPU();
  const SparseMatrix m = random_sparse(400, 20, 0.5, 7);
  compare_coupling(m, CouplingMode::Auto, Precision::Float64, 3000, "'qif': sparse");
  compare_coupling(m, CouplingMode::Sparse, Precision::Float64, 3000, "'qif': sparse");
}

// A dense J made sparse once on upload (Weights::to_sparse: its zeros are not stored).
TEST(CudaCoupling, DenseConvertedToSparseMatchesCpuFloat64) {
  REQUIRE_GPU();
  compare_coupling(random_sparse(400, 20, 0.5, 8).to_dense(), CouplingMode::Sparse, Precision::Float64, 3000,
                   "'qif': sparse");
}

// The other way: a sparse J made dense once, through cuBLAS as a dense J is.
TEST(CudaCoupling, SparseConvertedToDenseMatchesCpuFloat64) {
  REQUIRE_GPU();
  compare_coupling(random_sparse(300, 20, 0.5, 9), CouplingMode::Dense, Precision::Float64, 3000, "'qif': dense");
}

// All-to-all weights: w * sum(s) with sum(s) in the one reduction order in double on both
// backends (5000 neurons: 20 blocks of 256, the last one part-filled), so the GPU is expected to
// equal the CPU bit for bit; the test holds it to the float64 tolerance above. Then a dense J of
// equal entries run procedurally on request.
TEST(CudaCoupling, ProceduralMatchesCpuFloat64) {
  REQUIRE_GPU();
  const std::int64_t n = 5000;
  compare_coupling(qifsim::Weights::all_to_all(n, n, 15.0 / static_cast<double>(n)), CouplingMode::Auto,
                   Precision::Float64, 3000, "'qif': procedural");
  compare_coupling(Matrix(300, 300, 15.0 / 300.0), CouplingMode::Procedural, Precision::Float64, 3000,
                   "'qif': procedural");
}

TEST(CudaCoupling, SparseAndProceduralFloat32MatchCpuFloat32) {
  REQUIRE_GPU();
  compare_coupling(random_sparse(400, 20, 0.5, 7), CouplingMode::Sparse, Precision::Float32, 3000, "'qif': sparse");
  const std::int64_t n = 3000;
  compare_coupling(qifsim::Weights::all_to_all(n, n, 15.0 / static_cast<double>(n)), CouplingMode::Auto,
                   Precision::Float32, 3000, "'qif': procedural");
}

// cuSPARSE's SpMV runs with CUSPARSE_SPMV_CSR_ALG2 (deterministic): a run replayed as CUDA Graphs
// equals plain launches bit for bit, and so does a second run of the same network. 700 steps:
// whole graphs of 32 steps and single steps after them.
TEST(CudaCoupling, SparseGraphReplayEqualsPlainLaunches) {
  REQUIRE_GPU();
  const SparseMatrix m = random_sparse(2000, 30, 0.3, 12);
  for (Precision precision : {Precision::Float64, Precision::Float32}) {
    SCOPED_TRACE(qifsim::to_string(precision));
    const Matrix x(700, m.rows, 15.0);
    qifsim::RunOptions o = coupling_options(CouplingMode::Sparse);
    qifsim::Network a = coupled_network(m, Backend::Cuda, precision);
    qifsim::Network b = coupled_network(m, Backend::Cuda, precision);
    qifsim::Network c = coupled_network(m, Backend::Cuda, precision);
    o.cuda_graphs = true;
    const qifsim::Observer graphs = a.run(x, o);
    const qifsim::Observer again = c.run(x, o);
    o.cuda_graphs = false;
    const qifsim::Observer plain = b.run(x, o);
    EXPECT_EQ(a.coupling_choice(), "'qif': sparse");
    EXPECT_TRUE(same_recording(graphs, plain, 0.0, 0.0));
    EXPECT_TRUE(same_recording(again, graphs, 0.0, 0.0));
    EXPECT_TRUE(qtest::expect_close(a.get_var("qif", "v"), b.get_var("qif", "v"), 0.0, 0.0));
  }
}

// Edges take the storage the coupling option gives them too: input -> population and
// population -> readout, plus input -> readout, whose product is added to the one before it
// (a sparse product through a scratch array, a procedural one in its fill).
qifsim::Network edge_network(Backend backend, bool uniform) {
  std::mt19937 rng(21);
  const std::int64_t n = 300;
  Matrix in_w = random_matrix(rng, n, 3, 0.0, 20.0);
  for (std::size_t i = 0; i < in_w.data.size(); i += 2) in_w.data[i] = 0.0;  // half the entries zero
  Matrix out_w = random_matrix(rng, 4, n, -1.0, 1.0);
  for (std::size_t i = 1; i < out_w.data.size(); i += 3) out_w.data[i] = 0.0;
  qifsim::Network net(1e-3, backend, Precision::Float64);
  net.add_function("inp", 3, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = n;
  if (uniform) {
    p.weights = qifsim::Weights::all_to_all(n, n, 10.0 / static_cast<double>(n));
  } else {
    p.weights = random_sparse(n, 20, 0.5, 13);
  }
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = -5.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n);
  p.eta = eta;
  net.add_population("qif", p);
  net.add_function("readout", 4, qifsim::Activation::Softmax);
  net.add_edge("inp", "qif", SparseMatrix::from_dense(in_w));
  if (uniform) {
    net.add_edge("qif", "readout", Matrix(4, n, 0.01));
    net.add_edge("inp", "readout", Matrix(4, 3, 0.5));
  } else {
    net.add_edge("qif", "readout", SparseMatrix::from_dense(out_w));
    net.add_edge("inp", "readout", random_matrix(rng, 4, 3, -0.5, 0.5));
  }
  net.compile();
  return net;
}

TEST(CudaCoupling, SparseAndProceduralEdgesMatchCpu) {
  REQUIRE_GPU();
  for (bool uniform : {false, true}) {
    SCOPED_TRACE(uniform ? "procedural" : "sparse");
    qifsim::Network cpu = edge_network(Backend::Cpu, uniform);
    qifsim::Network gpu = edge_network(Backend::Cuda, uniform);
    NetSpec s;
    s.steps = 1000;
    const Matrix x = make_inputs(s, 3);
    qifsim::RunOptions o = options(2, 0, true);
    o.coupling = uniform ? CouplingMode::Procedural : CouplingMode::Sparse;
    const qifsim::Observer c = cpu.run(x, o);
    const qifsim::Observer g = gpu.run(x, o);
    EXPECT_EQ(gpu.coupling_choice(), uniform ? "'qif': procedural" : "'qif': sparse");
    const auto [moved, spikes] = moved_spikes(g, c);
    EXPECT_GT(spikes, 50.0);
    EXPECT_EQ(moved, 0.0);
    EXPECT_LT(max_rel(g.to_matrix("qif.s_in"), c.to_matrix("qif.s_in")), 1e-12);
    EXPECT_LT(max_rel(g.to_matrix("readout.out"), c.to_matrix("readout.out")), 1e-12);
    EXPECT_LT(max_rel(g.to_matrix("qif.v"), c.to_matrix("qif.v")), 1e-12);
    // forward() takes the same operators.
    const std::vector<double> in{1.0, 2.0, 3.0};
    EXPECT_TRUE(qtest::expect_close(gpu.forward(in), cpu.forward(in), 1e-10, 1e-10));
  }
}

// Switching storage between runs converts the weights once and the runs go on from the state
// the last one left: dense, sparse, dense again equals the CPU doing the same.
TEST(CudaCoupling, SwitchingStorageBetweenRunsMatchesCpu) {
  REQUIRE_GPU();
  const SparseMatrix m = random_sparse(400, 20, 0.5, 17);
  qifsim::Network cpu = coupled_network(m, Backend::Cpu, Precision::Float64);
  qifsim::Network gpu = coupled_network(m, Backend::Cuda, Precision::Float64);
  const Matrix x(300, m.rows, 15.0);
  for (CouplingMode mode : {CouplingMode::Dense, CouplingMode::Sparse, CouplingMode::Dense}) {
    const qifsim::RunOptions o = coupling_options(mode);
    const qifsim::Observer c = cpu.run(x, o);
    const qifsim::Observer g = gpu.run(x, o);
    EXPECT_EQ(gpu.coupling_choice(), "'qif': " + qifsim::to_string(mode));
    EXPECT_EQ(moved_spikes(g, c).first, 0.0) << qifsim::to_string(mode);
    EXPECT_LT(max_rel(g.to_matrix("qif.s_in"), c.to_matrix("qif.s_in")), 1e-12) << qifsim::to_string(mode);
  }
}

TEST(CudaCoupling, EventsAreRefused) {
  REQUIRE_GPU();
  qifsim::Network net = coupled_network(random_sparse(100, 10, 0.5, 3), Backend::Cuda, Precision::Float64);
  qifsim::RunOptions o = coupling_options(CouplingMode::Events);
  qifsim::Observer obs(1e-3, true, false, o.record_vars);
  try {
    net.run(Matrix(10, 100, 15.0), o, obs);
    FAIL() << "no InvalidArgument";
  } catch (const qifsim::InvalidArgument& e) {
    // Network::run refuses first; the engine's own refusal names the population.
    const std::string m = e.what();
    EXPECT_NE(m.find("events"), std::string::npos) << m;
    EXPECT_NE(m.find("CPU"), std::string::npos) << m;
  }
  EXPECT_EQ(net.step_count(), 0);
  EXPECT_EQ(obs.samples(), 0);
  EXPECT_EQ(net.coupling_choice(), "'qif': sparse");  // unchanged
}

// The row-block and fused kernels read a dense J: other storage is refused before anything
// runs, and the same network runs with coupling = dense.
TEST(CudaCoupling, RowBlocksAndFusedRefuseOtherStorage) {
  REQUIRE_GPU();
  qifsim::Network net = coupled_network(random_sparse(200, 10, 0.5, 4), Backend::Cuda, Precision::Float64);
  const Matrix x(40, 200, 15.0);
  for (auto how : {qifsim::CudaCoupling::RowBlocks, qifsim::CudaCoupling::Fused}) {
    qifsim::RunOptions o = coupling_options(CouplingMode::Auto);
    o.cuda_coupling = how;
    try {
      net.run(x, o);
      FAIL() << "no InvalidArgument";
    } catch (const qifsim::InvalidArgument& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("'qif'"), std::string::npos) << m;
      EXPECT_NE(m.find("dense"), std::string::npos) << m;
    }
    EXPECT_EQ(net.step_count(), 0);
  }
  qifsim::RunOptions o = coupling_options(CouplingMode::Dense);
  o.cuda_coupling = qifsim::CudaCoupling::RowBlocks;
  EXPECT_NO_THROW(net.run(x, o));
  EXPECT_EQ(net.step_count(), 40);
}

}  // namespace

// ---- RectiPy's other neuron models on the GPU (kernels/model_step.cu) ------------------------

namespace {

// One population of `model` (N neurons, random J, per-neuron eta) behind an input node; every
// state variable recorded per neuron, the fraction spiking as a mean, the output recorded.
qifsim::Observer run_model(const std::string& model, Backend backend, std::int64_t n, std::int64_t steps) {
  std::mt19937 rng(11);
  const bool ik = model.rfind("ik", 0) == 0;
  const bool rate = model == "tanh" || model == "sigmoid";
  qifsim::Network net(ik ? 5e-2 : rate ? 1e-2 : 1e-3, backend, Precision::Float64);
  qifsim::NeuronPopulation p;
  p.model = model;
  p.n = n;
  p.weights = random_matrix(rng, n, n, -0.5, 1.0);
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    eta[static_cast<std::size_t>(i)] = (ik ? 60.0 : model == "lif" ? 300.0 : 0.2) * (1.0 + static_cast<double>(i) / n);
  }
  p.values["eta"] = eta;
  if (ik) {
    p.values["v_threshold"] = 30.0;
    p.values["v_reset"] = -65.0;
  }
  net.add_function("inp", 2, qifsim::Activation::Identity);
  net.add_population("pop", p);
  net.add_edge("inp", "pop", random_matrix(rng, n, 2, 0.0, ik ? 100.0 : 1.0));
  net.compile();
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.sampling_steps = 3;
  opt.cutoff = 5;
  for (const std::string& var : net.var_names("pop")) {  // each state per neuron, the spikes' mean
    const bool state = var == "v" || var == "u" || var == "x" || var == "r" || (var == "s" && !rate);
    if (state) opt.record_vars.push_back({"pop", var, false});
    if (var == "spike") opt.record_vars.push_back({"pop", var, true});
  }
  Matrix inputs(steps, 2);
  for (std::int64_t t = 0; t < steps; ++t) {
    inputs.data[static_cast<std::size_t>(2 * t)] = 1.0 + std::sin(0.01 * static_cast<double>(t));
    inputs.data[static_cast<std::size_t>(2 * t + 1)] = 0.5;
  }
  return net.run(inputs, opt);
}

void expect_model_matches_cpu(const std::string& model, std::int64_t n) {
  const qifsim::Observer cpu = run_model(model, Backend::Cpu, n, 3000);
  const qifsim::Observer gpu = run_model(model, Backend::Cuda, n, 3000);
  for (const std::string& key : cpu.keys()) {
    EXPECT_TRUE(qtest::expect_rel(gpu.to_matrix(key).data, cpu.to_matrix(key).data, 1e-9)) << model << ": " << key;
  }
}

}  // namespace

TEST(CudaModels, LifMatchesCpu) {
  REQUIRE_GPU();
  expect_model_matches_cpu("lif", 300);
}
TEST(CudaModels, IkMatchesCpu) {
  REQUIRE_GPU();
  expect_model_matches_cpu("ik", 300);
}
TEST(CudaModels, IkuMeansMatchCpuOverManyBlocks) {
  REQUIRE_GPU();
  expect_model_matches_cpu("iku", 1000);  // the population means cross four reduction blocks
}
TEST(CudaModels, IkBiexpMatchesCpu) {
  REQUIRE_GPU();
  expect_model_matches_cpu("ik_biexp", 300);
}
TEST(CudaModels, LeakyIntegratorsMatchCpu) {
  REQUIRE_GPU();
  expect_model_matches_cpu("tanh", 300);
  expect_model_matches_cpu("sigmoid", 300);
}

// The GPU tests above compare against this network on the CPU: it must spike (spiking models)
// and stay finite, or the comparisons would be vacuous. Runs everywhere.
TEST(CudaModels, TheComparedNetworksSpikeOnTheCpu) {
  for (const std::string model : {"lif", "ik", "iku", "ik_biexp", "tanh", "sigmoid"}) {
    const qifsim::Observer cpu = run_model(model, Backend::Cpu, 300, 3000);
    const bool rate = model == "tanh" || model == "sigmoid";
    ASSERT_EQ(cpu.keys().size(), rate ? 3u : model == "lif" ? 4u : model == "ik_biexp" ? 6u : 5u) << model;
    if (!rate) {
      double spikes = 0.0;
      for (double z : cpu.to_matrix("pop", "spike").data) spikes += z;
      EXPECT_GT(spikes, 0.05) << model << ": the population hardly spikes";
    }
    for (const std::string& key : cpu.keys()) {
      for (double x : cpu.to_matrix(key).data) ASSERT_TRUE(std::isfinite(x)) << model << ": " << key;
    }
  }
}

namespace {

// RunOptions::reproducible: the GPU sums J s and every edge's W x in the CPU's order (dense: the
// eight lanes of host/cpu/blas.hpp; sparse: ascending columns), the neuron means in the one
// reduction order, and the neuron step is the same __host__ __device__ code built without FMA:
// the population's recordings equal the CPU's bit for bit. The softmax readout goes through
// exp, whose last bit the two math libraries may round differently.
qifsim::Network make_reproducible_network(bool sparse, Backend backend, Precision precision) {
  std::mt19937 rng(17);
  const std::int64_t n = 301;
  Matrix J = random_matrix(rng, n, n, 0.0, 40.0 / static_cast<double>(n));
  std::bernoulli_distribution keep(0.3);
  if (sparse) {
    for (double& v : J.data) v = keep(rng) ? v / 0.3 : 0.0;
  }
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = sparse ? qifsim::Weights(qifsim::SparseMatrix::from_dense(J)) : qifsim::Weights(J);
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = -5.0 + 10.0 * static_cast<double>(i) / static_cast<double>(n);
  p.eta = eta;
  qifsim::Network net(1e-3, backend, precision);
  net.add_function("inp", 3, qifsim::Activation::Identity);
  net.add_population("qif", p);
  net.add_function("readout", 4, qifsim::Activation::Softmax);
  net.add_edge("inp", "qif", random_matrix(rng, n, 3, 0.0, 20.0));
  net.add_edge("qif", "readout", random_matrix(rng, 4, n, -1.0, 1.0));
  net.compile();
  return net;
}

TEST(CudaReproducible, ThePopulationRecordsTheCpusBitsDenseAndSparse) {
  REQUIRE_GPU();
  for (const bool sparse : {false, true}) {
    for (const Precision precision : {Precision::Float64, Precision::Float32}) {
      SCOPED_TRACE(std::string(sparse ? "sparse " : "dense ") + (precision == Precision::Float64 ? "float64" : "float32"));
      qifsim::Network cpu = make_reproducible_network(sparse, Backend::Cpu, precision);
      qifsim::Network gpu = make_reproducible_network(sparse, Backend::Cuda, precision);
      ASSERT_EQ(gpu.backend(), Backend::Cuda);
      NetSpec s;
      s.steps = 1500;
      const Matrix x = make_inputs(s, 3);
      qifsim::RunOptions o = options(3, 0, true);
      o.coupling = sparse ? qifsim::CouplingMode::Sparse : qifsim::CouplingMode::Dense;
      o.reproducible = true;
      const qifsim::Observer want = cpu.run(x, o);
      const qifsim::Observer got = gpu.run(x, o);
      ASSERT_EQ(got.keys(), want.keys());
      double spikes = 0.0;
      for (double v : want.to_matrix("qif", "spike").data) spikes += v;
      EXPECT_GT(spikes, 50.0) << "the comparison should cover many spikes";
      for (const std::string& key : want.keys()) {
        const Matrix a = got.to_matrix(key), b = want.to_matrix(key);
        ASSERT_EQ(a.data.size(), b.data.size()) << key;
        const bool exact = key.rfind("qif", 0) == 0;
        for (std::size_t i = 0; i < a.data.size(); ++i) {
          if (exact) {
            ASSERT_EQ(a.data[i], b.data[i]) << key << "[" << i << "]";
          } else {
            ASSERT_NEAR(a.data[i], b.data[i], 1e-12 + 1e-6 * std::fabs(b.data[i])) << key << "[" << i << "]";
          }
        }
      }
    }
  }
}

TEST(CudaReproducible, TheFusedAndRowBlockStepsAreRefusedInTheMode) {
  REQUIRE_GPU();
  NetSpec s;
  s.steps = 10;
  qifsim::Network gpu = make_network(s, Backend::Cuda, Precision::Float64);
  qifsim::RunOptions o = options(1, 0, false);
  o.reproducible = true;
  for (const auto how : {qifsim::CudaCoupling::Fused, qifsim::CudaCoupling::RowBlocks}) {
    o.cuda_coupling = how;
    EXPECT_THROW(gpu.run(make_inputs(s, gpu.input_width()), o), qifsim::InvalidArgument);
  }
}

}  // namespace
