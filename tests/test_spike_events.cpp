// tests/test_spike_events.cpp - RunOptions::record_spikes: every spike of a population as
// (step, neuron), whatever sampling_steps is. The reference is the dense per-step `spike`
// variable of the same network run with sampling_steps = 1 (a spike step records 1/dt), read
// here into (step, neuron) pairs in step then neuron order.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/qifsim.hpp"

namespace {

using Events = std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>;

struct Case {
  std::int64_t n = 300;
  qifsim::Precision precision = qifsim::Precision::Float64;
  qifsim::CouplingMode coupling = qifsim::CouplingMode::Auto;
  bool adaptation = false;
  std::string model = "qif";  // or another spiking model ("lif", "ik")
  bool sparse = false;
  bool coupled = true;
};

qifsim::Network make_network(const Case& c) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, c.precision);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  net.add_function("inp", 1, qifsim::Activation::Identity);
  const std::int64_t n = c.n;
  qifsim::Weights weights;
  if (c.coupled) {
    qifsim::Matrix J(n, n);
    for (double& w : J.data) w = c.sparse && u(rng) > 0.05 ? 0.0 : 20.0 * u(rng) / static_cast<double>(n);
    weights = c.sparse ? qifsim::Weights(qifsim::SparseMatrix::from_dense(J)) : qifsim::Weights(J);
  }
  std::vector<double> eta(static_cast<std::size_t>(n)), v0(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    eta[static_cast<std::size_t>(i)] = -2.0 + 8.0 * u(rng);
    v0[static_cast<std::size_t>(i)] = -5.0 + 150.0 * u(rng);  // some start above threshold
  }
  if (c.model == "qif") {
    qifsim::QifPopulation q;
    q.n = n;
    q.weights = weights;
    q.eta = eta;
    q.v0 = v0;
    q.adaptation = c.adaptation;
    net.add_population("pop", q);
  } else {
    qifsim::NeuronPopulation p;
    p.model = c.model;
    p.n = n;
    p.weights = weights;
    net.add_population("pop", p);
  }
  net.add_edge("inp", "pop", qifsim::Matrix(n, 1, 1.0));
  net.compile();
  return net;
}

// The reference: the dense `spike` of every step from the cutoff on, as events.
Events dense_events(const Case& c, const qifsim::Matrix& inputs, std::int64_t cutoff) {
  qifsim::Network net = make_network(c);
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.record_output = false;
  opt.cutoff = cutoff;
  opt.coupling = c.coupling;
  opt.record_vars = {{"pop", "spike", false}};
  const qifsim::Observer obs = net.run(inputs, opt);
  const qifsim::Matrix spike = obs.to_matrix("pop", "spike");
  Events e;
  for (std::int64_t r = 0; r < spike.rows; ++r) {
    for (std::int64_t i = 0; i < spike.cols; ++i) {
      if (spike.data[static_cast<std::size_t>(r * spike.cols + i)] != 0.0) {
        e.first.push_back(obs.steps()[static_cast<std::size_t>(r)]);
        e.second.push_back(i);
      }
    }
  }
  return e;
}

qifsim::RunOptions event_options(const Case& c, std::int64_t sampling, std::int64_t cutoff) {
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.sampling_steps = sampling;
  opt.cutoff = cutoff;
  opt.coupling = c.coupling;
  opt.record_vars = {{"pop", "v", true}};
  opt.record_spikes = {"pop"};
  return opt;
}

void check_against_dense(const Case& c, std::int64_t steps = 300, double input = 30.0) {
  const qifsim::Matrix inputs(steps, 1, input);
  const std::int64_t cutoff = 13;
  const Events want = dense_events(c, inputs, cutoff);
  ASSERT_GT(want.first.size(), 50u) << "the run must contain spikes";
  qifsim::Network net = make_network(c);
  const qifsim::Observer obs = net.run(inputs, event_options(c, 7, cutoff));
  EXPECT_EQ(obs.spike_steps("pop"), want.first);
  EXPECT_EQ(obs.spike_neurons("pop"), want.second);
  EXPECT_EQ(obs.spike_count("pop"), static_cast<std::int64_t>(want.first.size()));
  const std::vector<double> t = obs.spike_times("pop");
  ASSERT_EQ(t.size(), want.first.size());
  for (std::size_t k = 0; k < t.size(); ++k) ASSERT_EQ(t[k], static_cast<double>(want.first[k]) * 1e-3);
  EXPECT_EQ(obs.samples(), qifsim::sample_count(steps, 7, cutoff));  // the samples as before
}

TEST(SpikeEvents, EverySpikeWhateverTheSamplingAsTheDenseSpikeVariable) {
  check_against_dense(Case{});
}

TEST(SpikeEvents, Float32AndAdaptation) {
  Case c;
  c.precision = qifsim::Precision::Float32;
  check_against_dense(c);
  c.precision = qifsim::Precision::Float64;
  c.adaptation = true;
  check_against_dense(c);
}

TEST(SpikeEvents, WithEventCouplingAndASparseJ) {
  Case c;
  c.coupling = qifsim::CouplingMode::Events;
  check_against_dense(c);
  c.sparse = true;
  check_against_dense(c);
}

TEST(SpikeEvents, APopulationSteppedOnEveryThreadListsInOrder) {
  Case c;
  c.n = 20000;  // above the loop's threading threshold (kParallelNeurons)
  c.coupled = false;
  check_against_dense(c, 60);
}

TEST(SpikeEvents, OtherSpikingModels) {
  for (const char* model : {"lif", "ik"}) {
    Case c;
    c.model = model;
    SCOPED_TRACE(model);
    check_against_dense(c, 400, model == std::string("lif") ? 2000.0 : 1e5);
  }
}

TEST(SpikeEvents, AStoppedRunResumedRecordsWhatAnUninterruptedOneDoes) {
  const Case c;
  const qifsim::Matrix inputs(300, 1, 30.0);
  qifsim::Network whole = make_network(c);
  const qifsim::Observer want = whole.run(inputs, event_options(c, 5, 0));
  qifsim::Network parts = make_network(c);
  qifsim::RunOptions opt = event_options(c, 5, 0);
  opt.stop_at_step = 111;
  qifsim::Observer got(1e-3, qifsim::RecordSpec{true, false, opt.record_vars, opt.record_spikes});
  parts.run(inputs, opt, got);
  ASSERT_TRUE(parts.interrupted());
  EXPECT_LT(got.spike_count("pop"), want.spike_count("pop"));
  opt.stop_at_step = -1;
  opt.resume = true;
  parts.run(inputs, opt, got);
  EXPECT_EQ(got.spike_steps("pop"), want.spike_steps("pop"));
  EXPECT_EQ(got.spike_neurons("pop"), want.spike_neurons("pop"));
}

TEST(SpikeEvents, TheObserverStateKeepsThem) {
  const Case c;
  qifsim::Network net = make_network(c);
  const qifsim::Observer obs = net.run(qifsim::Matrix(100, 1, 30.0), event_options(c, 10, 0));
  ASSERT_GT(obs.spike_count("pop"), 0);
  std::stringstream state;
  obs.write_state(state);
  qifsim::Observer back(1e-3, obs.spec());
  back.read_state(state, "state");
  EXPECT_EQ(back.spike_steps("pop"), obs.spike_steps("pop"));
  EXPECT_EQ(back.spike_neurons("pop"), obs.spike_neurons("pop"));
  EXPECT_EQ(back.spike_count("pop"), obs.spike_count("pop"));
}

TEST(SpikeEvents, WhatDoesNotSpikeIsRefusedNamingIt) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  net.add_function("inp", 2, qifsim::Activation::Identity);
  qifsim::NeuronPopulation rate;
  rate.model = "tanh";
  rate.n = 2;
  net.add_population("rates", rate);
  net.add_edge("inp", "rates", qifsim::Matrix(2, 2, 1.0));
  net.compile();
  const qifsim::Matrix inputs(10, 2, 1.0);
  for (const char* name : {"inp", "rates", "nobody"}) {
    qifsim::RunOptions opt;
    opt.progress = qifsim::Progress::Off;
    opt.record_spikes = {name};
    try {
      net.run(inputs, opt);
      FAIL() << name << " accepted";
    } catch (const qifsim::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + name + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(qifsim::Observer(1e-3, qifsim::RecordSpec{true, false, {}, {"a", "a"}}), qifsim::InvalidArgument);
}

TEST(SpikeEvents, ABudgetTooSmallStopsTheRunKeepingWhatWasRecorded) {
  const Case c;
  const qifsim::Matrix inputs(400, 1, 30.0);
  qifsim::RunOptions opt = event_options(c, 1, 0);
  opt.record_vars.clear();
  opt.record_output = false;
  opt.batch_samples = 1;  // events handed over every step
  qifsim::Network free_net = make_network(c);
  const qifsim::Observer all = free_net.run(inputs, opt);
  const std::size_t budget = 8 * 400 + 16 * static_cast<std::size_t>(all.spike_count("pop")) / 2;
  qifsim::Network net = make_network(c);
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{false, false, {}, {"pop"}});
  obs.set_memory_budget(budget);
  EXPECT_THROW(net.run(inputs, opt, obs), qifsim::MemoryBudgetError);
  EXPECT_LE(obs.bytes_held(), budget);
  const auto kept = static_cast<std::size_t>(obs.spike_count("pop"));
  ASSERT_GT(kept, 0u);
  ASSERT_LT(kept, all.spike_steps("pop").size());
  // What was kept is the start of the full recording, nothing lost or reordered.
  ASSERT_EQ(obs.spike_steps("pop").size(), kept);
  for (std::size_t k = 0; k < kept; ++k) {
    ASSERT_EQ(obs.spike_steps("pop")[k], all.spike_steps("pop")[k]);
    ASSERT_EQ(obs.spike_neurons("pop")[k], all.spike_neurons("pop")[k]);
  }
}

// Counts the hand-overs of spike events and the largest one.
struct SpikeBatches final : qifsim::SampleSink {
  std::int64_t calls = 0, largest = 0, total = 0;
  void write(const qifsim::Observer&, std::int64_t, const std::int64_t*, const std::vector<const double*>&) override {}
  void write_spikes(const qifsim::Observer&, std::size_t, std::int64_t count, const std::int64_t*,
                    const std::int64_t*) override {
    ++calls;
    largest = std::max(largest, count);
    total += count;
  }
};

TEST(SpikeEvents, ARunThatRarelySamplesHandsThemOverInBoundedBatches) {
  Case c;
  c.n = 20000;
  c.coupled = false;
  qifsim::Network net = make_network(c);
  qifsim::RunOptions opt = event_options(c, 1000000, 0);  // one sample, at step 0
  opt.flush_seconds = 0.0;                                // no hand-over by the clock
  qifsim::Observer obs(1e-3, qifsim::RecordSpec{true, false, opt.record_vars, opt.record_spikes});
  auto batches = std::make_shared<SpikeBatches>();
  obs.add_sink(batches);
  net.run(qifsim::Matrix(1000, 1, 3000.0), opt, obs);
  ASSERT_GT(obs.spike_count("pop"), 3 * 65536) << "the run must hold several batches' worth";
  EXPECT_EQ(batches->total, obs.spike_count("pop"));
  EXPECT_GE(batches->calls, 3);
  // At most 65536 held, plus one step's spikes.
  EXPECT_LE(batches->largest, 65536 + 20000);
}

}  // namespace
