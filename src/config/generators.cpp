// src/config/generators.cpp - deterministic Lorentzian quantiles and seeded random weights.
#include "qifsim/generators.hpp"

#include <cmath>
#include <random>

#include "qifsim/error.hpp"

namespace qifsim {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Platform-independent draws: std::mt19937_64 is fully specified by the standard; the
// standard distributions are not, so the mapping to numbers is written out here.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double normal() {
    const double u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * kPi * u2);
  }
  double value(const ValueDistribution& d) {
    switch (d.kind) {
      case ValueDistribution::Kind::Constant: return d.a;
      case ValueDistribution::Kind::Uniform: return d.a + (d.b - d.a) * uniform();
      case ValueDistribution::Kind::Normal: return d.a + d.b * normal();
    }
    return d.a;
  }

 private:
  std::mt19937_64 engine_;
};

void check_count(std::int64_t n, const char* what) {
  if (n < 0) throw InvalidArgument(std::string(what) + ": count " + std::to_string(n) + " must be >= 0");
}

}  // namespace

std::vector<double> lorentzian_quantiles(std::int64_t n, double center, double width) {
  check_count(n, "lorentzian_quantiles");
  std::vector<double> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 1; i <= n; ++i) {
    const double q = static_cast<double>(2 * i - n - 1) / static_cast<double>(n + 1);
    x[static_cast<std::size_t>(i - 1)] = center + width * std::tan(kPi / 2.0 * q);
  }
  return x;
}

std::vector<double> uniform_values(std::int64_t n, double low, double high, std::uint64_t seed) {
  check_count(n, "uniform_values");
  Draw draw(seed);
  std::vector<double> x(static_cast<std::size_t>(n));
  for (double& v : x) v = low + (high - low) * draw.uniform();
  return x;
}

std::vector<double> normal_values(std::int64_t n, double mean, double std_dev, std::uint64_t seed) {
  check_count(n, "normal_values");
  Draw draw(seed);
  std::vector<double> x(static_cast<std::size_t>(n));
  for (double& v : x) v = mean + std_dev * draw.normal();
  return x;
}

Matrix sparse_matrix(std::int64_t rows, std::int64_t cols, double p, const ValueDistribution& values,
                     std::uint64_t seed) {
  check_count(rows, "sparse_matrix");
  check_count(cols, "sparse_matrix");
  if (!(p >= 0.0 && p <= 1.0)) throw InvalidArgument("sparse_matrix: p = " + std::to_string(p) + " must be in [0, 1]");
  Draw draw(seed);
  Matrix m(rows, cols, 0.0);
  for (double& w : m.data) {
    if (draw.uniform() < p) w = draw.value(values);
  }
  return m;
}

}  // namespace qifsim
