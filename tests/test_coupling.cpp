// tests/test_coupling.cpp - sparse, procedural and event-driven coupling operators and the
// `coupling` run option. References: SparseMatrix checked against dense matrices built by plain
// loops in the test; networks checked against the spec's naive reference (reference_qif.hpp,
// dense J from the same triplets) and against each other.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"
#include "reference_qif.hpp"
#include "test_util.hpp"

namespace {

using qifsim::CouplingMode;
using qifsim::Matrix;
using qifsim::SparseMatrix;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const qifsim::Error& e) {
    return e.what();
  }
  return "";
}

// ---- SparseMatrix ------------------------------------------------------------------------

TEST(SparseMatrix, CooIsSortedAndDuplicatesSummedAsScipyDoes) {
  // (1,2) twice and columns out of order in row 0.
  const SparseMatrix m = SparseMatrix::from_coo(3, 4, {0, 1, 0, 1, 2, 0}, {3, 2, 1, 2, 0, 0}, {1.0, 2.0, 3.0, 4.0, 5.0, 6.0});
  double want[3][4] = {};
  want[0][3] += 1.0, want[1][2] += 2.0, want[0][1] += 3.0, want[1][2] += 4.0, want[2][0] += 5.0, want[0][0] += 6.0;
  const Matrix d = m.to_dense();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_EQ(d(i, j), want[i][j]) << i << "," << j;
  }
  EXPECT_EQ(m.nnz(), 5);
  EXPECT_NO_THROW(m.validate());
  EXPECT_EQ(m.indptr, (std::vector<std::int64_t>{0, 3, 4, 5}));
  EXPECT_EQ(m.indices, (std::vector<std::int32_t>{0, 1, 3, 2, 0}));
}

TEST(SparseMatrix, CsrAndCscGiveTheSameMatrix) {
  // [[0, 7, 0], [1, 0, 2]] as CSR and as CSC (unsorted rows within a column).
  const SparseMatrix csr = SparseMatrix::from_csr(2, 3, {0, 1, 3}, {1, 2, 0}, {7.0, 2.0, 1.0});
  const SparseMatrix csc = SparseMatrix::from_csc(2, 3, {0, 1, 2, 3}, {1, 0, 1}, {1.0, 7.0, 2.0});
  const Matrix want(2, 3, std::vector<double>{0, 7, 0, 1, 0, 2});
  EXPECT_EQ(csr.to_dense().data, want.data);
  EXPECT_EQ(csc.to_dense().data, want.data);
  EXPECT_EQ(SparseMatrix::from_dense(want).to_dense().data, want.data);
  EXPECT_EQ(SparseMatrix::from_dense(want).nnz(), 3);
}

TEST(SparseMatrix, BadArraysAreRefusedNamingTheFault) {
  EXPECT_TRUE(contains(error_of([] { SparseMatrix::from_csr(2, 2, {0, 1}, {0}, {1.0}, "J"); }), "indptr has 2 entries; expected 3"));
  EXPECT_TRUE(contains(error_of([] { SparseMatrix::from_csr(2, 2, {0, 2, 1}, {0}, {1.0}, "J"); }), "indptr decreases"));
  EXPECT_TRUE(contains(error_of([] { SparseMatrix::from_csr(2, 2, {0, 1, 2}, {0, 5}, {1.0, 1.0}, "J"); }), "column index 5"));
  EXPECT_TRUE(contains(error_of([] { SparseMatrix::from_csr(2, 2, {0, 1, 3}, {0, 1}, {1.0, 1.0}, "J"); }), "indptr ends at 3"));
  EXPECT_TRUE(contains(error_of([] { SparseMatrix::from_coo(2, 2, {0}, {0}, {NAN}, "J"); }), "not finite") ||
              contains(error_of([] { SparseMatrix::from_coo(2, 2, {0}, {0}, {NAN}, "J"); }), "finite"));
  EXPECT_TRUE(contains(error_of([] { SparseMatrix::from_coo(2, 2, {2}, {0}, {1.0}, "J"); }), "outside the (2, 2) matrix"));
  SparseMatrix m = SparseMatrix::from_coo(2, 2, {0, 0}, {0, 1}, {1.0, 2.0});
  std::swap(m.indices[0], m.indices[1]);
  EXPECT_TRUE(contains(error_of([&] { m.validate("hand-made"); }), "out of order"));
}

// ---- networks ------------------------------------------------------------------------------

// k random presynaptic partners per neuron (no autapses), weight w each; eta spread so that the
// network is not chaotic and every neuron fires regularly under input 15.
struct SparseNet {
  std::int64_t n;
  std::vector<std::int64_t> row, col;
  std::vector<double> val;
  std::vector<double> eta;
};

SparseNet make_sparse(std::int64_t n, std::int64_t k, double w, unsigned seed) {
  SparseNet d{n, {}, {}, {}, std::vector<double>(static_cast<std::size_t>(n))};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, n - 1);
  std::uniform_real_distribution<double> e(-5.0, -3.0), u(0.5, 1.5);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t q = 0; q < k; ++q) {
      std::int64_t j = pick(rng);
      if (j == i) j = (j + 1) % n;
      d.row.push_back(i);
      d.col.push_back(j);  // repeats allowed: summed
      d.val.push_back(w * u(rng));
    }
  }
  for (double& x : d.eta) x = e(rng);
  return d;
}

std::vector<double> dense_of(const SparseNet& d) {
  std::vector<double> J(static_cast<std::size_t>(d.n * d.n), 0.0);
  for (std::size_t q = 0; q < d.val.size(); ++q) J[static_cast<std::size_t>(d.row[q] * d.n + d.col[q])] += d.val[q];
  return J;
}

qifsim::Network network(std::int64_t n, qifsim::Weights w, const std::vector<double>& eta,
                        qifsim::Precision precision = qifsim::Precision::Float64) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, precision);
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = std::move(w);
  p.eta = eta;
  net.add_population("qif", p);
  net.compile();
  return net;
}

qifsim::RunOptions opts(CouplingMode c, std::int64_t resync = 0) {
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.coupling = c;
  o.resync = resync;
  o.record_vars = {{"qif", "v", false}, {"qif", "spike", false}, {"qif", "s_in", false}};
  return o;
}

// The naive reference's v, spikes and s_in at the start of each step.
struct RefRun {
  Matrix v, spike, s_in;
};
RefRun reference(const SparseNet& d, std::int64_t steps, double input) {
  ref::QifParams p = ref::QifParams::defaults(static_cast<int>(d.n));
  p.J = dense_of(d);
  p.eta = d.eta;
  ref::QifPop pop(p);
  RefRun r{Matrix(steps, d.n), Matrix(steps, d.n), Matrix(steps, d.n)};
  const std::vector<double> I(static_cast<std::size_t>(d.n), input);
  for (std::int64_t t = 0; t < steps; ++t) {
    const std::vector<double> spk = pop.spike_delta(1e-3);  // what `spike` records: 1 / dt
    for (std::int64_t i = 0; i < d.n; ++i) {
      r.v(t, i) = pop.v[static_cast<std::size_t>(i)];
      r.spike(t, i) = spk[static_cast<std::size_t>(i)];
    }
    pop.step(I, 1e-3);
    for (std::int64_t i = 0; i < d.n; ++i) r.s_in(t, i) = pop.s_in[static_cast<std::size_t>(i)];
  }
  return r;
}

double max_rel(const Matrix& a, const Matrix& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    m = std::max(m, std::fabs(a.data[i] - b.data[i]) / std::max(1.0, std::fabs(b.data[i])));
  }
  return m;
}

TEST(Coupling, EveryOperatorMatchesTheReference) {
  const std::int64_t n = 400, steps = 3000;
  const SparseNet d = make_sparse(n, 20, 0.5, 7);
  const RefRun want = reference(d, steps, 15.0);
  double spikes = 0.0;
  for (double x : want.spike.data) spikes += x;
  ASSERT_GT(spikes, 3.0 * static_cast<double>(n)) << "neurons should fire repeatedly";
  const SparseMatrix sm = SparseMatrix::from_coo(n, n, d.row, d.col, d.val);
  const Matrix dense(n, n, dense_of(d));
  struct Case {
    const char* name;
    qifsim::Weights w;
    CouplingMode mode;
    std::int64_t resync;
  };
  const std::vector<Case> cases = {
      {"dense given, dense", dense, CouplingMode::Dense, 0},    {"dense given, sparse", dense, CouplingMode::Sparse, 0},
      {"sparse given, sparse", sm, CouplingMode::Sparse, 0},    {"sparse given, dense", sm, CouplingMode::Dense, 0},
      {"sparse given, events", sm, CouplingMode::Events, 0},    {"sparse given, events R=7", sm, CouplingMode::Events, 7},
      {"dense given, events", dense, CouplingMode::Events, 0},  {"sparse given, auto", sm, CouplingMode::Auto, 0},
  };
  const Matrix x(steps, n, 15.0);
  for (const Case& c : cases) {
    qifsim::Network net = network(n, c.w, d.eta);
    const qifsim::Observer obs = net.run(x, opts(c.mode, c.resync));
    EXPECT_EQ(obs.to_matrix("qif", "spike").data, want.spike.data) << c.name << ": spike steps differ";
    EXPECT_LT(max_rel(obs.to_matrix("qif", "s_in"), want.s_in), 1e-12) << c.name;
    // v near threshold amplifies rounding through v^2 (as in test_event_coupling.cpp).
    EXPECT_LT(max_rel(obs.to_matrix("qif", "v"), want.v), 1e-9) << c.name;
  }
}

TEST(Coupling, ProceduralAllToAllMatchesTheReference) {
  const std::int64_t n = 300, steps = 3000;
  SparseNet d{n, {}, {}, {}, std::vector<double>(static_cast<std::size_t>(n))};
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> e(-5.0, -3.0);
  for (double& x : d.eta) x = e(rng);
  const double w = 15.0 / static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      d.row.push_back(i);
      d.col.push_back(j);
      d.val.push_back(w);
    }
  }
  const RefRun want = reference(d, steps, 15.0);
  const Matrix x(steps, n, 15.0);
  for (CouplingMode mode : {CouplingMode::Auto, CouplingMode::Procedural, CouplingMode::Events}) {
    qifsim::Network net = network(n, qifsim::Weights::all_to_all(n, n, w), d.eta);
    const qifsim::Observer obs = net.run(x, opts(mode));
    EXPECT_EQ(obs.to_matrix("qif", "spike").data, want.spike.data) << qifsim::to_string(mode);
    EXPECT_LT(max_rel(obs.to_matrix("qif", "s_in"), want.s_in), 1e-12) << qifsim::to_string(mode);
  }
  // A dense matrix of equal entries may be run procedurally too.
  qifsim::Network net = network(n, Matrix(n, n, w), d.eta);
  const qifsim::Observer obs = net.run(x, opts(CouplingMode::Procedural));
  EXPECT_EQ(obs.to_matrix("qif", "spike").data, want.spike.data);
}

TEST(Coupling, DenseCouplingOfASparseMatrixIsTheDenseProductBitForBit) {
  const std::int64_t n = 200, steps = 500;
  const SparseNet d = make_sparse(n, 10, 0.5, 9);
  const Matrix x(steps, n, 15.0);
  qifsim::Network a = network(n, Matrix(n, n, dense_of(d)), d.eta);
  qifsim::Network b = network(n, SparseMatrix::from_coo(n, n, d.row, d.col, d.val), d.eta);
  const qifsim::Observer oa = a.run(x, opts(CouplingMode::Auto));
  const qifsim::Observer ob = b.run(x, opts(CouplingMode::Dense));
  EXPECT_EQ(oa.to_matrix("qif", "v").data, ob.to_matrix("qif", "v").data);
}

TEST(Coupling, SparseAndEventResultsDoNotDependOnTheThreadCount) {
  const std::int64_t n = 20000, steps = 200;  // above the threads' thresholds
  const SparseNet d = make_sparse(n, 20, 0.5, 11);
  const SparseMatrix sm = SparseMatrix::from_coo(n, n, d.row, d.col, d.val);
  const Matrix x(steps, n, 15.0);
  for (CouplingMode mode : {CouplingMode::Sparse, CouplingMode::Events}) {
    std::vector<std::vector<double>> runs;
    for (int threads : {1, 2, 3}) {
      omp_set_num_threads(threads);
      qifsim::Network net = network(n, sm, d.eta);
      qifsim::RunOptions o = opts(mode);
      o.record_vars = {{"qif", "v", false}};
      runs.push_back(net.run(x, o).to_matrix("qif", "v").data);
    }
    omp_set_num_threads(omp_get_num_procs());
    EXPECT_EQ(runs[0], runs[1]) << qifsim::to_string(mode);
    EXPECT_EQ(runs[0], runs[2]) << qifsim::to_string(mode);
  }
}

TEST(Coupling, AutoChoosesFromStaticFacts) {
  const std::vector<double> eta{-5.0};
  auto choice = [](std::int64_t n, qifsim::Weights w, bool per_neuron_tau_s = false) {
    qifsim::Network net(1e-3, qifsim::Backend::Cpu);
    qifsim::QifPopulation p;
    p.n = n;
    p.weights = std::move(w);
    if (per_neuron_tau_s) p.tau_s = std::vector<double>(static_cast<std::size_t>(n), 1.0);
    net.add_population("p", p);
    net.compile();
    return net.coupling_choice();
  };
  EXPECT_EQ(choice(100, Matrix(100, 100, 0.1)), "'p': dense");  // small: RectiPy's arithmetic
  EXPECT_EQ(choice(100, qifsim::Weights::all_to_all(100, 100, 0.1)), "'p': procedural");
  EXPECT_EQ(choice(4096, Matrix(4096, 4096, 0.1)), "'p': procedural");
  Matrix diag(4096, 4096, 0.0);
  for (std::int64_t i = 0; i < 4096; ++i) diag(i, (i + 1) % 4096) = 1.0;
  EXPECT_EQ(choice(4096, diag), "'p': events over sparse (resync 1000)");
  EXPECT_EQ(choice(4096, diag, true), "'p': sparse");
  Matrix full(4096, 4096, 0.1);
  full(0, 0) = 0.2;
  // A large dense J of one tau_s: events, J held once (transposed); one tau_s per neuron: dense.
  EXPECT_EQ(choice(4096, full), "'p': events over dense (resync 1000)");
  EXPECT_EQ(choice(4096, full, true), "'p': dense");
  const SparseMatrix small = SparseMatrix::from_dense(Matrix(10, 10, std::vector<double>(100, 0.0)));
  EXPECT_EQ(choice(10, small), "'p': sparse");
}

TEST(Coupling, ImpossibleRequestsAreRefusedNamingThePopulation) {
  const std::int64_t n = 8;
  std::vector<double> J(64, 0.0);
  J[1] = 1.0;
  qifsim::Network net = network(n, Matrix(n, n, J), std::vector<double>(8, -5.0));
  const std::string e = error_of([&] { net.run(Matrix(5, n, 1.0), opts(CouplingMode::Procedural)); });
  EXPECT_TRUE(contains(e, "procedural") && contains(e, "'qif'") && contains(e, "not all equal")) << e;
  EXPECT_EQ(net.step_count(), 0);
  net.set_var("qif", "tau_s", std::vector<double>(8, 2.0));
  const std::string e2 = error_of([&] { net.run(Matrix(5, n, 1.0), opts(CouplingMode::Events)); });
  EXPECT_TRUE(contains(e2, "tau_s") && contains(e2, "'qif'")) << e2;
  EXPECT_EQ(qifsim::parse_coupling("sparse"), CouplingMode::Sparse);
  EXPECT_TRUE(contains(error_of([] { qifsim::parse_coupling("csr"); }), "unknown coupling 'csr'"));
}

TEST(Coupling, ATauSPerNeuronSetAfterCompileEndsTheEventsAutoChose) {
  const std::int64_t n = 5000, steps = 400;
  const SparseNet d = make_sparse(n, 10, 0.5, 13);
  const SparseMatrix sm = SparseMatrix::from_coo(n, n, d.row, d.col, d.val);
  std::vector<double> tau_s(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) tau_s[static_cast<std::size_t>(i)] = 0.5 + 1e-4 * static_cast<double>(i);
  const Matrix x(steps, n, 15.0);
  qifsim::Network a = network(n, sm, d.eta);
  ASSERT_EQ(a.coupling_choice(), "'qif': events over sparse (resync 1000)");
  a.set_var("qif", "tau_s", tau_s);
  const Matrix va = a.run(x, opts(CouplingMode::Auto)).to_matrix("qif", "v");
  qifsim::Network b = network(n, sm, d.eta);
  b.set_var("qif", "tau_s", tau_s);
  const Matrix vb = b.run(x, opts(CouplingMode::Sparse)).to_matrix("qif", "v");
  EXPECT_EQ(va.data, vb.data) << "auto must fall back to the product with one tau_s per neuron";
  qifsim::Network c = network(n, sm, d.eta);
  c.run(Matrix(2, n, 15.0), opts(CouplingMode::Events));
  c.set_var("qif", "tau_s", tau_s);
  const std::string e = error_of([&] { c.run(x, opts(CouplingMode::Events)); });
  EXPECT_TRUE(contains(e, "tau_s") && contains(e, "'qif'")) << e;
}

TEST(Coupling, AStorageThatDoesNotFitIsRefusedBeforeAnythingChanges) {
  const std::int64_t n = 2000000;  // dense: 32 TB
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = qifsim::fixed_indegree(n, n, 1, qifsim::ValueDistribution{}, 3, false);
  net.add_population("big", p);
  net.compile();
  qifsim::RunOptions dense;
  dense.progress = qifsim::Progress::Off;
  dense.coupling = CouplingMode::Dense;
  const std::string e = error_of([&] { net.run(Matrix(2, n, 0.0), dense); });
  EXPECT_TRUE(contains(e, "coupling = dense") && contains(e, "'big'") && contains(e, "TiB")) << e;
  EXPECT_EQ(net.step_count(), 0);
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  EXPECT_NO_THROW(net.run(Matrix(2, n, 0.0), o));  // the sparse operator is still there
  EXPECT_EQ(net.coupling_choice(), "'big': events over sparse (resync 1000)");
}

TEST(Coupling, LargeSparseNetworksNeverHoldADenseMatrix) {
  // N = 10^6 with 2 partners each: a dense J would be 8 TB; the sparse one is 24 MB.
  const std::int64_t n = 1000000;
  const SparseMatrix m = qifsim::fixed_indegree(n, n, 2, qifsim::ValueDistribution{}, 1, false);
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p;
  p.n = n;
  p.weights = m;
  net.add_population("p", p);
  ASSERT_NO_THROW(net.compile());
  EXPECT_EQ(net.coupling_choice(), "'p': events over sparse (resync 1000)");
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"p", "v", true}};
  const qifsim::Observer obs = net.run(Matrix(3, n, 0.0), o);
  EXPECT_EQ(obs.samples(), 3);
}

}  // namespace

namespace {

// A population fed only through all-to-all edges takes its input as one value per step (no
// N-length fill): its recorded I_ext, get_var("I_ext") and its trajectory equal those of the
// same network run with every product dense (the edge's 1000 x 2 matrix of 0.5 as given).
TEST(Coupling, AnAllToAllInputIsOneValuePerStepWithTheSameResults) {
  const std::int64_t n = 5000, steps = 300;  // more than one neuron span (4096)
  auto make = [&]() {
    auto net = std::make_unique<qifsim::Network>(1e-3, qifsim::Backend::Cpu);
    net->add_function("inp", 2, qifsim::Activation::Identity);
    qifsim::QifPopulation p;
    p.n = n;
    std::vector<double> eta(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = -5.0 + 10.0 * static_cast<double>(i) / static_cast<double>(n);
    p.eta = eta;
    net->add_population("qif", p);  // uncoupled: the test is about the input
    net->add_edge("inp", "qif", qifsim::Weights::all_to_all(n, 2, 0.5));
    net->compile();
    return net;
  };
  Matrix x(steps, 2);
  for (std::int64_t t = 0; t < steps; ++t) {
    x(t, 0) = 2.0 + std::sin(0.05 * static_cast<double>(t));
    x(t, 1) = t % 50 < 10 ? 30.0 : 0.0;
  }
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "v", false}, {"qif", "I_ext", false}};
  auto uniform = make();
  const qifsim::Observer a = uniform->run(x, o);
  auto dense = make();
  o.coupling = qifsim::CouplingMode::Dense;
  const qifsim::Observer b = dense->run(x, o);
  for (const auto& key : b.keys()) {
    EXPECT_EQ(a.to_matrix(key).data, b.to_matrix(key).data) << key;
  }
  const Matrix in = a.to_matrix("qif", "I_ext");
  for (std::int64_t t = 0; t < steps; ++t) {
    const double want = 0.5 * x(t, 0) + 0.5 * x(t, 1);  // w * (x0 + x1), the sum in double
    ASSERT_EQ(in(t, 0), want) << t;
    ASSERT_EQ(in(t, n - 1), want) << t;
  }
  EXPECT_EQ(uniform->get_var("qif", "I_ext"), dense->get_var("qif", "I_ext"));
  EXPECT_EQ(uniform->get_var("qif", "v"), dense->get_var("qif", "v"));
}

}  // namespace

namespace {

// An all-to-all J gives every neuron one J s per step, taken as one value (no N-length fill):
// the recorded s_in equals w * sum(s) with the sum in the spec's one reduction order (written
// out here), for every neuron, and get_var("s_in") shows it for every neuron.
double spec_sum(const double* v, std::int64_t n) {
  double total = 0.0;
  for (std::int64_t first = 0; first < n; first += 256) {
    double block[256] = {};
    for (std::int64_t j = first; j < std::min<std::int64_t>(n, first + 256); ++j) block[j - first] = v[j];
    for (int h = 128; h >= 1; h /= 2) {
      for (int j = 0; j < h; ++j) block[j] = block[j] + block[j + h];
    }
    total = total + block[0];
  }
  return total;
}

TEST(Coupling, AnAllToAllJIsOneValuePerStepInTheOneReductionOrder) {
  const std::int64_t n = 5000, steps = 200;
  const double w = 15.0 / static_cast<double>(n);
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation p;
  p.n = n;
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) eta[static_cast<std::size_t>(i)] = -5.0 + 10.0 * static_cast<double>(i) / static_cast<double>(n);
  p.eta = eta;
  p.v0 = 50.0;  // many spikes early: s is far from uniform
  p.weights = qifsim::Weights::all_to_all(n, n, w);
  net.add_population("qif", p);
  net.compile();
  qifsim::RunOptions o;
  o.progress = qifsim::Progress::Off;
  o.record_vars = {{"qif", "s", false}, {"qif", "s_in", false}};
  const qifsim::Observer obs = net.run(Matrix(steps, n, 20.0), o);
  EXPECT_EQ(net.coupling_choice(), "'qif': procedural");
  const Matrix s = obs.to_matrix("qif", "s"), s_in = obs.to_matrix("qif", "s_in");
  double largest = 0.0;
  for (std::int64_t t = 0; t < steps; ++t) {
    const double want = w * spec_sum(s.row(t), n);
    largest = std::max(largest, std::fabs(want));
    ASSERT_EQ(s_in(t, 0), want) << t;
    ASSERT_EQ(s_in(t, n / 2), want) << t;
    ASSERT_EQ(s_in(t, n - 1), want) << t;
  }
  EXPECT_GT(largest, 0.0);
  const std::vector<double> now = net.get_var("qif", "s_in");
  ASSERT_EQ(now.size(), static_cast<std::size_t>(n));
  for (double v : now) ASSERT_EQ(v, now[0]);
  EXPECT_EQ(now[0], s_in(steps - 1, 0));  // the last step's J s
}

}  // namespace
