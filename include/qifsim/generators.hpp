// qifsim/generators.hpp - the deterministic parameter and weight generators of config files.
//
// Random draws are reproducible on every platform: a std::mt19937_64 engine seeded with
// `seed` gives 64-bit words w; a uniform number is u = (w >> 11) * 2^-53 in [0, 1); a normal
// number takes two uniforms, z = sqrt(-2 ln(1 - u1)) * cos(2 pi u2). Matrices are filled row
// by row.
#pragma once

#include <cstdint>
#include <vector>

#include "qifsim/matrix.hpp"

namespace qifsim {

/// Lorentzian quantiles: x_i = center + width * tan(pi/2 * (2i - n - 1) / (n + 1)), i = 1..n
/// (the deterministic heterogeneous excitabilities of the Montbrio-Pazo-Roxin mean field).
std::vector<double> lorentzian_quantiles(std::int64_t n, double center, double width);

/// n numbers uniform in [low, high).
std::vector<double> uniform_values(std::int64_t n, double low, double high, std::uint64_t seed);
/// n normal numbers of the given mean and standard deviation.
std::vector<double> normal_values(std::int64_t n, double mean, double std_dev, std::uint64_t seed);

/// How the nonzero entries of a sparse matrix are drawn.
struct ValueDistribution {
  enum class Kind { Constant, Uniform, Normal } kind = Kind::Constant;
  double a = 1.0;  ///< the constant, the lower bound or the mean
  double b = 0.0;  ///< -, the upper bound or the standard deviation
};

/// rows x cols matrix whose entries are nonzero with probability p: for each entry in
/// row-major order one uniform u is drawn; when u < p the entry's value is drawn next from
/// `values` (same engine), else it is 0.
Matrix sparse_matrix(std::int64_t rows, std::int64_t cols, double p, const ValueDistribution& values,
                     std::uint64_t seed);

}  // namespace qifsim
