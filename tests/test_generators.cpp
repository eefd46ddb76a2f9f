// tests/test_generators.cpp - the sparse weight generators (qifsim/generators.hpp) against the
// statistics of their definitions: Bernoulli(p) entries for sparse_matrix, k distinct uniform
// columns per row for fixed_indegree.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/communicator.hpp"
#include "qifsim/error.hpp"
#include "qifsim/generators.hpp"
#include "qifsim/sparse_matrix.hpp"

namespace {

using qifsim::SparseMatrix;
using qifsim::ValueDistribution;

ValueDistribution constant(double a) { return {ValueDistribution::Kind::Constant, a, 0.0}; }
ValueDistribution uniform(double low, double high) { return {ValueDistribution::Kind::Uniform, low, high}; }
ValueDistribution normal(double mean, double sd) { return {ValueDistribution::Kind::Normal, mean, sd}; }

std::int64_t row_count(const SparseMatrix& m, std::int64_t i) {
  return m.indptr[static_cast<std::size_t>(i + 1)] - m.indptr[static_cast<std::size_t>(i)];
}

struct Moments {
  double mean = 0.0;
  double var = 0.0;  // sample variance (n - 1)
};

Moments moments(const std::vector<double>& x) {
  Moments m;
  for (double v : x) m.mean += v;
  m.mean /= static_cast<double>(x.size());
  for (double v : x) m.var += (v - m.mean) * (v - m.mean);
  m.var /= static_cast<double>(x.size() - 1);
  return m;
}

bool same(const SparseMatrix& a, const SparseMatrix& b) {
  return a.rows == b.rows && a.cols == b.cols && a.indptr == b.indptr && a.indices == b.indices && a.values == b.values;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const qifsim::InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

// ---- sparse_matrix ------------------------------------------------------------------------

class SparseDensity : public ::testing::TestWithParam<double> {};

// Each of the N = rows * cols entries is nonzero with probability p, independently: the count is
// Binomial(N, p), each row's count Binomial(cols, p), and two neighbours in the row-major order
// are both nonzero with probability p^2.
TEST_P(SparseDensity, EntriesAreBernoulli) {
  const double p = GetParam();
  const std::int64_t n = 2000;
  const SparseMatrix m = qifsim::sparse_matrix(n, n, p, constant(1.0), 17);
  EXPECT_NO_THROW(m.validate("sparse_matrix"));
  ASSERT_EQ(m.rows, n);
  ASSERT_EQ(m.cols, n);
  const double total = static_cast<double>(n * n);
  const double frac = static_cast<double>(m.nnz()) / total;
  const double se = std::sqrt(p * (1.0 - p) / total);
  EXPECT_NEAR(frac, p, 4.0 * se) << "p = " << p << ", nnz = " << m.nnz();

  // Per-row counts: mean cols * p, variance cols * p * (1 - p).
  std::vector<double> counts;
  for (std::int64_t i = 0; i < n; ++i) counts.push_back(static_cast<double>(row_count(m, i)));
  const Moments c = moments(counts);
  const double mu = static_cast<double>(n) * p;
  const double var = static_cast<double>(n) * p * (1.0 - p);
  EXPECT_NEAR(c.mean, mu, 4.0 * std::sqrt(var / static_cast<double>(n)));
  // The sample variance of n near-normal counts has a relative standard error sqrt(2 / (n - 1))
  // = 0.032; 5 of those.
  EXPECT_NEAR(c.var / var, 1.0, 5.0 * std::sqrt(2.0 / static_cast<double>(n - 1))) << "row count variance " << c.var;

  // Column counts: the same binomial (no column is favoured).
  std::vector<double> col_counts(static_cast<std::size_t>(n), 0.0);
  for (std::int32_t j : m.indices) col_counts[static_cast<std::size_t>(j)] += 1.0;
  const Moments cc = moments(col_counts);
  EXPECT_NEAR(cc.var / var, 1.0, 5.0 * std::sqrt(2.0 / static_cast<double>(n - 1))) << "column count variance " << cc.var;

  // Adjacent pairs (i, j), (i, j + 1): both nonzero with probability p^2. Neighbouring pairs
  // overlap, so Var = M (p^2 - p^4) + 2 (M - 1) (p^3 - p^4) for M pairs.
  double both = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = m.indptr[static_cast<std::size_t>(i)] + 1; k < m.indptr[static_cast<std::size_t>(i + 1)]; ++k) {
      if (m.indices[static_cast<std::size_t>(k)] == m.indices[static_cast<std::size_t>(k - 1)] + 1) both += 1.0;
    }
  }
  const double pairs = static_cast<double>(n * (n - 1));
  const double pair_var = pairs * (p * p - p * p * p * p) + 2.0 * (pairs - 1.0) * (p * p * p - p * p * p * p);
  EXPECT_NEAR(both, pairs * p * p, 4.0 * std::sqrt(pair_var)) << "adjacent nonzero pairs";
}

INSTANTIATE_TEST_SUITE_P(Probabilities, SparseDensity, ::testing::Values(0.01, 0.1, 0.5));

TEST(SparseMatrix, ZeroAndOne) {
  const SparseMatrix none = qifsim::sparse_matrix(300, 200, 0.0, constant(1.0), 3);
  EXPECT_NO_THROW(none.validate());
  EXPECT_EQ(none.nnz(), 0);
  EXPECT_EQ(none.indptr, std::vector<std::int64_t>(301, 0));

  const SparseMatrix all = qifsim::sparse_matrix(30, 20, 1.0, uniform(-1.0, 1.0), 3);
  EXPECT_NO_THROW(all.validate());
  ASSERT_EQ(all.nnz(), 600);
  for (std::int64_t i = 0; i < 30; ++i) {
    EXPECT_EQ(all.indptr[static_cast<std::size_t>(i)], 20 * i);
    for (std::int64_t j = 0; j < 20; ++j) EXPECT_EQ(all.indices[static_cast<std::size_t>(20 * i + j)], j);
  }
  for (double v : all.values) {
    EXPECT_GE(v, -1.0);
    EXPECT_LT(v, 1.0);
  }

  // Empty shapes.
  EXPECT_EQ(qifsim::sparse_matrix(0, 10, 0.5, constant(1.0), 1).nnz(), 0);
  EXPECT_EQ(qifsim::sparse_matrix(10, 0, 1.0, constant(1.0), 1).nnz(), 0);
  EXPECT_EQ(qifsim::sparse_matrix(10, 0, 1.0, constant(1.0), 1).indptr, std::vector<std::int64_t>(11, 0));
}

// A probability so small that the gap overflows every integer type, and a huge row: the positions
// stay in range and the draw ends at once.
TEST(SparseMatrix, TinyProbabilityAndLongRows) {
  for (double p : {1e-300, std::numeric_limits<double>::denorm_min(), 1e-17}) {
    const SparseMatrix m = qifsim::sparse_matrix(1000, 1000, p, constant(1.0), 5);
    EXPECT_NO_THROW(m.validate());
    EXPECT_EQ(m.nnz(), 0) << "p = " << p;  // expected count 1e6 p
  }
  // One row of 2^31 - 1 entries at p = 2e-9: about 4.3 nonzeros.
  const std::int64_t cols = std::numeric_limits<std::int32_t>::max();
  std::int64_t total = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const SparseMatrix m = qifsim::sparse_matrix(1, cols, 2e-9, constant(1.0), seed);
    EXPECT_NO_THROW(m.validate());
    total += m.nnz();
  }
  const double mu = 50.0 * 2e-9 * static_cast<double>(cols);  // 214.7, Poisson
  EXPECT_NEAR(static_cast<double>(total), mu, 4.0 * std::sqrt(mu));
}

TEST(SparseMatrix, ValueDistributions) {
  const std::int64_t n = 1000;
  const SparseMatrix c = qifsim::sparse_matrix(n, n, 0.1, constant(2.5), 8);
  ASSERT_GT(c.nnz(), 0);
  for (double v : c.values) EXPECT_EQ(v, 2.5);

  // Uniform on [a, b): mean (a + b) / 2, variance (b - a)^2 / 12, fourth central moment
  // (b - a)^4 / 80.
  const double a = 5.0, b = 6.0;
  const SparseMatrix u = qifsim::sparse_matrix(n, n, 0.1, uniform(a, b), 9);
  EXPECT_NO_THROW(u.validate());
  for (double v : u.values) {
    ASSERT_GE(v, a);
    ASSERT_LT(v, b);
  }
  const Moments mu = moments(u.values);
  const double cnt = static_cast<double>(u.nnz());
  const double var_u = (b - a) * (b - a) / 12.0;
  EXPECT_NEAR(mu.mean, (a + b) / 2.0, 4.0 * std::sqrt(var_u / cnt));
  const double m4 = std::pow(b - a, 4) / 80.0;
  EXPECT_NEAR(mu.var, var_u, 4.0 * std::sqrt((m4 - var_u * var_u) / cnt));

  // Normal(mean, sd): the sample variance has standard error sd^2 sqrt(2 / n).
  const double mean = -1.5, sd = 0.7;
  const SparseMatrix g = qifsim::sparse_matrix(n, n, 0.1, normal(mean, sd), 10);
  EXPECT_NO_THROW(g.validate());
  const Moments mg = moments(g.values);
  const double cg = static_cast<double>(g.nnz());
  EXPECT_NEAR(mg.mean, mean, 4.0 * sd / std::sqrt(cg));
  EXPECT_NEAR(mg.var, sd * sd, 4.0 * sd * sd * std::sqrt(2.0 / cg));
  // Values are independent of the positions: the mean over the first half of the rows matches.
  const auto half = static_cast<std::size_t>(g.indptr[static_cast<std::size_t>(n / 2)]);
  const Moments first(moments(std::vector<double>(g.values.begin(), g.values.begin() + static_cast<std::ptrdiff_t>(half))));
  EXPECT_NEAR(first.mean, mean, 4.0 * sd / std::sqrt(static_cast<double>(half)));
}

// The documented stream: std::mt19937_64(seed), u = (w >> 11) 2^-53, per nonzero one u for the
// gap floor(ln(1 - u) / ln(1 - p)) to it, then one u for a uniform value.
TEST(SparseMatrix, FollowsTheDocumentedDraws) {
  // Three blocks of rows (4096, 4096, 808), each walked by its own engine.
  const std::int64_t rows = 9000, cols = 23, block = 4096;
  const double p = 0.25, low = -2.0, high = 3.0;
  const std::uint64_t seed = 1234;
  std::vector<std::int64_t> row, col;
  std::vector<double> val;
  for (std::int64_t b = 0; b * block < rows; ++b) {
    std::uint64_t z = seed + static_cast<std::uint64_t>(b + 1) * 0x9e3779b97f4a7c15ULL;  // splitmix64
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    std::mt19937_64 e(z ^ (z >> 31));
    auto u01 = [&e] { return static_cast<double>(e() >> 11) / 9007199254740992.0; };
    const std::int64_t r0 = b * block, n_rows = std::min(rows, r0 + block) - r0;
    std::int64_t pos = -1;
    for (;;) {
      pos += 1 + static_cast<std::int64_t>(std::floor(std::log(1.0 - u01()) / std::log(1.0 - p)));
      if (pos >= n_rows * cols) break;
      row.push_back(r0 + pos / cols);
      col.push_back(pos % cols);
      val.push_back(low + (high - low) * u01());
    }
  }
  const SparseMatrix want = SparseMatrix::from_coo(rows, cols, row, col, val);
  const SparseMatrix got = qifsim::sparse_matrix(rows, cols, p, uniform(low, high), seed);
  ASSERT_EQ(got.indptr, want.indptr);
  ASSERT_EQ(got.indices, want.indices);
  for (std::size_t k = 0; k < got.values.size(); ++k) EXPECT_DOUBLE_EQ(got.values[k], want.values[k]);
}

TEST(SparseMatrix, DeterministicForASeed) {
  const SparseMatrix a = qifsim::sparse_matrix(400, 300, 0.05, normal(0.0, 1.0), 77);
  const SparseMatrix b = qifsim::sparse_matrix(400, 300, 0.05, normal(0.0, 1.0), 77);
  const SparseMatrix c = qifsim::sparse_matrix(400, 300, 0.05, normal(0.0, 1.0), 78);
  EXPECT_TRUE(same(a, b));
  EXPECT_FALSE(same(a, c));
}

TEST(SparseMatrix, RefusesBadArguments) {
  for (double p : {-0.1, 1.5, std::nan("")}) {
    const std::string msg = error_of([p] { qifsim::sparse_matrix(3, 3, p, constant(1.0), 1); });
    EXPECT_NE(msg.find("sparse_matrix: p ="), std::string::npos) << msg;
    EXPECT_NE(msg.find("must be in [0, 1]"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([] { qifsim::sparse_matrix(-1, 3, 0.5, constant(1.0), 1); }).find("must be >= 0"), std::string::npos);
  EXPECT_NE(error_of([] { qifsim::sparse_matrix(3, -2, 0.5, constant(1.0), 1); }).find("must be >= 0"), std::string::npos);
  EXPECT_NE(error_of([] { qifsim::sparse_matrix(3, std::int64_t{1} << 31, 0.5, constant(1.0), 1); }).find("2^31 - 1"),
            std::string::npos);
}

// ---- fixed_indegree -----------------------------------------------------------------------

TEST(FixedIndegree, KDistinctColumnsPerRowWithoutAutapses) {
  const std::int64_t n = 1000, k = 100;
  const SparseMatrix m = qifsim::fixed_indegree(n, n, k, uniform(0.0, 1.0), 21);
  EXPECT_NO_THROW(m.validate("fixed_indegree"));  // ascending, distinct, in range, finite
  ASSERT_EQ(m.nnz(), n * k);
  std::vector<double> usage(static_cast<std::size_t>(n), 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(row_count(m, i), k) << "row " << i;
    std::set<std::int32_t> distinct;
    for (std::int64_t q = m.indptr[static_cast<std::size_t>(i)]; q < m.indptr[static_cast<std::size_t>(i + 1)]; ++q) {
      const std::int32_t j = m.indices[static_cast<std::size_t>(q)];
      EXPECT_NE(j, i) << "autapse in row " << i;
      distinct.insert(j);
      usage[static_cast<std::size_t>(j)] += 1.0;
    }
    EXPECT_EQ(static_cast<std::int64_t>(distinct.size()), k);
  }
  // Column j is open to the n - 1 other rows, each taking it with probability k / (n - 1): the
  // expected use is k. Pearson's statistic over the n columns has about n - 1 degrees of freedom
  // (slightly less spread, since each count's variance is k (1 - k/(n-1)) < k); a generous band.
  double chi2 = 0.0;
  for (double c : usage) chi2 += (c - static_cast<double>(k)) * (c - static_cast<double>(k)) / static_cast<double>(k);
  const double df = static_cast<double>(n - 1);
  EXPECT_LT(chi2, df + 6.0 * std::sqrt(2.0 * df)) << "chi2 = " << chi2;
  EXPECT_GT(chi2, df - 6.0 * std::sqrt(2.0 * df)) << "chi2 = " << chi2;
}

// Floyd's sampling gives every k-subset the same probability, not only every column: over many
// rows of a 5-column matrix with k = 2, each of the 10 pairs appears a tenth of the time.
TEST(FixedIndegree, EverySubsetEquallyLikely) {
  const std::int64_t rows = 100000, cols = 5, k = 2;
  const SparseMatrix m = qifsim::fixed_indegree(rows, cols, k, constant(1.0), 4, /*autapses=*/true);
  EXPECT_NO_THROW(m.validate());
  std::map<std::pair<int, int>, double> freq;
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto b = static_cast<std::size_t>(m.indptr[static_cast<std::size_t>(i)]);
    freq[{m.indices[b], m.indices[b + 1]}] += 1.0;
  }
  ASSERT_EQ(freq.size(), 10u);
  double chi2 = 0.0;
  for (const auto& kv : freq) chi2 += (kv.second - rows / 10.0) * (kv.second - rows / 10.0) / (rows / 10.0);
  EXPECT_LT(chi2, 33.7) << "chi2 (9 df; 33.7 is its 0.9999 quantile)";

  // Without autapses, over seeds: row i of a 4 x 4 matrix with k = 2 takes one of the 3 pairs of
  // the other columns, each a third of the time.
  std::map<std::pair<int, int>, double> pairs[4];
  const int seeds = 6000;
  for (int s = 0; s < seeds; ++s) {
    const SparseMatrix q = qifsim::fixed_indegree(4, 4, 2, constant(1.0), static_cast<std::uint64_t>(s));
    for (int i = 0; i < 4; ++i) pairs[i][{q.indices[static_cast<std::size_t>(2 * i)], q.indices[static_cast<std::size_t>(2 * i + 1)]}] += 1.0;
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(pairs[i].size(), 3u) << "row " << i;
    double c2 = 0.0;
    for (const auto& kv : pairs[i]) {
      EXPECT_NE(kv.first.first, i);
      EXPECT_NE(kv.first.second, i);
      c2 += (kv.second - seeds / 3.0) * (kv.second - seeds / 3.0) / (seeds / 3.0);
    }
    EXPECT_LT(c2, 18.4) << "row " << i << " (2 df; 18.4 is its 0.9999 quantile)";
  }
}

TEST(FixedIndegree, FullRows) {
  // k = cols with autapses: every column of every row.
  const SparseMatrix all = qifsim::fixed_indegree(7, 9, 9, constant(0.5), 2, /*autapses=*/true);
  EXPECT_NO_THROW(all.validate());
  for (std::int64_t i = 0; i < 7; ++i) {
    ASSERT_EQ(row_count(all, i), 9);
    for (std::int64_t j = 0; j < 9; ++j) EXPECT_EQ(all.indices[static_cast<std::size_t>(9 * i + j)], j);
  }
  // k = cols - 1 without autapses: every column but the diagonal.
  const SparseMatrix off = qifsim::fixed_indegree(6, 6, 5, constant(0.5), 2);
  EXPECT_NO_THROW(off.validate());
  for (std::int64_t i = 0; i < 6; ++i) {
    std::vector<std::int32_t> want;
    for (std::int32_t j = 0; j < 6; ++j) {
      if (j != i) want.push_back(j);
    }
    const auto b = off.indices.begin() + off.indptr[static_cast<std::size_t>(i)];
    EXPECT_EQ(std::vector<std::int32_t>(b, b + 5), want) << "row " << i;
  }
  // k = 0 and empty shapes.
  EXPECT_EQ(qifsim::fixed_indegree(10, 10, 0, constant(1.0), 1).nnz(), 0);
  EXPECT_EQ(qifsim::fixed_indegree(0, 0, 0, constant(1.0), 1).nnz(), 0);
  EXPECT_EQ(qifsim::fixed_indegree(0, 4, 4, constant(1.0), 1, true).nnz(), 0);
}

TEST(FixedIndegree, RectangularWithAutapses) {
  const SparseMatrix m = qifsim::fixed_indegree(50, 300, 12, normal(1.0, 0.1), 6, /*autapses=*/true);
  EXPECT_NO_THROW(m.validate());
  EXPECT_EQ(m.rows, 50);
  EXPECT_EQ(m.cols, 300);
  for (std::int64_t i = 0; i < 50; ++i) EXPECT_EQ(row_count(m, i), 12);
}

TEST(FixedIndegree, Values) {
  const SparseMatrix u = qifsim::fixed_indegree(1000, 1000, 50, uniform(-3.0, -1.0), 12);
  const double cnt = static_cast<double>(u.nnz());
  for (double v : u.values) {
    ASSERT_GE(v, -3.0);
    ASSERT_LT(v, -1.0);
  }
  const Moments m = moments(u.values);
  EXPECT_NEAR(m.mean, -2.0, 4.0 * std::sqrt(4.0 / 12.0 / cnt));
  EXPECT_NEAR(m.var, 4.0 / 12.0, 4.0 * std::sqrt((16.0 / 80.0 - 16.0 / 144.0) / cnt));
  const SparseMatrix c = qifsim::fixed_indegree(100, 100, 10, constant(-0.25), 12);
  for (double v : c.values) EXPECT_EQ(v, -0.25);
}

TEST(FixedIndegree, DeterministicForASeed) {
  const SparseMatrix a = qifsim::fixed_indegree(500, 500, 40, normal(0.0, 1.0), 5);
  EXPECT_TRUE(same(a, qifsim::fixed_indegree(500, 500, 40, normal(0.0, 1.0), 5)));
  EXPECT_FALSE(same(a, qifsim::fixed_indegree(500, 500, 40, normal(0.0, 1.0), 6)));
}

TEST(SparseMatrix, TheSameMatrixOnAnyNumberOfThreads) {
  // 20000 x 20000 at p = 0.004 (1.6e6 entries, drawn on the threads): five blocks of rows.
  std::vector<qifsim::SparseMatrix> runs;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    runs.push_back(qifsim::sparse_matrix(20000, 20000, 0.004, normal(0.0, 1.0), 8));
  }
  omp_set_num_threads(omp_get_num_procs());
  for (std::size_t r = 1; r < runs.size(); ++r) {
    EXPECT_EQ(runs[r].indptr, runs[0].indptr) << r;
    EXPECT_EQ(runs[r].indices, runs[0].indices) << r;
    EXPECT_EQ(runs[r].values, runs[0].values) << r;
  }
  EXPECT_NEAR(static_cast<double>(runs[0].nnz()), 1.6e6, 5 * std::sqrt(1.6e6));
}

TEST(FixedIndegree, TheSameMatrixOnAnyNumberOfThreads) {
  // 20000 rows: five blocks of rows, each from its own engine, spread over the threads.
  std::vector<qifsim::SparseMatrix> runs;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    runs.push_back(qifsim::fixed_indegree(20000, 20000, 60, qifsim::ValueDistribution{qifsim::ValueDistribution::Kind::Uniform, 0.0, 1.0}, 7, false));
  }
  omp_set_num_threads(omp_get_num_procs());
  for (std::size_t r = 1; r < runs.size(); ++r) {
    EXPECT_EQ(runs[r].indices, runs[0].indices) << r;
    EXPECT_EQ(runs[r].values, runs[0].values) << r;
  }
}

TEST(FixedIndegree, RefusesBadArguments) {
  const std::string big = error_of([] { qifsim::fixed_indegree(10, 10, 10, constant(1.0), 1); });
  EXPECT_NE(big.find("fixed_indegree: k = 10 must be in [0, 9]"), std::string::npos) << big;
  const std::string big2 = error_of([] { qifsim::fixed_indegree(10, 8, 9, constant(1.0), 1, true); });
  EXPECT_NE(big2.find("fixed_indegree: k = 9 must be in [0, 8]"), std::string::npos) << big2;
  const std::string neg = error_of([] { qifsim::fixed_indegree(10, 10, -1, constant(1.0), 1); });
  EXPECT_NE(neg.find("fixed_indegree: k = -1"), std::string::npos) << neg;
  const std::string rect = error_of([] { qifsim::fixed_indegree(10, 12, 3, constant(1.0), 1); });
  EXPECT_NE(rect.find("without autapses the matrix must be square"), std::string::npos) << rect;
  EXPECT_NE(error_of([] { qifsim::fixed_indegree(-1, -1, 0, constant(1.0), 1); }).find("must be >= 0"), std::string::npos);
}

// Matrices no machine holds (petabytes) are refused by name and size before anything is
// allocated, as a MemoryBudgetError, not a bare std::bad_alloc or length_error.
TEST(Generators, MatricesThatCannotFitAreRefusedBeforeAllocating) {
  const std::int64_t n = std::numeric_limits<std::int32_t>::max();
  const auto refused = [](auto&& make) -> std::string {
    try {
      make();
    } catch (const qifsim::MemoryBudgetError& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("another exception: ") + e.what();
    }
    return "<accepted>";
  };
  const std::string k = refused([&] { qifsim::fixed_indegree(n, n, 1 << 20, constant(1.0), 1); });
  EXPECT_NE(k.find("fixed_indegree (k = 1048576): a 2147483647 x 2147483647 matrix"), std::string::npos) << k;
  EXPECT_NE(k.find("would take"), std::string::npos) << k;
  const std::string p = refused([&] { qifsim::sparse_matrix(n, n, 1.0, constant(1.0), 1); });
  EXPECT_NE(p.find("sparse_matrix (p = 1.000000): a 2147483647 x 2147483647 matrix"), std::string::npos) << p;
}

// 10^6 x 10^6 with k = 2: a dense matrix would be 8 TB; the CSR one is 2e6 entries. (How
// fast it is drawn is a benchmark's business, not a test's.)
TEST(FixedIndegree, HugeSparseIsDrawnInItsOwnSize) {
  const std::int64_t n = 1000000;
  const SparseMatrix m = qifsim::fixed_indegree(n, n, 2, constant(1.0), 3);
  EXPECT_EQ(m.nnz(), 2 * n);
  EXPECT_NO_THROW(m.validate());
}

}  // namespace

// A rank draws only its own rows: the rows of each rank's range (qifsim::partition_range, on
// 1 to 5 ranks; ranges that cut the 4096-row blocks) put together are the whole matrix, bit for
// bit, for both generators; an empty range is an empty matrix, and a range past the rows is
// refused.
TEST(Generators, EachRanksRowsPutTogetherAreTheWholeMatrix) {
  const std::int64_t rows = 9001;
  const qifsim::ValueDistribution normal{qifsim::ValueDistribution::Kind::Normal, 0.5, 0.2};
  const qifsim::SparseMatrix whole_sparse = qifsim::sparse_matrix(rows, rows, 0.003, normal, 17);
  const qifsim::SparseMatrix whole_fixed = qifsim::fixed_indegree(rows, rows, 40, normal, 23);
  for (int ranks = 1; ranks <= 5; ++ranks) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    for (const bool fixed : {false, true}) {
      const qifsim::SparseMatrix& whole = fixed ? whole_fixed : whole_sparse;
      std::vector<std::int64_t> indptr{0};
      std::vector<std::int32_t> indices;
      std::vector<double> values;
      for (const qifsim::NeuronRange& r : qifsim::partition(rows, ranks)) {
        const qifsim::SparseMatrix part =
            fixed ? qifsim::fixed_indegree_rows(rows, rows, 40, normal, 23, false, r.lo, r.hi)
                  : qifsim::sparse_matrix_rows(rows, rows, 0.003, normal, 17, r.lo, r.hi);
        ASSERT_EQ(part.rows, r.size());
        ASSERT_EQ(part.cols, rows);
        for (std::size_t i = 1; i < part.indptr.size(); ++i) indptr.push_back(indptr.back() + part.indptr[i] - part.indptr[i - 1]);
        indices.insert(indices.end(), part.indices.begin(), part.indices.end());
        values.insert(values.end(), part.values.begin(), part.values.end());
      }
      EXPECT_EQ(indptr, whole.indptr) << (fixed ? "fixed_indegree" : "sparse_matrix");
      EXPECT_EQ(indices, whole.indices) << (fixed ? "fixed_indegree" : "sparse_matrix");
      EXPECT_EQ(values, whole.values) << (fixed ? "fixed_indegree" : "sparse_matrix");
    }
  }
  const qifsim::SparseMatrix none = qifsim::fixed_indegree_rows(rows, rows, 40, normal, 23, false, 5000, 5000);
  EXPECT_EQ(none.rows, 0);
  EXPECT_TRUE(none.indices.empty());
  EXPECT_THROW(qifsim::sparse_matrix_rows(rows, rows, 0.003, normal, 17, 0, rows + 1), qifsim::InvalidArgument);
  EXPECT_THROW(qifsim::fixed_indegree_rows(rows, rows, 40, normal, 23, false, 10, 5), qifsim::InvalidArgument);
}
