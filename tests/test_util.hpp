// tests/test_util.hpp - comparison helpers shared by the qifsim tests.
//
// Every helper returns a ::testing::AssertionResult that names the first offending index,
// so a failure reads "index 17: got X, expected Y (|diff| = D > tol T)".
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "qifsim/qifsim.hpp"

namespace qtest {

inline std::string fmt(double x) {
  std::ostringstream os;
  os << std::setprecision(17) << x;
  return os.str();
}

/// Pass when |a_i - b_i| <= max(atol, rtol * |b_i|) for every i (NaN never passes).
/// With rtol = atol = tol this is |a - b| <= tol * max(1, |b|).
inline ::testing::AssertionResult expect_close(const std::vector<double>& actual,
                                               const std::vector<double>& expected, double rtol,
                                               double atol) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: got " << actual.size() << " values, expected " << expected.size();
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i];
    const double b = expected[i];
    const double tol = std::max(atol, rtol * std::fabs(b));
    const double d = std::fabs(a - b);
    if (!(d <= tol)) {  // also catches NaN
      return ::testing::AssertionFailure() << "index " << i << ": got " << fmt(a) << ", expected "
                                           << fmt(b) << " (|diff| = " << fmt(d) << " > tol "
                                           << fmt(tol) << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

/// Relative-to-max(1,|b|) comparison: |a - b| <= tol * max(1, |b|).
inline ::testing::AssertionResult expect_rel(const std::vector<double>& actual,
                                             const std::vector<double>& expected, double tol) {
  return expect_close(actual, expected, tol, tol);
}

/// Compare a samples x width Matrix with a row-major expectation; names (row, col).
inline ::testing::AssertionResult expect_matrix_close(const qifsim::Matrix& actual,
                                                      std::int64_t rows, std::int64_t cols,
                                                      const std::vector<double>& expected,
                                                      double rtol, double atol) {
  if (actual.rows != rows || actual.cols != cols) {
    return ::testing::AssertionFailure() << "shape mismatch: got " << actual.rows << " x "
                                         << actual.cols << ", expected " << rows << " x " << cols;
  }
  if (static_cast<std::int64_t>(actual.data.size()) != rows * cols) {
    return ::testing::AssertionFailure()
           << "matrix holds " << actual.data.size() << " values for a " << rows << " x " << cols
           << " shape";
  }
  if (static_cast<std::int64_t>(expected.size()) != rows * cols) {
    return ::testing::AssertionFailure() << "test bug: expectation has " << expected.size()
                                         << " values for " << rows << " x " << cols;
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const double a = actual.data[static_cast<std::size_t>(r * cols + c)];
      const double b = expected[static_cast<std::size_t>(r * cols + c)];
      const double tol = std::max(atol, rtol * std::fabs(b));
      const double d = std::fabs(a - b);
      if (!(d <= tol)) {
        return ::testing::AssertionFailure()
               << "index (" << r << ", " << c << ") [flat " << r * cols + c << "]: got " << fmt(a)
               << ", expected " << fmt(b) << " (|diff| = " << fmt(d) << " > tol " << fmt(tol)
               << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

/// Bitwise-equal vectors (for determinism checks: same computation, same numbers).
inline ::testing::AssertionResult expect_identical(const std::vector<double>& actual,
                                                   const std::vector<double>& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size mismatch: got " << actual.size() << " values, expected " << expected.size();
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (!(actual[i] == expected[i]) && !(std::isnan(actual[i]) && std::isnan(expected[i]))) {
      return ::testing::AssertionFailure()
             << "index " << i << ": got " << fmt(actual[i]) << ", expected " << fmt(expected[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

/// Exact equality of integer sequences (sample steps).
inline ::testing::AssertionResult expect_steps(const std::vector<std::int64_t>& actual,
                                               const std::vector<std::int64_t>& expected) {
  if (actual.size() != expected.size()) {
    std::ostringstream os;
    os << "size mismatch: got " << actual.size() << " steps, expected " << expected.size();
    if (!actual.empty()) os << " (first got " << actual.front() << ", last " << actual.back() << ")";
    if (!expected.empty())
      os << " (first expected " << expected.front() << ", last " << expected.back() << ")";
    return ::testing::AssertionFailure() << os.str();
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] != expected[i]) {
      return ::testing::AssertionFailure()
             << "index " << i << ": got step " << actual[i] << ", expected " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

/// Flatten per-sample rows into one row-major vector.
inline std::vector<double> flatten(const std::vector<std::vector<double>>& rows) {
  std::vector<double> out;
  for (const auto& r : rows) out.insert(out.end(), r.begin(), r.end());
  return out;
}

/// Lower-case copy (for case-insensitive message checks).
inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// True when `haystack` contains `needle`, ignoring case.
inline bool icontains(const std::string& haystack, const std::string& needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

/// Two neurons coupled by -1e308 with s0 = 1: J s overflows to -inf at the first step, so v
/// diverges (the divergence tests of both backends).
inline qifsim::Network diverging_net(qifsim::Backend backend = qifsim::Backend::Cpu) {
  qifsim::Network net(1e-3, backend);
  qifsim::QifPopulation p;
  p.n = 2;
  p.weights = qifsim::Matrix(2, 2, -1e308);
  p.s0 = 1.0;
  net.add_population("qif", p);
  net.compile();
  return net;
}

/// A plain quiet RunOptions.
inline qifsim::RunOptions quiet_options(std::int64_t sampling = 1, std::int64_t cutoff = 0) {
  qifsim::RunOptions o;
  o.sampling_steps = sampling;
  o.cutoff = cutoff;
  o.progress = qifsim::Progress::Off;
  return o;
}

}  // namespace qtest

// ---------------------------------------------------------------------------------------
// Building engine objects from the reference description, and test data.
#include <random>

#include "reference_qif.hpp"

namespace qtest {

/// The engine population equal to a reference population (per-neuron parameters).
inline qifsim::QifPopulation to_population(const ref::QifParams& p) {
  qifsim::QifPopulation q;
  q.n = p.n;
  if (!p.J.empty()) q.weights = qifsim::Matrix(p.n, p.n, p.J);
  q.eta = p.eta;
  q.tau = p.tau;
  q.k = p.k;
  q.tau_s = p.tau_s;
  q.v0 = p.v0;
  q.s0 = p.s0;
  q.v_threshold = p.v_th;
  q.v_reset = p.v_reset;
  q.adaptation = p.adaptation;
  q.alpha = p.alpha;
  q.tau_x = p.tau_x;
  q.x0 = p.x0;
  q.output_var = p.output_v ? "v" : "s";
  return q;
}

/// n values uniform in [lo, hi).
inline std::vector<double> uniform(std::mt19937& rng, std::size_t n, double lo, double hi) {
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> out(n);
  for (double& x : out) x = d(rng);
  return out;
}

/// Time-varying drive: I_i(t) = base + amp * sin(2 pi f t dt + phase_i), T x N.
inline qifsim::Matrix sine_inputs(std::int64_t T, int n, double dt, double base, double amp,
                                  double freq, const std::vector<double>& phase) {
  qifsim::Matrix m(T, n);
  const double two_pi = 6.283185307179586;
  for (std::int64_t t = 0; t < T; ++t)
    for (int i = 0; i < n; ++i)
      m(t, i) = base + amp * std::sin(two_pi * freq * static_cast<double>(t) * dt + phase[static_cast<std::size_t>(i)]);
  return m;
}

/// Row t of a Matrix as a vector.
inline std::vector<double> row_of(const qifsim::Matrix& m, std::int64_t t) {
  return std::vector<double>(m.row(t), m.row(t) + m.cols);
}

/// True when the CUDA backend is built and usable (a one-neuron network compiles on it).
inline bool cuda_available() {
  static int cached = -1;
  if (cached < 0) {
    try {
      qifsim::Network net(1e-3, qifsim::Backend::Cuda, qifsim::Precision::Float64);
      qifsim::QifPopulation p;
      p.n = 1;
      net.add_population("probe", p);
      net.compile();
      cached = net.backend() == qifsim::Backend::Cuda ? 1 : 0;
    } catch (const qifsim::Error&) {
      cached = 0;
    }
  }
  return cached == 1;
}

}  // namespace qtest
