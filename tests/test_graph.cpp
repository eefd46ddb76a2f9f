// tests/test_graph.cpp - function nodes and edges (spec: "Network graph"), compile errors,
// float32 vs float64, and invalid run arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"
#include "reference_qif.hpp"
#include "test_util.hpp"

namespace {

using qtest::expect_matrix_close;
using qtest::expect_rel;
using qtest::icontains;

constexpr double kDt = 1e-3;
constexpr double kTol = 1e-10;

qifsim::Activation to_api(ref::Act a) {
  switch (a) {
    case ref::Act::Identity: return qifsim::Activation::Identity;
    case ref::Act::Tanh: return qifsim::Activation::Tanh;
    case ref::Act::Sigmoid: return qifsim::Activation::Sigmoid;
    case ref::Act::Softmax: return qifsim::Activation::Softmax;
    case ref::Act::Softmin: return qifsim::Activation::Softmin;
    case ref::Act::LogSoftmax: return qifsim::Activation::LogSoftmax;
  }
  return qifsim::Activation::Identity;
}

const char* act_name(ref::Act a) {
  switch (a) {
    case ref::Act::Identity: return "identity";
    case ref::Act::Tanh: return "tanh";
    case ref::Act::Sigmoid: return "sigmoid";
    case ref::Act::Softmax: return "softmax";
    case ref::Act::Softmin: return "softmin";
    case ref::Act::LogSoftmax: return "log_softmax";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------
// Activations by hand: the chain's first output is act(W_out s0) (the population's output
// at step 0 is s0). With W_out = identity and s0 = (0, 1, 2) the values are textbook numbers:
//   sigmoid(1) = 1/(1+e^-1) = 0.7310585786300049, sigmoid(2) = 0.8807970779778823
//   tanh(1) = 0.7615941559557649, tanh(2) = 0.9640275800758169
//   softmax(0,1,2) = (1, e, e^2)/(1+e+e^2) = (0.09003057317038046, 0.24472847105479764,
//                                            0.6652409557748219)
//   softmin = softmax of the negated input = the same, reversed
//   log_softmax = z - log(1+e+e^2) = z - 2.40760596444438

struct HandCase {
  ref::Act act;
  std::vector<double> expected;
};

class ActivationByHand : public ::testing::TestWithParam<HandCase> {};

TEST_P(ActivationByHand, FirstOutputOfAChain) {
  const HandCase c = GetParam();
  qifsim::Network net(kDt, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  net.add_function("inp", 2, qifsim::Activation::Identity);
  qifsim::QifPopulation p;
  p.n = 3;
  p.s0 = std::vector<double>{0.0, 1.0, 2.0};
  net.add_population("qif", p);
  net.add_function("readout", 3, to_api(c.act));
  net.add_edge("inp", "qif", qifsim::Matrix(3, 2, 1.0));
  net.add_edge("qif", "readout", qifsim::Matrix(3, 3, std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  net.compile();
  EXPECT_EQ(net.input_node(), "inp");
  EXPECT_EQ(net.output_node(), "readout");
  EXPECT_EQ(net.input_width(), 2);
  EXPECT_EQ(net.output_width(), 3);
  EXPECT_EQ(net.node_size("qif"), 3);
  const std::vector<double> y = net.forward({1.0, 1.0});
  EXPECT_TRUE(expect_rel(y, c.expected, 1e-14)) << act_name(c.act);
  EXPECT_TRUE(expect_rel(net.get_var("readout", "in"), {0.0, 1.0, 2.0}, 1e-14));
  EXPECT_TRUE(expect_rel(net.get_var("readout", "out"), c.expected, 1e-14));
}

INSTANTIATE_TEST_SUITE_P(
    Activations, ActivationByHand,
    ::testing::Values(
        HandCase{ref::Act::Identity, {0.0, 1.0, 2.0}},
        HandCase{ref::Act::Tanh, {0.0, 0.7615941559557649, 0.9640275800758169}},
        HandCase{ref::Act::Sigmoid, {0.5, 0.7310585786300049, 0.8807970779778823}},
        HandCase{ref::Act::Softmax, {0.09003057317038046, 0.24472847105479764, 0.6652409557748219}},
        HandCase{ref::Act::Softmin, {0.6652409557748219, 0.24472847105479764, 0.09003057317038046}},
        HandCase{ref::Act::LogSoftmax, {-2.40760596444438, -1.4076059644443801, -0.40760596444438013}}),
    [](const ::testing::TestParamInfo<HandCase>& i) { return std::string(act_name(i.param.act)); });

// ---------------------------------------------------------------------------------------
// The chain  inp (m) -> W_in -> qif (N) -> W_out -> readout (K, activation), over time.

struct ChainCase {
  ref::Act act_in, act_out;
};

class ChainGraph : public ::testing::TestWithParam<ChainCase> {};

TEST_P(ChainGraph, MatchesReferenceStepByStepAndInRun) {
  const ChainCase c = GetParam();
  const int m = 3, n = 12, K = 4;
  const std::int64_t T = 2000;
  std::mt19937 rng(100 + static_cast<unsigned>(c.act_out));
  ref::QifParams p = ref::QifParams::defaults(n);
  p.J = qtest::uniform(rng, n * n, -5.0 / n, 15.0 / n);
  p.eta = qtest::uniform(rng, n, -6.0, -4.0);
  const std::vector<double> W_in = qtest::uniform(rng, n * m, 2.0, 5.0);
  const std::vector<double> W_out = qtest::uniform(rng, K * n, -1.0, 1.0);
  // Inputs: 3 + sin, per channel phase; with tanh on the input node the drive is smaller,
  // so scale the input weights up there (tanh(x) ~ 1).
  std::vector<double> W_in_used = W_in;
  if (c.act_in == ref::Act::Tanh)
    for (double& w : W_in_used) w *= 3.0;
  const auto phase = qtest::uniform(rng, m, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, m, kDt, 3.0, 1.0, 1.5, phase);

  auto build = [&]() {
    qifsim::Network net(kDt, qifsim::Backend::Cpu, qifsim::Precision::Float64);
    // Nodes added in an order other than the chain's, to exercise the ordering.
    net.add_function("readout", K, to_api(c.act_out));
    net.add_population("qif", qtest::to_population(p));
    net.add_function("inp", m, to_api(c.act_in));
    net.add_edge("qif", "readout", qifsim::Matrix(K, n, W_out));
    net.add_edge("inp", "qif", qifsim::Matrix(n, m, W_in_used));
    net.compile();
    return net;
  };

  // Step by step.
  {
    qifsim::Network net = build();
    EXPECT_EQ(net.input_node(), "inp");
    EXPECT_EQ(net.output_node(), "readout");
    EXPECT_EQ(net.input_width(), m);
    EXPECT_EQ(net.output_width(), K);
    ref::Chain chain(m, c.act_in, W_in_used, p, K, c.act_out, W_out);
    for (std::int64_t t = 0; t < T; ++t) {
      const std::vector<double> x = qtest::row_of(inputs, t);
      const std::vector<double> y_ref = chain.step(x, kDt);
      ASSERT_TRUE(expect_rel(net.forward(x), y_ref, kTol)) << "output of step " << t;
      ASSERT_TRUE(expect_rel(net.get_var("inp", "out"), chain.in_out, kTol)) << "inp.out, step " << t;
      ASSERT_TRUE(expect_rel(net.get_var("qif", "I_ext"), chain.pop.I_ext, kTol)) << "qif.I_ext, step " << t;
      ASSERT_TRUE(expect_rel(net.next_state("qif", "v"), chain.pop.v, kTol)) << "qif.v after step " << t;
      ASSERT_TRUE(expect_rel(net.get_var("readout", "in"), chain.out_in, kTol)) << "readout.in, step " << t;
      ASSERT_TRUE(expect_rel(net.get_var("readout", "out"), chain.out_out, kTol)) << "readout.out, step " << t;
    }
    EXPECT_GT(chain.pop.spikes_total, 25) << "the chain must drive spikes";
  }

  // run() with windows: the output is the window mean of the readout's output.
  {
    qifsim::Network net = build();
    ref::Chain chain(m, c.act_in, W_in_used, p, K, c.act_out, W_out);
    qifsim::RunOptions opt = qtest::quiet_options(4, 10);
    opt.record_vars = {{"qif", "v", false}, {"qif", "s", true}};
    const qifsim::Observer obs = net.run(inputs, opt);
    const ref::Recording rec = ref::run_observer(
        T, 4, 10, {{"qif.v", false}, {"qif.s", true}},
        [&](std::int64_t t) { return chain.step(qtest::row_of(inputs, t), kDt); },
        [&](std::size_t i) { return chain.pop.var(i == 0 ? "v" : "s", kDt); });
    const auto ns = static_cast<std::int64_t>(rec.steps.size());
    EXPECT_TRUE(qtest::expect_steps(obs.steps(), rec.steps));
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("out"), ns, K, qtest::flatten(rec.out), kTol, kTol));
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.v"), ns, n, qtest::flatten(rec.vars[0]), kTol, kTol));
    EXPECT_TRUE(expect_matrix_close(obs.to_matrix("qif.s"), ns, 1, qtest::flatten(rec.vars[1]), kTol, kTol));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Activations, ChainGraph,
    ::testing::Values(ChainCase{ref::Act::Identity, ref::Act::Identity},
                      ChainCase{ref::Act::Identity, ref::Act::Tanh},
                      ChainCase{ref::Act::Identity, ref::Act::Sigmoid},
                      ChainCase{ref::Act::Identity, ref::Act::Softmax},
                      ChainCase{ref::Act::Identity, ref::Act::Softmin},
                      ChainCase{ref::Act::Identity, ref::Act::LogSoftmax},
                      ChainCase{ref::Act::Tanh, ref::Act::Sigmoid}),
    [](const ::testing::TestParamInfo<ChainCase>& i) {
      return std::string(act_name(i.param.act_in)) + "_to_" + act_name(i.param.act_out);
    });

// Two edges into one node sum: inp -> qif directly and inp -> relay (function) -> qif.
TEST(GraphEdges, IncomingEdgesSum) {
  const int m = 2, n = 5;
  std::mt19937 rng(7);
  const std::vector<double> A = qtest::uniform(rng, n * m, 0.5, 2.0);   // inp -> qif
  const std::vector<double> B = qtest::uniform(rng, 3 * m, -1.0, 1.0);  // inp -> relay
  const std::vector<double> C = qtest::uniform(rng, n * 3, 0.0, 3.0);   // relay -> qif
  const std::vector<double> D = qtest::uniform(rng, 2 * n, -1.0, 1.0);  // qif -> readout
  qifsim::Network net(kDt, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  net.add_function("inp", m, qifsim::Activation::Identity);
  net.add_function("relay", 3, qifsim::Activation::Tanh);
  qifsim::QifPopulation p;
  p.n = n;
  net.add_population("qif", p);
  net.add_function("readout", 2, qifsim::Activation::Identity);
  net.add_edge("inp", "qif", qifsim::Matrix(n, m, A));
  net.add_edge("inp", "relay", qifsim::Matrix(3, m, B));
  net.add_edge("relay", "qif", qifsim::Matrix(n, 3, C));
  net.add_edge("qif", "readout", qifsim::Matrix(2, n, D));
  net.compile();
  ref::QifPop pop(ref::QifParams::defaults(n));
  for (int t = 0; t < 2000; ++t) {
    const std::vector<double> x{20.0 + 3.0 * std::sin(0.01 * t), 18.0 - 2.0 * std::cos(0.02 * t)};
    const std::vector<double> r = ref::activate(ref::Act::Tanh, ref::matvec(B, 3, m, x));
    std::vector<double> I = ref::matvec(A, n, m, x);
    const std::vector<double> I2 = ref::matvec(C, n, 3, r);
    for (int i = 0; i < n; ++i) I[static_cast<std::size_t>(i)] += I2[static_cast<std::size_t>(i)];
    const std::vector<double> y_ref = ref::matvec(D, 2, n, pop.step(I, kDt));
    ASSERT_TRUE(expect_rel(net.forward(x), y_ref, kTol)) << "step " << t;
    ASSERT_TRUE(expect_rel(net.get_var("qif", "I_ext"), I, kTol)) << "step " << t;
  }
  EXPECT_GT(pop.spikes_total, 10);
}

// ---------------------------------------------------------------------------------------
// Compile errors

/// Run `f`; it must throw GraphError or InvalidArgument whose message contains every name
/// in `all` and, if `any` is not empty, at least one name of `any`.
::testing::AssertionResult throws_naming(const std::function<void()>& f,
                                         const std::vector<std::string>& all,
                                         const std::vector<std::string>& any = {}) {
  try {
    f();
  } catch (const qifsim::GraphError& e) {
    const std::string msg = e.what();
    for (const auto& s : all)
      if (msg.find(s) == std::string::npos)
        return ::testing::AssertionFailure() << "GraphError message \"" << msg << "\" does not name " << s;
    bool found = any.empty();
    for (const auto& s : any) found = found || msg.find(s) != std::string::npos;
    if (!found) return ::testing::AssertionFailure() << "GraphError message \"" << msg << "\" names none of the offending nodes";
    return ::testing::AssertionSuccess() << msg;
  } catch (const qifsim::InvalidArgument& e) {
    const std::string msg = e.what();
    for (const auto& s : all)
      if (msg.find(s) == std::string::npos)
        return ::testing::AssertionFailure() << "InvalidArgument message \"" << msg << "\" does not name " << s;
    bool found = any.empty();
    for (const auto& s : any) found = found || msg.find(s) != std::string::npos;
    if (!found) return ::testing::AssertionFailure() << "InvalidArgument message \"" << msg << "\" names none of the offending nodes";
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

qifsim::QifPopulation pop_of(int n) {
  qifsim::QifPopulation p;
  p.n = n;
  return p;
}

TEST(GraphCompile, EmptyNetwork) {
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.compile();
  }, {}));
}

TEST(GraphCompile, NoNodeWithoutIncomingEdges) {
  // A pure cycle: every node has an incoming edge, so there is no input node.
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("ring_a", 2, qifsim::Activation::Tanh);
    net.add_function("ring_b", 2, qifsim::Activation::Tanh);
    net.add_edge("ring_a", "ring_b", qifsim::Matrix(2, 2, 1.0));
    net.add_edge("ring_b", "ring_a", qifsim::Matrix(2, 2, 1.0));
    net.compile();
  }, {}, {"ring_a", "ring_b", "input"}));
}

TEST(GraphCompile, TwoNodesWithoutIncomingEdges) {
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("in_one", 2, qifsim::Activation::Identity);
    net.add_function("in_two", 2, qifsim::Activation::Identity);
    net.add_population("qif", pop_of(3));
    net.add_function("readout", 1, qifsim::Activation::Identity);
    net.add_edge("in_one", "qif", qifsim::Matrix(3, 2, 1.0));
    net.add_edge("in_two", "qif", qifsim::Matrix(3, 2, 1.0));
    net.add_edge("qif", "readout", qifsim::Matrix(1, 3, 1.0));
    net.compile();
  }, {"in_one", "in_two"}));
}

TEST(GraphCompile, TwoOutputNodes) {
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("inp", 2, qifsim::Activation::Identity);
    net.add_population("qif", pop_of(3));
    net.add_function("out_one", 1, qifsim::Activation::Identity);
    net.add_function("out_two", 2, qifsim::Activation::Sigmoid);
    net.add_edge("inp", "qif", qifsim::Matrix(3, 2, 1.0));
    net.add_edge("qif", "out_one", qifsim::Matrix(1, 3, 1.0));
    net.add_edge("qif", "out_two", qifsim::Matrix(2, 3, 1.0));
    net.compile();
  }, {"out_one", "out_two"}));
}

TEST(GraphCompile, TwoIsolatedPopulations) {
  // Both have no incoming and no outgoing edges.
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_population("lonely_a", pop_of(2));
    net.add_population("lonely_b", pop_of(2));
    net.compile();
  }, {"lonely_a", "lonely_b"}));
}

TEST(GraphCompile, Cycle) {
  // One input node and one output node, but a cycle between them.
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("inp", 2, qifsim::Activation::Identity);
    net.add_population("cyc_a", pop_of(3));
    net.add_function("cyc_b", 3, qifsim::Activation::Tanh);
    net.add_function("readout", 1, qifsim::Activation::Identity);
    net.add_edge("inp", "cyc_a", qifsim::Matrix(3, 2, 1.0));
    net.add_edge("cyc_a", "cyc_b", qifsim::Matrix(3, 3, 1.0));
    net.add_edge("cyc_b", "cyc_a", qifsim::Matrix(3, 3, 1.0));
    net.add_edge("cyc_b", "readout", qifsim::Matrix(1, 3, 1.0));
    net.compile();
  }, {}, {"cyc_a", "cyc_b"}));
}

TEST(GraphCompile, EdgeWithWrongWeightShape) {
  // inp has 3 units, qif 4: the weights must be 4 x 3.
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("inp", 3, qifsim::Activation::Identity);
    net.add_population("qif", pop_of(4));
    net.add_edge("inp", "qif", qifsim::Matrix(4, 2, 1.0));
    net.compile();
  }, {}, {"inp", "qif"}));
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("inp", 3, qifsim::Activation::Identity);
    net.add_population("qif", pop_of(4));
    net.add_edge("inp", "qif", qifsim::Matrix(3, 4, 1.0));  // transposed
    net.compile();
  }, {}, {"inp", "qif"}));
}

TEST(GraphCompile, UnknownNodeInEdge) {
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_function("inp", 3, qifsim::Activation::Identity);
    net.add_edge("inp", "ghost_node", qifsim::Matrix(4, 3, 1.0));
    net.compile();
  }, {"ghost_node"}));
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_population("qif", pop_of(4));
    net.add_edge("phantom_src", "qif", qifsim::Matrix(4, 3, 1.0));
    net.compile();
  }, {"phantom_src"}));
}

TEST(GraphCompile, DuplicateNodeName) {
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_population("dup_node", pop_of(2));
    net.add_population("dup_node", pop_of(3));
    net.compile();
  }, {"dup_node"}));
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    net.add_population("dup_node", pop_of(2));
    net.add_function("dup_node", 2, qifsim::Activation::Identity);
    net.compile();
  }, {"dup_node"}));
}

TEST(GraphCompile, PopulationParameterShapes) {
  // J must be N x N; a per-neuron parameter must have N values.
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    qifsim::QifPopulation p = pop_of(4);
    p.weights = qifsim::Matrix(3, 3, 1.0);
    net.add_population("badj_pop", p);
    net.compile();
  }, {"badj_pop"}));
  EXPECT_TRUE(throws_naming([] {
    qifsim::Network net;
    qifsim::QifPopulation p = pop_of(4);
    p.eta = std::vector<double>{1.0, 2.0, 3.0};
    net.add_population("bad_eta_pop", p);
    net.compile();
  }, {}, {"bad_eta_pop", "eta"}));
}

TEST(GraphCompile, SinglePopulationIsBothInputAndOutput) {
  qifsim::Network net;
  net.add_population("solo", pop_of(3));
  net.compile();
  EXPECT_TRUE(net.compiled());
  EXPECT_EQ(net.input_node(), "solo");
  EXPECT_EQ(net.output_node(), "solo");
  EXPECT_EQ(net.input_width(), 3);
  EXPECT_EQ(net.output_width(), 3);
}

// ---------------------------------------------------------------------------------------
// Float32 vs float64

TEST(GraphPrecision, Float32AgreesWithFloat64OnANonChaoticNetwork) {
  // Weak coupling, drive mu ~ 85 +- 10: about 3 spikes per neuron in 1000 steps.
  // The output s only changes by the decay s <- s + dt*(-s/tau_s) (2 roundings per step,
  // each <= 2^-24 relative in float32) and by exact jumps of 1 at spikes. With the same spike
  // steps, |s32 - s64| <= steps * 2 * 2^-24 * max(1, |s|) = 1000 * 1.2e-7 = 1.2e-4 (times
  // max(1,|s|)); float64's own error is 1e-13 and negligible. So the tolerance is 1.2e-4.
  const int n = 20;
  const std::int64_t T = 1000;
  std::mt19937 rng(2718);
  ref::QifParams p = ref::QifParams::defaults(n);
  p.J = qtest::uniform(rng, n * n, 0.0, 2.0 / n);
  p.eta = qtest::uniform(rng, n, -6.0, -4.0);
  const auto phase = qtest::uniform(rng, n, 0.0, 6.283185307179586);
  const qifsim::Matrix inputs = qtest::sine_inputs(T, n, kDt, 90.0, 10.0, 0.7, phase);

  qifsim::Observer obs[2] = {qifsim::Observer(kDt), qifsim::Observer(kDt)};
  const qifsim::Precision precs[2] = {qifsim::Precision::Float64, qifsim::Precision::Float32};
  for (int k = 0; k < 2; ++k) {
    qifsim::Network net(kDt, qifsim::Backend::Cpu, precs[k]);
    net.add_population("qif", qtest::to_population(p));
    net.compile();
    EXPECT_EQ(net.precision(), precs[k]);
    qifsim::RunOptions opt = qtest::quiet_options(1, 0);
    opt.record_vars = {{"qif", "spike", false}};
    obs[k] = net.run(inputs, opt);
  }
  const qifsim::Matrix s64 = obs[0].to_matrix("out"), s32 = obs[1].to_matrix("out");
  const qifsim::Matrix k64 = obs[0].to_matrix("qif.spike"), k32 = obs[1].to_matrix("qif.spike");
  ASSERT_EQ(k64.rows, T);
  ASSERT_EQ(k32.rows, T);
  // Spike counts and steps (a recorded spike is 1 / dt, rounded to float32 in one of them).
  std::vector<double> c64(n, 0.0), c32(n, 0.0);
  std::vector<double> f64(k64.data.size()), f32(k32.data.size());
  for (std::int64_t t = 0; t < T; ++t)
    for (int i = 0; i < n; ++i) {
      c64[static_cast<std::size_t>(i)] += k64(t, i) != 0.0 ? 1.0 : 0.0;
      c32[static_cast<std::size_t>(i)] += k32(t, i) != 0.0 ? 1.0 : 0.0;
      f64[static_cast<std::size_t>(t * n + i)] = k64(t, i) != 0.0 ? 1.0 : 0.0;
      f32[static_cast<std::size_t>(t * n + i)] = k32(t, i) != 0.0 ? 1.0 : 0.0;
    }
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    EXPECT_GE(c64[static_cast<std::size_t>(i)], 2.0) << "neuron " << i << " should fire a few times";
    total += c64[static_cast<std::size_t>(i)];
  }
  EXPECT_TRUE(qtest::expect_identical(c32, c64)) << "spike counts per neuron";
  EXPECT_TRUE(qtest::expect_identical(f32, f64)) << "spike steps";
  EXPECT_TRUE(expect_matrix_close(s32, T, n, s64.data, 1.2e-4, 1.2e-4));
  EXPECT_GT(total, 40.0);

  // The float64 run itself follows the reference.
  ref::QifPop pop(p);
  std::vector<double> s_ref;
  for (std::int64_t t = 0; t < T; ++t) {
    const auto y = pop.step(qtest::row_of(inputs, t), kDt);
    s_ref.insert(s_ref.end(), y.begin(), y.end());
  }
  EXPECT_TRUE(expect_matrix_close(s64, T, n, s_ref, kTol, kTol));
  // And float32 is not secretly float64: some difference must show at float32 rounding level.
  double maxdiff = 0.0;
  for (std::size_t i = 0; i < s32.data.size(); ++i) maxdiff = std::max(maxdiff, std::fabs(s32.data[i] - s64.data[i]));
  EXPECT_GT(maxdiff, 1e-12) << "float32 run equals float64 to 1e-12: is it computing in float32?";
}

// ---------------------------------------------------------------------------------------
// Invalid run arguments

class InvalidRun : public ::testing::Test {
 protected:
  void SetUp() override {
    net_.add_population("qif", pop_of(7));
    net_.compile();
  }
  qifsim::Network net_{kDt, qifsim::Backend::Cpu, qifsim::Precision::Float64};
};

::testing::AssertionResult invalid_with(const std::function<void()>& f,
                                        const std::vector<std::string>& all_of,
                                        const std::vector<std::string>& any_of = {}) {
  try {
    f();
  } catch (const qifsim::InvalidArgument& e) {
    const std::string msg = e.what();
    for (const auto& s : all_of)
      if (!icontains(msg, s))
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << s << "\"";
    bool found = any_of.empty();
    for (const auto& s : any_of) found = found || icontains(msg, s);
    if (!found) return ::testing::AssertionFailure() << "message \"" << msg << "\" names none of the expected words";
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

TEST_F(InvalidRun, SamplingStepsNotPositive) {
  const qifsim::Matrix in(100, 7, 1.0);
  EXPECT_TRUE(invalid_with([&] { net_.run(in, qtest::quiet_options(0, 0)); }, {"sampling"}));
  EXPECT_TRUE(invalid_with([&] { net_.run(in, qtest::quiet_options(-3, 0)); }, {"sampling"}));
}

TEST_F(InvalidRun, CutoffOutOfRange) {
  const qifsim::Matrix in(100, 7, 1.0);
  EXPECT_TRUE(invalid_with([&] { net_.run(in, qtest::quiet_options(1, 100)); }, {"cutoff"}));
  EXPECT_TRUE(invalid_with([&] { net_.run(in, qtest::quiet_options(1, 250)); }, {"cutoff"}));
  EXPECT_TRUE(invalid_with([&] { net_.run(in, qtest::quiet_options(1, -1)); }, {"cutoff"}));
  // The boundary just inside is accepted: cutoff = steps - 1 gives one sample.
  const qifsim::Observer obs = net_.run(in, qtest::quiet_options(1, 99));
  EXPECT_EQ(obs.samples(), 1);
  EXPECT_EQ(obs.steps().at(0), 99);
}

TEST_F(InvalidRun, UnknownNodeOrVariableInRecordVars) {
  const qifsim::Matrix in(100, 7, 1.0);
  qifsim::RunOptions o1 = qtest::quiet_options();
  o1.record_vars = {{"ghost_pop", "v", false}};
  EXPECT_TRUE(invalid_with([&] { net_.run(in, o1); }, {"ghost_pop"}));
  qifsim::RunOptions o2 = qtest::quiet_options();
  o2.record_vars = {{"qif", "nonsense_var", true}};
  EXPECT_TRUE(invalid_with([&] { net_.run(in, o2); }, {"nonsense_var"}));
}

TEST_F(InvalidRun, InputWidthMismatch) {
  const qifsim::Matrix in(100, 5, 1.0);  // the network takes 7
  EXPECT_TRUE(invalid_with([&] { net_.run(in, qtest::quiet_options()); }, {"5", "7"}, {"input", "width", "column"}));
  EXPECT_TRUE(invalid_with([&] { net_.forward(std::vector<double>(5, 1.0)); }, {"5", "7"}));
}

TEST_F(InvalidRun, TestTargetsAndLoss) {
  const qifsim::Matrix in(100, 7, 1.0);
  EXPECT_TRUE(invalid_with([&] { net_.test(in, qifsim::Matrix(100, 6, 0.0), "mse", qtest::quiet_options()); },
                           {}, {"target", "width", "shape", "column"}));
  EXPECT_TRUE(invalid_with([&] { net_.test(in, qifsim::Matrix(99, 7, 0.0), "mse", qtest::quiet_options()); },
                           {}, {"target", "step", "row", "shape"}));
  EXPECT_TRUE(invalid_with([&] { net_.test(in, qifsim::Matrix(100, 7, 0.0), "hinge", qtest::quiet_options()); },
                           {"hinge"}));
}

TEST_F(InvalidRun, VariableAccess) {
  EXPECT_TRUE(invalid_with([&] { net_.get_var("qif", "nonsense_var"); }, {"nonsense_var"}));
  EXPECT_TRUE(invalid_with([&] { net_.get_var("ghost_pop", "v"); }, {"ghost_pop"}));
  EXPECT_TRUE(invalid_with([&] { net_.set_var("qif", "v", std::vector<double>(3, 0.0)); }, {}, {"v", "qif"}));
}

TEST(InvalidUse, RunBeforeCompile) {
  qifsim::Network net;
  net.add_population("qif", pop_of(2));
  EXPECT_FALSE(net.compiled());
  EXPECT_THROW(net.run(qifsim::Matrix(10, 2, 0.0), qtest::quiet_options()), qifsim::Error);
  EXPECT_THROW(net.forward(std::vector<double>(2, 0.0)), qifsim::Error);
}

}  // namespace
