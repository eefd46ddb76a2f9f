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
#include "qifsim/sparse_matrix.hpp"

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

/// A rows x cols sparse matrix whose entries are nonzero with probability p, independently,
/// drawn in O(number of nonzeros). Rows are drawn in blocks of 4096, block b from its own
/// engine seeded as fixed_indegree's (blocks run on all threads; the matrix does not depend on
/// their number, and a part of the rows can be drawn alone): within a block's row-major
/// sequence of entries the gap to the next nonzero is geometric (one uniform u per nonzero:
/// gap = floor(ln(1 - u) / ln(1 - p))), then its value follows from `values` (same engine).
/// p = 1 gives every entry, p = 0 none. (Before the blocks, one engine walked the whole matrix:
/// a seed now gives another matrix; CHANGELOG.md.)
SparseMatrix sparse_matrix(std::int64_t rows, std::int64_t cols, double p, const ValueDistribution& values,
                           std::uint64_t seed);

/// A rows x cols sparse matrix with exactly k nonzeros in every row, at k distinct columns drawn
/// uniformly (without `autapses`, row i never takes column i; needs rows == cols then). Rows are
/// drawn in blocks of 4096, block b from its own engine seeded with splitmix64(seed + (b + 1) *
/// 0x9e3779b97f4a7c15) (blocks run on all threads; the matrix does not depend on their number);
/// within a block rows in order, each row's columns by Floyd's sampling (k uniforms), then its
/// k values from `values`; the row is stored with columns ascending. O(rows * k) time and memory.
SparseMatrix fixed_indegree(std::int64_t rows, std::int64_t cols, std::int64_t k, const ValueDistribution& values,
                            std::uint64_t seed, bool autapses = false);

/// Rows [lo, hi) of sparse_matrix(rows, cols, p, values, seed), the same values, as a
/// (hi - lo) x cols matrix drawn alone: only the 4096-row blocks that overlap the range are
/// drawn (a rank of a distributed run builds its own rows; qifsim::partition_range).
/// InvalidArgument unless 0 <= lo <= hi <= rows.
SparseMatrix sparse_matrix_rows(std::int64_t rows, std::int64_t cols, double p, const ValueDistribution& values,
                                std::uint64_t seed, std::int64_t lo, std::int64_t hi);
/// Rows [lo, hi) of fixed_indegree(rows, cols, k, values, seed, autapses), the same way.
SparseMatrix fixed_indegree_rows(std::int64_t rows, std::int64_t cols, std::int64_t k, const ValueDistribution& values,
                                 std::uint64_t seed, bool autapses, std::int64_t lo, std::int64_t hi);
}  // namespace qifsim
