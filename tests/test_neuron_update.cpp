// tests/test_neuron_update.cpp - the CPU backend's vectorised neuron loop (host/cpu/
// neuron_update.cpp: SSE2 and, where the CPU has it, AVX2) against a scalar Euler step written
// here from shared/spec/semantics.md: bit for bit, in float32 and float64, with and without
// adaptation, with per-neuron parameters, states on both sides of the threshold (and on it),
// on one thread and on the threaded path (n >= kParallelNeurons).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/neuron_update.hpp"

namespace {

template <class T>
struct Case {
  std::int64_t n;
  std::vector<T> v, s, x, in, s_in, fired;
  std::vector<T> eta, tau, k, tau_s, v_th, v_reset, alpha, tau_x;
};

template <class T>
Case<T> random_case(std::int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  auto u = [&](double lo, double hi) { return static_cast<T>(std::uniform_real_distribution<double>(lo, hi)(rng)); };
  Case<T> c;
  c.n = n;
  for (std::int64_t i = 0; i < n; ++i) {
    c.v_th.push_back(u(50.0, 1000.0));
    // A third above the threshold, one in 16 exactly on it, the rest below.
    const double r = u(0.0, 1.0);
    c.v.push_back(i % 16 == 5 ? c.v_th.back()
                  : (i == 0 || r < 0.33) ? c.v_th.back() + u(0.0, 100.0)
                                         : u(-100.0, 49.0));
    c.s.push_back(u(0.0, 3.0));
    c.x.push_back(u(0.0, 2.0));
    c.in.push_back(u(-20.0, 40.0));
    c.s_in.push_back(u(-5.0, 5.0));
    c.eta.push_back(u(-5.0, 5.0));
    c.tau.push_back(u(0.5, 2.0));
    c.k.push_back(u(0.0, 3.0));
    c.tau_s.push_back(u(0.2, 1.5));
    c.v_reset.push_back(u(-1000.0, -10.0));
    c.alpha.push_back(u(0.0, 1.0));
    c.tau_x.push_back(u(1.0, 20.0));
  }
  c.fired.assign(static_cast<std::size_t>(n), T(7));  // overwritten with 0 or 1
  return c;
}

// The spec's explicit Euler step of one neuron, in its order of operations.
template <class T, bool Adapt>
void reference_step(Case<T>& c, std::size_t i, T dt) {
  const T v = c.v[i];
  const bool spike = v >= c.v_th[i];
  const T sp = spike ? T(1) : T(0);
  T drive = c.eta[i];
  if (Adapt) drive = drive - c.x[i];
  T sum = v * v;
  sum = sum + drive;
  sum = sum + c.in[i];
  T rate = sum / c.tau[i];
  const T coupling = c.k[i] * c.s_in[i];
  rate = rate + coupling;
  const T v_next = v + dt * rate;
  T decay = -c.s[i] / c.tau_s[i];
  c.s[i] = c.s[i] + dt * decay + sp;
  if (Adapt) {
    const T xdecay = -c.x[i] / c.tau_x[i];
    c.x[i] = c.x[i] + dt * xdecay + c.alpha[i] * sp;
  }
  c.v[i] = spike ? c.v_reset[i] : v_next;
  c.fired[i] = sp;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b, std::string& where) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      where = "index " + std::to_string(i) + ": " + std::to_string(a[i]) + " vs " + std::to_string(b[i]);
      return false;
    }
  }
  return true;
}

template <class T, bool Adapt, bool Events>
void check(std::int64_t n, bool allow_avx2) {
  SCOPED_TRACE(std::string(sizeof(T) == 8 ? "float64" : "float32") + (Adapt ? " adaptation" : "") +
               (Events ? " events" : "") + " n=" + std::to_string(n) + (allow_avx2 ? "" : " baseline"));
  Case<T> got = random_case<T>(n, static_cast<unsigned>(n) + (Adapt ? 1000u : 0u));
  Case<T> want = got;
  const T dt = static_cast<T>(1e-3);
  std::int64_t spikes = 0;
  qifsim::detail::SpikeLists lists;
  for (int step = 0; step < 3; ++step) {  // three steps: spikes, resets and the steps after
    qifsim::detail::NeuronArrays<T> a{got.v.data(), got.s.data(), got.x.data(), got.in.data(), got.s_in.data(),
                                      Events ? &lists : nullptr};
    const qifsim::kernels::QifParamPtrs<T> p{got.eta.data(),   got.tau.data(),     got.k.data(),
                                             got.tau_s.data(), got.v_th.data(),    got.v_reset.data(),
                                             got.alpha.data(), got.tau_x.data()};
    qifsim::detail::update_neurons<T, Adapt, Events>(a, p, n, dt, allow_avx2);
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) reference_step<T, Adapt>(want, i, dt);
    std::string where;
    EXPECT_TRUE(same_bits(got.v, want.v, where)) << "v, step " << step << ", " << where;
    EXPECT_TRUE(same_bits(got.s, want.s, where)) << "s, step " << step << ", " << where;
    if (Adapt) {
      EXPECT_TRUE(same_bits(got.x, want.x, where)) << "x, step " << step << ", " << where;
    }
    if (Events) {  // the spikes as one ascending list of indices
      std::vector<long> listed;
      for (std::size_t i = 0; i < want.fired.size(); ++i) {
        if (want.fired[i] == T(1)) listed.push_back(static_cast<long>(i));
      }
      EXPECT_EQ(lists.all, listed) << "spikes, step " << step;
    }
    for (T f : want.fired) spikes += f == T(1) ? 1 : 0;
  }
  // The check covers both sides of the threshold (n = 1: neuron 0 starts above it).
  EXPECT_GT(spikes, 0);
  if (n >= 16) {
    EXPECT_LT(spikes, 3 * n);
  }
}

template <class T>
void check_all(bool allow_avx2) {
  for (std::int64_t n : {std::int64_t{1}, std::int64_t{7}, std::int64_t{1000},
                         qifsim::detail::kParallelNeurons + 13}) {
    check<T, false, false>(n, allow_avx2);
    check<T, false, true>(n, allow_avx2);
    check<T, true, false>(n, allow_avx2);
    check<T, true, true>(n, allow_avx2);
  }
}

TEST(NeuronUpdate, Float64EqualsTheScalarSpecStepBitForBit) { check_all<double>(true); }
TEST(NeuronUpdate, Float32EqualsTheScalarSpecStepBitForBit) { check_all<float>(true); }
TEST(NeuronUpdate, BaselineCopyEqualsTheScalarSpecStepBitForBit) {
  check_all<double>(false);
  check_all<float>(false);
}

}  // namespace

namespace {

// tau and tau_s as one power of two: the loop multiplies by the exact inverse instead of
// dividing (ExactInverses). Against the spec's division, bit for bit, with states whose
// products overflow, subnormal and signed-zero s, for several powers and both precisions.
template <class T, bool Adapt>
void check_exact_inverses(T tau, T tau_s, bool allow_avx2) {
  SCOPED_TRACE(std::string(sizeof(T) == 8 ? "float64" : "float32") + " tau " + std::to_string(tau) + " tau_s " +
               std::to_string(tau_s) + (Adapt ? " adaptation" : "") + (allow_avx2 ? "" : " baseline"));
  const std::int64_t n = 1003;
  Case<T> got = random_case<T>(n, 77u);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    got.tau[k] = tau;
    got.tau_s[k] = tau_s;
    if (i % 11 == 3) got.s[k] = std::numeric_limits<T>::denorm_min() * static_cast<T>(i);  // subnormal
    if (i % 13 == 4) got.s[k] = -T(0);
    if (i % 17 == 5) got.v[k] = -std::numeric_limits<T>::max() / T(4);  // v * v overflows
  }
  Case<T> want = got;
  qifsim::detail::ExactInverses<T> inv;
  inv.tau = qifsim::kernels::power_of_two_inverse(tau);
  inv.tau_s = qifsim::kernels::power_of_two_inverse(tau_s);
  ASSERT_NE(inv.tau, T(0));
  ASSERT_NE(inv.tau_s, T(0));
  const T dt = static_cast<T>(1e-3);
  for (int step = 0; step < 3; ++step) {
    qifsim::detail::NeuronArrays<T> a{got.v.data(), got.s.data(), got.x.data(), got.in.data(), got.s_in.data(), nullptr};
    const qifsim::kernels::QifParamPtrs<T> p{got.eta.data(),   got.tau.data(),  got.k.data(),
                                             got.tau_s.data(), got.v_th.data(), got.v_reset.data(),
                                             got.alpha.data(), got.tau_x.data()};
    qifsim::detail::update_neurons<T, Adapt, false>(a, p, n, dt, allow_avx2, 0, inv);
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) reference_step<T, Adapt>(want, i, dt);
    std::string where;
    EXPECT_TRUE(same_bits(got.v, want.v, where)) << "v, step " << step << ", " << where;
    EXPECT_TRUE(same_bits(got.s, want.s, where)) << "s, step " << step << ", " << where;
    if (Adapt) {
      EXPECT_TRUE(same_bits(got.x, want.x, where)) << "x, step " << step << ", " << where;
    }
  }
}

template <class T>
void check_exact_inverses_all(bool allow_avx2) {
  for (const T tau : {T(1), T(0.5), T(2), T(0.125), T(1024)}) {
    for (const T tau_s : {T(1), T(0.25), T(8)}) {
      check_exact_inverses<T, false>(tau, tau_s, allow_avx2);
      check_exact_inverses<T, true>(tau, tau_s, allow_avx2);
    }
  }
}

TEST(NeuronUpdate, PowerOfTwoTimeConstantsMultiplyByTheExactInverseWithTheSameBits) {
  check_exact_inverses_all<double>(true);
  check_exact_inverses_all<float>(true);
  check_exact_inverses_all<double>(false);
  check_exact_inverses_all<float>(false);
}

TEST(NeuronUpdate, OnlyPowersOfTwoWithAFiniteInverseQualify) {
  using qifsim::kernels::power_of_two_inverse;
  EXPECT_EQ(power_of_two_inverse(1.0), 1.0);
  EXPECT_EQ(power_of_two_inverse(0.25), 4.0);
  EXPECT_EQ(power_of_two_inverse(std::ldexp(1.0, 1023)), std::ldexp(1.0, -1023));  // a subnormal inverse, exact
  EXPECT_EQ(power_of_two_inverse(8.0f), 0.125f);
  for (const double d : {0.8, 3.0, 0.0, -2.0, std::ldexp(1.0, -1030), std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(power_of_two_inverse(d), 0.0) << d;
  }
}

}  // namespace

namespace {

// Subnormals::Flush inside the loop: the spec's step, then s (and x) below the smallest normal
// number set to 0, as the separate pass after the step did; bit for bit.
template <class T, bool Adapt>
void check_flush_in_loop(bool allow_avx2) {
  SCOPED_TRACE(std::string(sizeof(T) == 8 ? "float64" : "float32") + (Adapt ? " adaptation" : "") +
               (allow_avx2 ? "" : " baseline"));
  const std::int64_t n = 2000;
  Case<T> got = random_case<T>(n, 91u);
  constexpr T kTiny = std::numeric_limits<T>::min();
  for (std::int64_t i = 0; i < n; ++i) {  // states that decay into (and below) the normal range
    const auto k = static_cast<std::size_t>(i);
    if (i % 3 == 0) got.s[k] = kTiny * static_cast<T>(1.0001 + 0.01 * static_cast<double>(i % 7));
    if (i % 5 == 0) got.x[k] = kTiny * static_cast<T>(1.0 + 0.002 * static_cast<double>(i % 11));
    if (i % 3 == 0) got.v[k] = T(-50);  // no spike: s only decays
  }
  Case<T> want = got;
  const T dt = static_cast<T>(0.05);
  std::int64_t flushed = 0;
  for (int step = 0; step < 4; ++step) {
    qifsim::detail::NeuronArrays<T> a{got.v.data(), got.s.data(), got.x.data(), got.in.data(), got.s_in.data(), nullptr};
    const qifsim::kernels::QifParamPtrs<T> p{got.eta.data(),   got.tau.data(),  got.k.data(),
                                             got.tau_s.data(), got.v_th.data(), got.v_reset.data(),
                                             got.alpha.data(), got.tau_x.data()};
    qifsim::detail::update_neurons<T, Adapt, false>(a, p, n, dt, allow_avx2, 0, {}, /*flush=*/true);
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      reference_step<T, Adapt>(want, i, dt);
      if (std::fabs(want.s[i]) < kTiny) {
        flushed += want.s[i] != T(0);
        want.s[i] = T(0);
      }
      if (Adapt && std::fabs(want.x[i]) < kTiny) want.x[i] = T(0);
    }
    std::string where;
    EXPECT_TRUE(same_bits(got.v, want.v, where)) << "v, step " << step << ", " << where;
    EXPECT_TRUE(same_bits(got.s, want.s, where)) << "s, step " << step << ", " << where;
    if (Adapt) {
      EXPECT_TRUE(same_bits(got.x, want.x, where)) << "x, step " << step << ", " << where;
    }
  }
  EXPECT_GT(flushed, 0) << "the case must take s below the normal range";
}

TEST(NeuronUpdate, FlushInTheLoopEqualsTheStepThenTheFlush) {
  for (const bool avx2 : {true, false}) {
    check_flush_in_loop<double, false>(avx2);
    check_flush_in_loop<double, true>(avx2);
    check_flush_in_loop<float, false>(avx2);
    check_flush_in_loop<float, true>(avx2);
  }
}

}  // namespace
