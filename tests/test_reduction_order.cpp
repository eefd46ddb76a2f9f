// tests/test_reduction_order.cpp - neuron means follow the one reduction order of
// shared/spec/semantics.md: blocks of 256 consecutive neuron indices, each summed as a halving
// tree, the block sums added in block order. The reference below is written from the spec,
// independently of host/model/reduction.hpp, and applied to the full recording of v.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "qifsim/network.hpp"
#include "qifsim/observer.hpp"

namespace {

// The spec's order, spelled out: pairwise halving inside each block of 256, blocks in order.
double spec_mean(const double* v, std::int64_t n) {
  double total = 0.0;
  for (std::int64_t first = 0; first < n; first += 256) {
    std::vector<double> block(256, 0.0);
    for (std::int64_t j = first; j < std::min<std::int64_t>(n, first + 256); ++j) block[static_cast<std::size_t>(j - first)] = v[j];
    for (std::size_t width = 128; width >= 1; width /= 2) {
      for (std::size_t j = 0; j < width; ++j) block[j] = block[j] + block[j + width];
    }
    total = total + block[0];
  }
  return total / static_cast<double>(n);
}

qifsim::Network make_net(std::int64_t n) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  qifsim::QifPopulation pop;
  pop.n = n;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> eta(static_cast<std::size_t>(n)), J(static_cast<std::size_t>(n * n));
  for (auto& e : eta) e = -5.0 + 3.0 * u(rng);
  for (auto& w : J) w = 2.0 * u(rng) / static_cast<double>(n);
  pop.eta = eta;
  pop.weights = qifsim::Matrix(n, n, J);
  net.add_population("qif", pop);
  net.compile();
  return net;
}

TEST(ReductionOrder, NeuronMeansFollowTheSpecsBlocksBitForBit) {
  for (std::int64_t n : {1, 255, 256, 700, 1300}) {  // partial, whole and several blocks
    const std::int64_t steps = 400;
    qifsim::RunOptions full;
    full.sampling_steps = 7;
    full.record_vars = {{"qif", "v", false}};
    qifsim::RunOptions mean = full;
    mean.record_vars = {{"qif", "v", true}};
    qifsim::Network a = make_net(n), b = make_net(n);
    const qifsim::Matrix inputs(steps, n, 12.0);
    const qifsim::Matrix v = a.run(inputs, full).to_matrix("qif", "v");
    const qifsim::Matrix m = b.run(inputs, mean).to_matrix("qif", "v");
    ASSERT_EQ(v.rows, m.rows);
    ASSERT_EQ(m.cols, 1);
    double largest_gap = 0.0;
    for (std::int64_t r = 0; r < v.rows; ++r) {
      const double* row = v.data.data() + r * n;
      const double expected = spec_mean(row, n);
      ASSERT_EQ(m.data[static_cast<std::size_t>(r)], expected) << "N " << n << " sample " << r;
      double sequential = 0.0;
      for (std::int64_t j = 0; j < n; ++j) sequential += row[j];
      sequential /= static_cast<double>(n);
      largest_gap = std::max(largest_gap, std::fabs(expected - sequential));
    }
    EXPECT_LT(largest_gap, 1e-12) << "N " << n;  // another order differs by rounding only
  }
}

}  // namespace

namespace {

// A manual loop's Observer::record(mean = true) averages in the same order, so a loop of
// forward() and a run() record the same mean v bit for bit.
TEST(ReductionOrder, ManualRecordOfAMeanFollowsTheSameOrder) {
  for (std::int64_t n : {5, 300}) {
    const std::int64_t steps = 50;
    qifsim::Network a = make_net(n), b = make_net(n);
    const qifsim::Matrix inputs(steps, n, 12.0);
    qifsim::RunOptions mean;
    mean.record_vars = {{"qif", "v", true}};
    const qifsim::Matrix ran = a.run(inputs, mean).to_matrix("qif", "v");
    qifsim::Observer manual(b.dt(), false, false, {{"qif", "v", true}});
    bool sequential_differs = false;
    for (std::int64_t t = 0; t < steps; ++t) {
      b.forward(std::vector<double>(inputs.row(t), inputs.row(t) + n));
      const std::vector<double> v = b.get_var("qif", "v");
      manual.record(t, {}, 0.0, {v});
      double sum = 0.0;
      for (double x : v) sum += x;
      sequential_differs = sequential_differs || sum / static_cast<double>(n) != spec_mean(v.data(), n);
      EXPECT_EQ(manual.to_matrix("qif", "v")(t, 0), spec_mean(v.data(), n)) << "n = " << n << ", step " << t;
      EXPECT_EQ(manual.to_matrix("qif", "v")(t, 0), ran(t, 0)) << "n = " << n << ", step " << t;
    }
    // The check can fail: summed one by one, some of these means differ in their last bits.
    EXPECT_TRUE(sequential_differs) << "n = " << n;
  }
}

}  // namespace

namespace {

// From 65536 neurons on the CPU sums a recorded mean's blocks on every thread and adds the
// block sums in order: the same bits as the spec's order, as below that size.
TEST(ReductionOrder, ALargePopulationsMeanSummedOnThreadsKeepsTheBits) {
  const std::int64_t n = 70001, steps = 12;  // 274 blocks, the last part-filled
  auto make = [&]() {
    qifsim::Network net(1e-3, qifsim::Backend::Cpu, qifsim::Precision::Float64);
    qifsim::QifPopulation pop;
    pop.n = n;
    std::mt19937_64 rng(21);
    std::uniform_real_distribution<double> u(-5.0, 5.0);
    std::vector<double> eta(static_cast<std::size_t>(n));
    for (auto& e : eta) e = u(rng);
    pop.eta = eta;
    net.add_population("qif", pop);
    net.compile();
    return net;
  };
  qifsim::Network a = make(), b = make();
  const qifsim::Matrix inputs(steps, n, 3.0);
  qifsim::RunOptions full;
  full.progress = qifsim::Progress::Off;
  full.record_vars = {{"qif", "v", false}};
  qifsim::RunOptions mean = full;
  mean.record_vars = {{"qif", "v", true}};
  const qifsim::Matrix v = a.run(inputs, full).to_matrix("qif", "v");
  const qifsim::Matrix m = b.run(inputs, mean).to_matrix("qif", "v");
  ASSERT_EQ(m.rows, steps);
  for (std::int64_t r = 0; r < steps; ++r) {
    ASSERT_EQ(m.data[static_cast<std::size_t>(r)], spec_mean(v.data.data() + r * n, n)) << "sample " << r;
  }
}

}  // namespace

namespace {

// The neuron loop sums the recorded means of v, s, x and spike in its own pass (per 256-block,
// from the values at the step's start): each equals the spec's order over the full recording,
// bit for bit, with adaptation (x), spikes, a span boundary (4096) and a part-filled last block.
// The means the QIF loop sums (v, s, x, spike) against the spec's order applied to the full
// recording of the same run; n = 9000 ends in a partial block. In float32 the recorded values
// are floats (exactly doubles here) and the mean is rounded to float once, after the division.
void check_loop_means(qifsim::Precision precision) {
  const std::int64_t n = 9000, steps = 30;
  const bool f32 = precision == qifsim::Precision::Float32;
  auto make = [&]() {
    qifsim::Network net(1e-3, qifsim::Backend::Cpu, precision);
    qifsim::QifPopulation pop;
    pop.n = n;
    pop.adaptation = true;
    std::mt19937_64 rng(23);
    std::uniform_real_distribution<double> u(-5.0, 5.0);
    std::vector<double> eta(static_cast<std::size_t>(n)), v0(static_cast<std::size_t>(n));
    for (auto& e : eta) e = u(rng);
    for (auto& v : v0) v = 20.0 * u(rng);  // some start above threshold after a few steps
    pop.eta = eta;
    pop.v0 = v0;
    net.add_population("qif", pop);
    net.compile();
    return net;
  };
  qifsim::Network a = make(), b = make();
  const qifsim::Matrix inputs(steps, n, 800.0);  // strong drive: spikes within the run
  qifsim::RunOptions full;
  full.progress = qifsim::Progress::Off;
  full.sampling_steps = 3;
  full.record_vars = {{"qif", "v", false}, {"qif", "s", false}, {"qif", "x", false}, {"qif", "spike", false}};
  qifsim::RunOptions mean = full;
  mean.record_vars = {{"qif", "v", true}, {"qif", "s", true}, {"qif", "x", true}, {"qif", "spike", true}};
  const qifsim::Observer fa = a.run(inputs, full);
  const qifsim::Observer mb = b.run(inputs, mean);
  double spikes = 0.0;
  for (const char* var : {"v", "s", "x", "spike"}) {
    const qifsim::Matrix f = fa.to_matrix("qif", var);
    const qifsim::Matrix m = mb.to_matrix("qif", var);
    ASSERT_EQ(m.rows, f.rows);
    for (std::int64_t r = 0; r < f.rows; ++r) {
      const double expected = spec_mean(f.data.data() + r * n, n);
      ASSERT_EQ(m.data[static_cast<std::size_t>(r)], f32 ? static_cast<double>(static_cast<float>(expected)) : expected)
          << var << ", sample " << r;
      if (std::string(var) == "spike") spikes += m.data[static_cast<std::size_t>(r)];
    }
  }
  EXPECT_GT(spikes, 0.0) << "the run must contain spikes";
}

TEST(ReductionOrder, MeansSummedInTheNeuronLoopFollowTheSpecsOrder) { check_loop_means(qifsim::Precision::Float64); }

TEST(ReductionOrder, MeansSummedInTheFloat32NeuronLoopFollowTheSpecsOrder) {
  check_loop_means(qifsim::Precision::Float32);
}

}  // namespace
