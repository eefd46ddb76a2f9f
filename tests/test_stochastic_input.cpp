// tests/test_stochastic_input.cpp - noise and Poisson input (Network::add_noise,
// add_poisson_input): the random numbers' distributions (normal moments and histogram, Poisson
// moments and probabilities), an Ornstein-Uhlenbeck process on a linear model against its
// stationary variance and lag correlation and against a loop written out here, Poisson drive
// against the stated rate, spiking neurons left at their reset, identity across thread counts,
// population sizes, split runs and checkpoints, and what is refused.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "model/stochastic.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using qifsim::model::poisson_count;
using qifsim::model::poisson_law;
using qifsim::model::standard_normal;

qifsim::RunOptions quiet() {
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.record_output = false;
  return opt;
}

// Zero input of `width` columns for `steps` steps, fetched piece by piece.
qifsim::InputSource zeros(std::int64_t steps, std::int64_t width) {
  return {steps, width, [width](std::int64_t, std::int64_t count, double* dst) {
            for (std::int64_t i = 0; i < count * width; ++i) dst[i] = 0.0;
          }};
}

void run_steps(qifsim::Network& net, std::int64_t steps) {
  qifsim::Observer obs(net.dt());
  net.run(zeros(steps, net.input_width()), quiet(), obs);
}

// A leaky integrator population ("tanh": v' = -v/tau + k r_in + I + eta) without coupling:
// with eta = 0 and no input its v is a discrete Ornstein-Uhlenbeck process under noise.
qifsim::NeuronPopulation linear_population(std::int64_t n, double tau) {
  qifsim::NeuronPopulation p;
  p.model = "tanh";
  p.n = n;
  p.values = {{"tau", tau}, {"k", 0.0}, {"eta", 0.0}, {"v_init", 0.0}};
  return p;
}

TEST(StochasticNumbers, NormalMomentsAndHistogram) {
  const std::int64_t neurons = 1000, steps = 200;
  const double count = static_cast<double>(neurons * steps);
  double sum = 0, sq = 0, lag_neuron = 0, lag_step = 0;
  const int bins = 20;
  std::vector<double> hist(bins, 0.0);  // bins of width 0.4 on [-4, 4], tails in the end bins
  for (std::int64_t t = 0; t < steps; ++t) {
    for (std::int64_t i = 0; i < neurons; ++i) {
      const double z = standard_normal(7, 99, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(t));
      sum += z;
      sq += z * z;
      if (i + 1 < neurons) lag_neuron += z * standard_normal(7, 99, static_cast<std::uint64_t>(i + 1), static_cast<std::uint64_t>(t));
      lag_step += z * standard_normal(7, 99, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(t + 1));
      int b = static_cast<int>(std::floor((z + 4.0) / 0.4));
      b = b < 0 ? 0 : (b >= bins ? bins - 1 : b);
      hist[static_cast<std::size_t>(b)] += 1.0;
    }
  }
  const double se = 1.0 / std::sqrt(count);
  EXPECT_NEAR(sum / count, 0.0, 5 * se);
  EXPECT_NEAR(sq / count, 1.0, 5 * std::sqrt(2.0) * se);
  EXPECT_NEAR(lag_neuron / count, 0.0, 5 * se);  // the two halves of a Box-Muller pair
  EXPECT_NEAR(lag_step / count, 0.0, 5 * se);
  // Chi-square against the normal distribution's bin probabilities (19 degrees of freedom:
  // the 0.999 quantile is 43.8).
  const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  double chi2 = 0;
  for (int b = 0; b < bins; ++b) {
    const double lo = b == 0 ? -INFINITY : -4.0 + 0.4 * b, hi = b == bins - 1 ? INFINITY : -4.0 + 0.4 * (b + 1);
    const double expected = count * (cdf(hi) - cdf(lo));
    chi2 += (hist[static_cast<std::size_t>(b)] - expected) * (hist[static_cast<std::size_t>(b)] - expected) / expected;
  }
  EXPECT_LT(chi2, 43.8);
  // Other seeds and populations give other numbers.
  EXPECT_NE(standard_normal(7, 99, 3, 5), standard_normal(8, 99, 3, 5));
  EXPECT_NE(standard_normal(7, 99, 3, 5), standard_normal(7, 98, 3, 5));
}

TEST(StochasticNumbers, TheNormalsLogarithmAndSineCosineAgreeWithTheCLibrary) {
  // Over the uniforms' range and the angles' (a sweep plus the ends), against libm: within a few
  // ulp of the value (log, relative); cos and sin within 7e-16 absolute (the reference's own
  // argument pi * v is rounded, up to 4.4e-16 near v = +-1, which cos_sin_pi avoids).
  std::vector<double> us = {0x1p-53, 3 * 0x1p-53, 1e-300, 1e-10, 0.5, 0.7071067811865476, 0.7071067811865475,
                            1.4142135623730951 / 2, 1.0 - 0x1p-53};
  for (int i = 1; i < 100000; ++i) us.push_back(static_cast<double>(i) / 100000.0);
  for (double big : {1.0, 1.5, 2.0, 10.0, 123.456, 1e5, 7.7e10, 1e300}) us.push_back(big);  // PTRS and log(k!) take these
  for (double u : us) {
    const double want = std::log(u);
    EXPECT_NEAR(qifsim::model::log_normal_positive(u), want, 4e-16 * std::fabs(want) + 1e-300) << "u " << u;
  }
  for (int i = -100000; i <= 100000; ++i) {
    const double v = static_cast<double>(i) / 100000.0;
    double c = 0, s = 0;
    qifsim::model::cos_sin_pi(v, c, s);
    ASSERT_NEAR(c, std::cos(3.14159265358979323846 * v), 7e-16) << "v " << v;
    ASSERT_NEAR(s, std::sin(3.14159265358979323846 * v), 7e-16) << "v " << v;
  }
}

TEST(StochasticNumbers, PoissonMomentsAndProbabilities) {
  for (double lambda : {0.02, 0.7, 3.0, 9.99, 10.0, 47.5, 99.9, 100.0, 2000.0}) {
    const auto law = poisson_law(lambda);
    const int draws = 100000;
    double sum = 0, sq = 0;
    std::vector<double> hist(8, 0.0);
    for (int d = 0; d < draws; ++d) {
      const double k = static_cast<double>(poisson_count(law, 11, 5, 1, static_cast<std::uint64_t>(d % 1000),
                                                         static_cast<std::uint64_t>(d / 1000)));
      ASSERT_GE(k, 0.0);
      sum += k;
      sq += k * k;
      if (k < 8) hist[static_cast<std::size_t>(k)] += 1.0;
    }
    const double mean = sum / draws, var = sq / draws - mean * mean;
    EXPECT_NEAR(mean, lambda, 5 * std::sqrt(lambda / draws)) << "lambda " << lambda;
    // The sample variance's standard error for a Poisson law: sqrt((lambda + 2 lambda^2) / draws).
    EXPECT_NEAR(var, lambda, 5 * std::sqrt((lambda + 2 * lambda * lambda) / draws)) << "lambda " << lambda;
    if (lambda >= 0.5 && lambda <= 10.0) {  // P(k) for the small counts, each within 5 standard errors
      double pk = std::exp(-lambda);
      for (int k = 0; k < 8; ++k) {
        if (k > 0) pk *= lambda / k;
        EXPECT_NEAR(hist[static_cast<std::size_t>(k)] / draws, pk, 5 * std::sqrt(pk * (1 - pk) / draws) + 1e-4)
            << "lambda " << lambda << ", k " << k;
      }
    }
  }
  EXPECT_EQ(poisson_count(poisson_law(0.0), 1, 2, 1, 3, 4), 0);
  // The rejection's log(k!) against the C library's lgamma.
  for (double k : {0.0, 1.0, 2.0, 6.0, 7.0, 8.0, 30.0, 1000.0, 123456.0}) {
    EXPECT_NEAR(qifsim::model::log_factorial(k), std::lgamma(k + 1.0), 1e-12 * (1.0 + std::lgamma(k + 1.0))) << "k " << k;
  }
}

TEST(StochasticInput, OrnsteinUhlenbeckOnALinearModel) {
  const std::int64_t n = 20000, steps = 600;
  const double dt = 0.1, tau = 2.0, sigma = 1.5;
  qifsim::Network net(dt, qifsim::Backend::Cpu);
  net.add_population("ou", linear_population(n, tau));
  net.add_noise("ou", {sigma, 42});
  net.compile();
  run_steps(net, steps);
  const std::vector<double> v = net.get_var("ou", "v");
  std::vector<double> next(v.size());
  {
    std::vector<double> x(static_cast<std::size_t>(n), 0.0), y(static_cast<std::size_t>(n));
    net.forward(x.data(), y.data());
    next = net.next_state("ou", "v");
  }
  // The discrete process v <- a v + sqrt(dt) sigma xi, a = 1 - dt/tau: stationary variance
  // dt sigma^2 / (1 - a^2) (reached to 1e-9 after 600 steps) and lag-one correlation a.
  const double a = 1.0 - dt / tau, var = dt * sigma * sigma / (1.0 - a * a);
  double mean = 0, sq = 0, lag = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    mean += v[i];
    sq += v[i] * v[i];
    lag += v[i] * next[i];
  }
  mean /= static_cast<double>(n);
  const double sample_var = sq / static_cast<double>(n) - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5 * std::sqrt(var / static_cast<double>(n)));
  EXPECT_NEAR(sample_var / var, 1.0, 5 * std::sqrt(2.0 / static_cast<double>(n)));
  EXPECT_NEAR(lag / static_cast<double>(n) / sample_var, a, 0.03);
  // The same process written out here with the same numbers (seed, the population's name,
  // neuron, step): v + dt * (-v / tau), then + (sqrt(dt) * sigma) * xi, bit for bit.
  const std::uint32_t key = qifsim::model::population_key("ou");
  for (std::int64_t i : {std::int64_t(0), std::int64_t(1), std::int64_t(777), n - 1}) {
    double x = 0.0;
    for (std::int64_t t = 0; t < steps; ++t) {
      x = x + dt * (-x / tau);
      x = x + (std::sqrt(dt) * sigma) * standard_normal(42, key, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(t));
    }
    EXPECT_EQ(x, v[static_cast<std::size_t>(i)]) << "neuron " << i;
  }
}

TEST(StochasticInput, TheLoopDrawsTheModelsNumbers) {
  // From v = 0 one step of the linear model leaves 0 + (sqrt(dt) sigma) xi, or the count times
  // weight 1: every neuron's number against model::standard_normal and model::poisson_count, on
  // three spans and an odd size (the last pair half used), by inversion (lambda 0.6: the
  // vector count; 25: the guide table) and by rejection (lambda 300).
  const std::int64_t n = 9001;
  const double dt = 0.01;
  for (double rate : {3.0, 125.0, 1500.0}) {
    for (bool noise : {true, false}) {
      qifsim::Network net(dt, qifsim::Backend::Cpu);
      net.add_population("lin", linear_population(n, 1.0));
      if (noise) {
        net.add_noise("lin", {2.0, 8});
      } else {
        net.add_poisson_input("lin", {rate, 1.0, 20, false, 8});
      }
      net.compile();
      std::vector<double> x(static_cast<std::size_t>(n), 0.0), y(x.size());
      const auto law = poisson_law(20 * rate * dt);
      const std::uint32_t key = qifsim::model::population_key("lin");
      for (std::uint64_t t = 0; t < 4; ++t) {
        net.set_var("lin", "v", std::vector<double>(x.size(), 0.0));
        net.forward(x.data(), y.data());
        const std::vector<double> v = net.next_state("lin", "v");
        for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(n); ++i) {
          const double want = noise ? (std::sqrt(dt) * 2.0) * standard_normal(8, key, i, t)
                                    : static_cast<double>(poisson_count(law, 8, key, 1, i, t));
          ASSERT_EQ(v[i], want) << "neuron " << i << ", step " << t << (noise ? ", noise" : ", Poisson");
        }
      }
    }
  }
}

TEST(StochasticInput, PoissonDriveMatchesTheRate) {
  // No leak to speak of (tau 1e12), weight 1: v counts the input spikes received.
  const std::int64_t n = 5000, steps = 400;
  const double dt = 0.01, rate = 3.0;
  const std::int64_t sources = 20;  // lambda = 0.6 per step
  qifsim::Network net(dt, qifsim::Backend::Cpu);
  net.add_population("p", linear_population(n, 1e12));
  net.add_poisson_input("p", {rate, 1.0, sources, false, 3});
  net.compile();
  run_steps(net, steps);
  qifsim::Network common(dt, qifsim::Backend::Cpu);
  common.add_population("q", linear_population(n, 1e12));
  common.add_poisson_input("q", {rate, 0.5, sources, true, 3});  // shared: one count for all
  common.compile();
  run_steps(common, steps);
  const std::vector<double> v = net.get_var("p", "v");
  const double expected = static_cast<double>(sources) * rate * dt * steps;  // 240
  double mean = 0, sq = 0;
  for (double x : v) {
    mean += x;
    sq += x * x;
  }
  mean /= static_cast<double>(n);
  const double var = sq / static_cast<double>(n) - mean * mean;
  EXPECT_NEAR(mean, expected, 5 * std::sqrt(expected / static_cast<double>(n)));
  EXPECT_NEAR(var / expected, 1.0, 5 * std::sqrt(2.0 / static_cast<double>(n)));
  const std::vector<double> shared = common.get_var("q", "v");
  for (double x : shared) ASSERT_EQ(x, shared[0]);
  EXPECT_NEAR(shared[0], 0.5 * expected, 0.5 * 6 * std::sqrt(expected));
}

TEST(StochasticInput, SpikingNeuronsKeepTheirReset) {
  const std::int64_t n = 300;
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation q;
  q.n = n;
  q.eta = 40.0;
  net.add_population("qif", q);
  net.add_noise("qif", {3.0, 1});
  net.add_poisson_input("qif", {50.0, 0.2, 10, false, 2});
  net.compile();
  std::vector<double> x(static_cast<std::size_t>(n), 0.0), y(static_cast<std::size_t>(n));
  int spikes = 0;
  for (int t = 0; t < 2000; ++t) {
    net.forward(x.data(), y.data());
    const std::vector<double> start = net.get_var("qif", "v");  // at the step's start
    const std::vector<double> v = net.next_state("qif", "v");
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (start[i] >= 100.0) {
        ASSERT_EQ(v[i], -100.0) << "neuron " << i << ", step " << t;
        ++spikes;
      }
    }
  }
  EXPECT_GT(spikes, 100);
}

// v of an uncoupled QIF population of `n` neurons named "p" with noise and Poisson input after
// `steps` steps, on `threads` OpenMP threads.
std::vector<double> driven_qif(std::int64_t n, int steps, int threads, qifsim::Precision precision) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, precision);
  qifsim::QifPopulation q;
  q.n = n;
  q.eta = 1.0;
  net.add_population("p", q);
  std::vector<double> sigma(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < sigma.size(); ++i) sigma[i] = 0.5 + 0.001 * static_cast<double>(i % 1000);
  net.add_noise("p", {sigma, 5});
  net.add_poisson_input("p", {20.0, 0.3, 100, false, 6});
  net.add_poisson_input("p", {5.0, -0.2, 1, true, 6});
  net.compile();
  run_steps(net, steps);
  omp_set_num_threads(before);
  return net.get_var("p", "v");
}

TEST(StochasticInput, SameNumbersForAnyThreadCountAndPopulationSize) {
  for (auto precision : {qifsim::Precision::Float64, qifsim::Precision::Float32}) {
    const std::vector<double> one = driven_qif(40000, 30, 1, precision);
    const std::vector<double> two = driven_qif(40000, 30, 2, precision);
    const std::vector<double> three = driven_qif(40000, 30, 3, precision);
    EXPECT_EQ(one, two);
    EXPECT_EQ(one, three);
    // A smaller population of the same name: its neurons see the same numbers.
    const std::vector<double> small = driven_qif(4097, 30, 2, precision);
    for (std::size_t i = 0; i < small.size(); ++i) ASSERT_EQ(small[i], one[i]) << "neuron " << i;
  }
}

TEST(StochasticInput, RunsContinueAndCheckpointsResumeTheNumbers) {
  const auto make = []() {
    auto net = std::make_unique<qifsim::Network>(1e-3, qifsim::Backend::Cpu);
    qifsim::QifPopulation q;
    q.n = 50;
    q.eta = 2.0;
    net->add_population("p", q);
    net->add_noise("p", {1.0, 9});
    net->add_poisson_input("p", {30.0, 0.1, 10, false, 9});
    net->compile();
    return net;
  };
  auto whole = make();
  run_steps(*whole, 100);
  const std::vector<double> expected = whole->get_var("p", "v");
  auto split = make();
  run_steps(*split, 60);
  const std::string path = ::testing::TempDir() + "stochastic.ckpt";
  split->save_checkpoint(path);
  run_steps(*split, 40);
  EXPECT_EQ(split->get_var("p", "v"), expected);  // the second run continues the steps' numbers
  auto resumed = make();
  resumed->load_checkpoint(path);
  run_steps(*resumed, 40);
  EXPECT_EQ(resumed->get_var("p", "v"), expected);
  whole->reset();  // the steps count from 0 again: the same numbers
  run_steps(*whole, 100);
  EXPECT_EQ(whole->get_var("p", "v"), expected);
  std::remove(path.c_str());
  // sigma = 0 and no Poisson input: the plain run.
  auto plain = make();
  plain->add_noise("p", {0.0, 9});
  EXPECT_NO_THROW(plain->compile());
}

TEST(StochasticInput, ACheckpointRefusesANetworkWithOtherNoise) {
  const auto make = [](double sigma) {
    auto net = std::make_unique<qifsim::Network>(1e-3, qifsim::Backend::Cpu);
    qifsim::QifPopulation q;
    q.n = 8;
    net->add_population("p", q);
    net->add_noise("p", {sigma, 1});
    net->compile();
    return net;
  };
  auto a = make(1.0);
  run_steps(*a, 10);
  const std::string path = ::testing::TempDir() + "noise_fingerprint.ckpt";
  a->save_checkpoint(path);
  EXPECT_NO_THROW(make(1.0)->load_checkpoint(path));
  EXPECT_THROW(make(2.0)->load_checkpoint(path), qifsim::Error);
  std::remove(path.c_str());
}

TEST(StochasticInput, SetStepCountContinuesTheNumbers) {
  // A network built again (compile() counts from 0) continues the count where it is told to.
  const auto make = []() {
    auto net = std::make_unique<qifsim::Network>(1e-3, qifsim::Backend::Cpu);
    qifsim::NeuronPopulation p = linear_population(20, 2.0);
    net->add_population("lin", p);
    net->add_noise("lin", {1.0, 4});
    net->compile();
    return net;
  };
  auto whole = make();
  run_steps(*whole, 30);
  auto split = make();
  run_steps(*split, 12);
  const std::vector<double> v = split->next_state("lin", "v");
  auto again = make();
  again->set_var("lin", "v", v);
  again->set_step_count(12);
  run_steps(*again, 18);
  EXPECT_EQ(again->get_var("lin", "v"), whole->get_var("lin", "v"));
  EXPECT_THROW(again->set_step_count(-1), qifsim::InvalidArgument);
}

TEST(StochasticInput, BadInputIsRefusedNamingIt) {
  qifsim::Network net(1e-3, qifsim::Backend::Cpu);
  qifsim::QifPopulation q;
  q.n = 4;
  net.add_population("p", q);
  net.add_function("f", 2, qifsim::Activation::Identity);
  const auto message = [&](auto call) -> std::string {
    try {
      call();
    } catch (const qifsim::InvalidArgument& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message([&] { net.add_noise("p", {-1.0, 0}); }).find("sigma = -1 must be finite and >= 0"), std::string::npos);
  EXPECT_NE(message([&] { net.add_noise("p", {std::vector<double>{1, 2}, 0}); }).find("sigma has 2 values"), std::string::npos);
  EXPECT_NE(message([&] { net.add_noise("f", {1.0, 0}); }).find("'f' is a function node"), std::string::npos);
  EXPECT_NE(message([&] { net.add_noise("nope", {1.0, 0}); }).find("unknown node 'nope'"), std::string::npos);
  EXPECT_NE(message([&] { net.add_poisson_input("p", {-2.0, 1.0, 1, false, 0}); }).find("rate = -2"), std::string::npos);
  EXPECT_NE(message([&] { net.add_poisson_input("p", {2.0, 1.0, 0, false, 0}); }).find("sources = 0"), std::string::npos);
  EXPECT_NE(message([&] { net.add_poisson_input("p", {1e12, 1.0, 1000, false, 0}); }).find("too many"), std::string::npos);
}

}  // namespace
