// tests/test_mpi_network.cpp - one network split over MPI ranks (Network::set_communicator), run
// under `mpirun -np R` for R = 1..4 (tests/CMakeLists.txt): in RunOptions::reproducible, every
// recording equals, bit for bit, the same network run in one process (built beside it in the
// same test, without the communicator), for every coupling operator (dense, sparse,
// procedural, events), float32 and float64, on populations whose sizes are not multiples of
// the 256-neuron blocks (601 has three blocks: a fourth rank holds none of them). The network
// has what a split run exchanges: an input edge into the split population, a recurrent J, an
// edge between two split populations, a readout of one (its output v), noise, recorded means,
// per-neuron values, chosen neurons and spike events.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "qifsim/mpi.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using qifsim::CouplingMode;
using qifsim::Matrix;
using qifsim::Network;
using qifsim::Observer;
using qifsim::Precision;
using qifsim::RunOptions;
using qifsim::Weights;

constexpr std::int64_t kIn = 2;
constexpr std::int64_t kOut = 3;
constexpr std::int64_t kSecond = 300;  // the second population: two blocks, a rank of 3 or 4 holds none
constexpr std::int64_t kSteps = 240;

qifsim::Communicator& world() {
  static qifsim::Communicator c = qifsim::mpi_communicator(MPI_COMM_WORLD);
  return c;
}

// rows x cols weights for `mode`: all equal (procedural), about a tenth of the entries (sparse,
// events), or every entry, of both signs (dense). The same on every rank (one seed).
Weights draw_weights(CouplingMode mode, std::int64_t rows, std::int64_t cols, double gain, unsigned seed) {
  if (mode == CouplingMode::Procedural) return Weights::all_to_all(rows, cols, gain / static_cast<double>(cols));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Matrix m(rows, cols);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) {
      const double w = u(rng);
      m(i, j) = mode == CouplingMode::Dense ? (w - 0.3) * 4.0 * gain / static_cast<double>(cols)
                : w < 0.1                   ? 20.0 * gain * w / static_cast<double>(cols)
                                            : 0.0;
    }
  }
  if (mode == CouplingMode::Sparse || mode == CouplingMode::Events) return Weights(Weights(m).to_sparse());
  return m;
}

// The same, drawn once for both networks of a test (Weights share their matrix).
Weights weights(CouplingMode mode, std::int64_t rows, std::int64_t cols, double gain, unsigned seed) {
  static std::map<std::tuple<int, std::int64_t, std::int64_t, double, unsigned>, Weights> drawn;
  const auto key = std::make_tuple(static_cast<int>(mode), rows, cols, gain, seed);
  auto it = drawn.find(key);
  if (it == drawn.end()) it = drawn.emplace(key, draw_weights(mode, rows, cols, gain, seed)).first;
  return it->second;
}

Matrix dense(std::int64_t rows, std::int64_t cols, double scale, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Matrix m(rows, cols);
  for (double& x : m.data) x = scale * u(rng);
  return m;
}

// inp (2) -> qif (n, recurrent J, noise) -> second (300 QIF, output v, recurrent J) -> out (3, tanh).
Network build(std::int64_t n, CouplingMode mode, Precision precision, bool split) {
  Network net(1e-2, qifsim::Backend::Cpu, precision);
  if (split) net.set_communicator(world());
  net.add_function("inp", kIn, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = weights(mode, n, n, 1.0, 7);
  std::vector<double> eta(static_cast<std::size_t>(n)), v0(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    eta[static_cast<std::size_t>(i)] = -1.0 + std::tan(3.1 * (static_cast<double>(i) + 0.5) / static_cast<double>(n) - 1.55) * 0.3;
    v0[static_cast<std::size_t>(i)] = -2.0 + 0.003 * static_cast<double>(i % 97);
  }
  p.eta = eta;
  p.v0 = v0;
  p.tau = 1.0;
  p.tau_s = 0.5;
  p.k = 1.2;
  net.add_population("qif", p);
  qifsim::QifPopulation q;
  q.n = kSecond;
  q.weights = weights(mode, kSecond, kSecond, 0.8, 11);
  q.eta = 2.0;
  q.v0 = -1.0;
  q.tau = 1.0;
  q.tau_s = 0.5;
  q.output_var = "v";
  net.add_population("second", q);
  Matrix w_in(n, kIn);
  for (std::int64_t i = 0; i < n; ++i) {
    w_in(i, 0) = 1.0 + 0.01 * static_cast<double>(i % 7);
    w_in(i, 1) = -0.5;
  }
  net.add_edge("inp", "qif", w_in);
  net.add_edge("qif", "second", dense(kSecond, n, 4.0 / static_cast<double>(n), 5));
  net.add_function("out", kOut, qifsim::Activation::Tanh);
  net.add_edge("second", "out", dense(kOut, kSecond, 0.01, 3));
  net.add_noise("qif", qifsim::NoiseInput{0.4, 123});
  net.compile();
  return net;
}

Matrix inputs() {
  Matrix x(kSteps, kIn);
  for (std::int64_t t = 0; t < kSteps; ++t) {
    x(t, 0) = 8.0 + 4.0 * std::sin(0.05 * static_cast<double>(t));
    x(t, 1) = 0.5;
  }
  return x;
}

RunOptions options(CouplingMode mode, std::int64_t n) {
  RunOptions o;
  o.coupling = mode;
  o.resync = 50;  // events: three resyncs (fresh products) in the run, and the spikes between
  o.reproducible = true;
  o.progress = qifsim::Progress::Off;
  o.sampling_steps = 2;
  // Means the QIF loop sums (s, v) and means summed apart (s_in, I_ext), every neuron, chosen ones.
  o.record_vars = {{"qif", "v", false},          {"qif", "s", true},
                   {"qif", "s_in", true},        {"qif", "spike", false, {0, 5, 300, n - 1}},
                   {"second", "v", true},        {"second", "s_in", false},
                   {"second", "I_ext", true},    {"second", "s", false, {299, 0}}};
  o.record_spikes = {"qif", "second"};
  return o;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Where two recordings first differ ("" when every series and spike list is the same, bit for bit).
std::string first_difference(const Observer& split, const Observer& one) {
  if (split.keys() != one.keys()) return "the keys differ";
  if (split.steps() != one.steps()) return "the sample steps differ";
  for (const std::string& key : one.keys()) {
    const Matrix a = split.to_matrix(key), b = one.to_matrix(key);
    if (a.rows != b.rows || a.cols != b.cols) return key + ": the shapes differ";
    for (std::size_t i = 0; i < a.data.size(); ++i) {
      if (std::memcmp(&a.data[i], &b.data[i], sizeof(double)) != 0) {
        return key + "[" + std::to_string(i / static_cast<std::size_t>(a.cols)) + ", " +
               std::to_string(i % static_cast<std::size_t>(a.cols)) + "]: " + std::to_string(a.data[i]) + " split, " +
               std::to_string(b.data[i]) + " in one process";
      }
    }
  }
  for (const char* pop : {"qif", "second"}) {
    if (split.spike_steps(pop) != one.spike_steps(pop) || split.spike_neurons(pop) != one.spike_neurons(pop)) {
      return std::string(pop) + ": the spike events differ (" + std::to_string(split.spike_count(pop)) + " split, " +
             std::to_string(one.spike_count(pop)) + " in one process)";
    }
  }
  return "";
}

using Case = std::tuple<std::int64_t, CouplingMode, Precision>;

class SplitOverRanks : public ::testing::TestWithParam<Case> {};

TEST_P(SplitOverRanks, RecordsWhatOneProcessRecordsBitForBit) {
  const auto [n, mode, precision] = GetParam();
  Network split = build(n, mode, precision, true);
  Network one = build(n, mode, precision, false);
  const Matrix x = inputs();
  const Observer a = split.run(x, options(mode, n));
  const Observer b = one.run(x, options(mode, n));
  EXPECT_EQ(split.coupling_choice(), one.coupling_choice());
  EXPECT_EQ(first_difference(a, b), "") << "rank " << world().rank() << " of " << world().size();
  // The network does spike (the event path and the spike lists are exercised).
  EXPECT_GT(b.spike_count("qif"), 0);
  EXPECT_GT(b.spike_count("second"), 0);
  // The state after the run, read whole on every rank, and a parameter set whole.
  for (const char* var : {"v", "s", "eta"}) {
    EXPECT_TRUE(same_bits(split.get_var("qif", var), one.get_var("qif", var))) << "qif." << var;
  }
  EXPECT_TRUE(same_bits(split.get_var("second", "v"), one.get_var("second", "v")));
  EXPECT_TRUE(same_bits(split.get_var("out", "out"), one.get_var("out", "out")));
  // A second run continues from there, after set_var of a per-neuron parameter.
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = 0.5 - 0.001 * static_cast<double>(i);
  split.set_var("qif", "eta", eta);
  one.set_var("qif", "eta", eta);
  const Observer c = split.run(x, options(mode, n));
  const Observer d = one.run(x, options(mode, n));
  EXPECT_EQ(first_difference(c, d), "") << "second run, rank " << world().rank() << " of " << world().size();
}

INSTANTIATE_TEST_SUITE_P(
    Operators, SplitOverRanks,
    ::testing::Combine(::testing::Values(std::int64_t{601}, std::int64_t{2500}),
                       ::testing::Values(CouplingMode::Dense, CouplingMode::Sparse, CouplingMode::Procedural,
                                         CouplingMode::Events),
                       ::testing::Values(Precision::Float64, Precision::Float32)),
    [](const ::testing::TestParamInfo<Case>& p) {
      return "n" + std::to_string(std::get<0>(p.param)) + "_" + qifsim::to_string(std::get<1>(p.param)) + "_" +
             (std::get<2>(p.param) == Precision::Float64 ? "f64" : "f32");
    });

// Step by step (RectiPy's loop): forward() gives every rank the output one process gets.
TEST(SplitOverRanksForward, StepsAsOneProcess) {
  Network split = build(601, CouplingMode::Dense, Precision::Float64, true);
  Network one = build(601, CouplingMode::Dense, Precision::Float64, false);
  const Matrix x = inputs();
  for (std::int64_t t = 0; t < 40; ++t) {
    const std::vector<double> row(x.data.begin() + t * kIn, x.data.begin() + (t + 1) * kIn);
    EXPECT_TRUE(same_bits(split.forward(row), one.forward(row))) << "step " << t;  // (every rank steps on)
  }
  EXPECT_TRUE(same_bits(split.get_var("qif", "v"), one.get_var("qif", "v")));
}

// The population itself as the input and output node (RectiPy's plain network: one input
// column per neuron, the output its s), with Poisson input and noise: each rank takes its own
// neurons' columns of every input row.
TEST(SplitOverRanksInputPopulation, RecordsWhatOneProcessRecordsBitForBit) {
  constexpr std::int64_t n = 601;
  for (const CouplingMode mode : {CouplingMode::Sparse, CouplingMode::Events}) {
    Network nets[2];
    for (int k = 0; k < 2; ++k) {
      Network net(1e-2, qifsim::Backend::Cpu, Precision::Float64);
      if (k == 0) net.set_communicator(world());
      qifsim::QifPopulation p;
      p.n = n;
      p.weights = weights(mode, n, n, 1.0, 13);
      p.eta = -1.0;
      p.v0 = -2.0;
      p.tau_s = 0.5;
      net.add_population("qif", p);
      net.add_noise("qif", qifsim::NoiseInput{0.3, 5});
      net.add_poisson_input("qif", qifsim::PoissonInput{20.0, 0.2, 10, false, 9});
      net.compile();
      nets[k] = std::move(net);
    }
    Matrix x(200, n);
    for (std::int64_t t = 0; t < x.rows; ++t) {
      for (std::int64_t i = 0; i < n; ++i) x(t, i) = 2.0 + 3.0 * std::sin(0.01 * static_cast<double>(t * (i % 13)));
    }
    RunOptions o;
    o.coupling = mode;
    o.reproducible = true;
    o.progress = qifsim::Progress::Off;
    o.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
    o.record_spikes = {"qif"};
    const Observer a = nets[0].run(x, o);
    const Observer b = nets[1].run(x, o);
    EXPECT_GT(b.spike_count("qif"), 0);
    const Matrix ya = a.to_matrix("out"), yb = b.to_matrix("out");
    EXPECT_EQ(ya.cols, n);
    EXPECT_TRUE(same_bits(ya.data, yb.data)) << qifsim::to_string(mode);
    EXPECT_TRUE(same_bits(a.to_matrix("qif.v").data, b.to_matrix("qif.v").data)) << qifsim::to_string(mode);
    EXPECT_TRUE(same_bits(a.to_matrix("qif.s").data, b.to_matrix("qif.s").data)) << qifsim::to_string(mode);
    EXPECT_EQ(a.spike_neurons("qif"), b.spike_neurons("qif")) << qifsim::to_string(mode);
    EXPECT_EQ(a.spike_steps("qif"), b.spike_steps("qif")) << qifsim::to_string(mode);
  }
}

// 513 neurons: on 2 to 4 ranks one rank holds a single neuron, whose per-neuron tau_s and eta
// look like one value for all there. Every rank still chooses the coupling alike (auto: not
// events, as tau_s varies) and get_var gathers every neuron's value.
TEST(SplitOverRanksOneNeuron, PerNeuronValuesStayPerNeuronOnARankWithOneNeuron) {
  constexpr std::int64_t n = 513;
  std::vector<double> tau_s(n), eta(n);
  for (std::int64_t i = 0; i < n; ++i) {
    tau_s[static_cast<std::size_t>(i)] = 0.4 + 0.001 * static_cast<double>(i);
    eta[static_cast<std::size_t>(i)] = 1.0 + 0.01 * static_cast<double>(i % 50);
  }
  Network nets[2];
  for (int k = 0; k < 2; ++k) {
    Network net(1e-2, qifsim::Backend::Cpu, Precision::Float64);
    if (k == 0) net.set_communicator(world());
    qifsim::QifPopulation p;
    p.n = n;
    p.weights = weights(CouplingMode::Sparse, n, n, 1.0, 17);
    p.eta = eta;
    p.tau_s = tau_s;
    p.v0 = -2.0;
    net.add_population("qif", p);
    net.compile();
    nets[k] = std::move(net);
  }
  EXPECT_EQ(nets[0].coupling_choice(), nets[1].coupling_choice());
  EXPECT_TRUE(same_bits(nets[0].get_var("qif", "tau_s"), tau_s));
  EXPECT_TRUE(same_bits(nets[0].get_var("qif", "eta"), eta));
  Matrix x(150, n);
  for (double& v : x.data) v = 3.0;
  RunOptions o;
  o.reproducible = true;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "v", false}};
  o.record_spikes = {"qif"};
  const Observer a = nets[0].run(x, o);
  const Observer b = nets[1].run(x, o);
  EXPECT_EQ(nets[0].coupling_choice(), nets[1].coupling_choice());
  EXPECT_GT(b.spike_count("qif"), 0);
  EXPECT_TRUE(same_bits(a.to_matrix("qif.v").data, b.to_matrix("qif.v").data));
  EXPECT_EQ(a.spike_neurons("qif"), b.spike_neurons("qif"));
}

// What a split network refuses in this version says so.
TEST(SplitOverRanksLimits, CheckpointsAndSweepsAreRefusedByName) {
  if (world().size() < 2) GTEST_SKIP() << "one rank: the network is not split";
  Network split = build(601, CouplingMode::Dense, Precision::Float64, true);
  try {
    split.save_checkpoint("never-written.qckpt");
    FAIL() << "save_checkpoint over ranks was not refused";
  } catch (const qifsim::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("ranks"), std::string::npos) << e.what();
  }
  RunOptions o = options(CouplingMode::Dense, 601);
  o.sweep.keys.push_back(qifsim::SweepKey::numbers("qif.eta", {-1.0, 1.0}));
  EXPECT_THROW(split.run(inputs(), o), qifsim::InvalidArgument);
}

}  // namespace

int main(int argc, char** argv) {
  qifsim::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) GTEST_FLAG_SET(brief, true);  // the other ranks print their failures only
  const int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
