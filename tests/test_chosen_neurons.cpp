// tests/test_chosen_neurons.cpp - RecordVar::neurons: a variable recorded for chosen neurons only,
// against the same run's full recording (the chosen columns, bit for bit), by run() and by hand,
// and what is refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"

namespace {

qifsim::Network make_network(qifsim::Precision precision) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, precision);
  const std::int64_t n = 40;
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  qifsim::Matrix J(n, n);
  for (double& w : J.data) w = 20.0 * u(rng) / static_cast<double>(n);
  std::vector<double> eta(static_cast<std::size_t>(n));
  for (double& e : eta) e = -2.0 + 8.0 * u(rng);
  net.add_function("inp", 1, qifsim::Activation::Identity);
  qifsim::QifPopulation q;
  q.n = n;
  q.weights = J;
  q.eta = eta;
  net.add_population("qif", q);
  net.add_function("readout", 3, qifsim::Activation::Tanh);
  net.add_edge("inp", "qif", qifsim::Matrix(n, 1, 1.0));
  net.add_edge("qif", "readout", qifsim::Matrix(3, n, 0.01));
  net.compile();
  return net;
}

qifsim::RunOptions options(std::vector<qifsim::RecordVar> vars) {
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.sampling_steps = 3;
  opt.cutoff = 2;
  opt.record_vars = std::move(vars);
  return opt;
}

TEST(ChosenNeurons, TheirColumnsOfTheFullRecordingInTheirOrder) {
  for (const auto precision : {qifsim::Precision::Float64, qifsim::Precision::Float32}) {
    const qifsim::Matrix inputs(300, 1, 20.0);
    const std::vector<std::int64_t> pick = {7, 0, 39, 3};
    qifsim::Network full_net = make_network(precision), chosen_net = make_network(precision);
    const qifsim::Observer full =
        full_net.run(inputs, options({{"qif", "v", false}, {"qif", "spike", false}, {"readout", "out", false}}));
    const qifsim::Observer chosen = chosen_net.run(
        inputs, options({{"qif", "v", false, pick}, {"qif", "spike", false, {39}}, {"readout", "out", false, {2, 1}}}));
    ASSERT_EQ(chosen.samples(), full.samples());
    EXPECT_EQ(chosen.width("qif.v"), 4);
    EXPECT_EQ(chosen.width("qif.spike"), 1);
    EXPECT_EQ(chosen.width("readout.out"), 2);
    const struct {
      const char* key;
      std::vector<std::int64_t> cols;
    } cases[] = {{"qif.v", pick}, {"qif.spike", {39}}, {"readout.out", {2, 1}}};
    for (const auto& c : cases) {
      const qifsim::Matrix f = full.to_matrix(c.key), g = chosen.to_matrix(c.key);
      for (std::int64_t r = 0; r < f.rows; ++r) {
        for (std::size_t k = 0; k < c.cols.size(); ++k) {
          ASSERT_EQ(g.data[static_cast<std::size_t>(r * g.cols) + k],
                    f.data[static_cast<std::size_t>(r * f.cols + c.cols[k])])
              << c.key << " sample " << r << " column " << k;
        }
      }
    }
    // The output and the other samples are the same run's.
    EXPECT_EQ(chosen.to_matrix("out").data, full.to_matrix("out").data);
  }
}

TEST(ChosenNeurons, ByHandTheObserverTakesThemFromTheNodesValues) {
  qifsim::Observer obs(1e-3, true, false, {{"qif", "v", false, {2, 0}}});
  obs.record(0, {1.0}, 0.0, {{10.0, 11.0, 12.0}});
  obs.record(1, {1.0}, 0.0, {{20.0, 21.0, 22.0}});
  EXPECT_EQ(obs.to_matrix("qif.v").data, (std::vector<double>{12.0, 10.0, 22.0, 20.0}));
  EXPECT_THROW(obs.record(2, {1.0}, 0.0, {{1.0, 2.0}}), qifsim::InvalidArgument);  // neuron 2 of 2 values
}

TEST(ChosenNeurons, BadListsAreRefusedNamingTheNeuron) {
  qifsim::Network net = make_network(qifsim::Precision::Float64);
  const qifsim::Matrix inputs(10, 1, 1.0);
  const struct {
    std::vector<std::int64_t> neurons;
    bool mean;
    const char* says;
  } cases[] = {{{40}, false, "neuron 40 is not one of the node's 40"},
               {{-1}, false, "neuron -1"},
               {{3, 5, 3}, false, "neuron 3 is listed twice"},
               {{3}, true, "mean = false"}};
  for (const auto& c : cases) {
    try {
      net.run(inputs, options({{"qif", "v", c.mean, c.neurons}}));
      FAIL() << c.says << ": accepted";
    } catch (const qifsim::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
}

}  // namespace
