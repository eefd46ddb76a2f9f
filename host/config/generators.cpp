// host/config/generators.cpp - deterministic Lorentzian quantiles and seeded random weights.
#include "qifsim/generators.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_set>

#include "qifsim/error.hpp"
#include "core/memory_check.hpp"

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
  // A uniform integer in [0, n), n >= 1: min(floor(u * n), n - 1) (the product is rounded to a
  // double, so floor can reach n when u is just below 1; the min keeps it in range).
  std::int64_t below(std::int64_t n) {
    const auto t = static_cast<std::int64_t>(uniform() * static_cast<double>(n));
    return t < n ? t : n - 1;
  }

 private:
  std::mt19937_64 engine_;
};

// fixed_indegree draws rows in blocks of this many, each block from its own engine.
constexpr std::int64_t kRowsPerStream = 4096;

// The seed of block b's engine: splitmix64 of seed + (b + 1) * 0x9e3779b97f4a7c15, so that
// blocks get unrelated streams.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t b) {
  std::uint64_t z = seed + (b + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void check_count(std::int64_t n, const char* what) {
  if (n < 0) throw InvalidArgument(std::string(what) + ": count " + std::to_string(n) + " must be >= 0");
}

// A sparse shape: counts >= 0 and at most 2^31 - 1 (the CSR columns are 32-bit).
void check_sparse_shape(std::int64_t rows, std::int64_t cols, const char* what) {
  check_count(rows, what);
  check_count(cols, what);
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  if (rows > kMax || cols > kMax) {
    throw InvalidArgument(std::string(what) + ": shape (" + std::to_string(rows) + ", " + std::to_string(cols) +
                          ") has more than 2^31 - 1 rows or columns");
  }
}

// A CSR matrix of `rows` rows and about `entries` entries (4-byte index + 8-byte value each,
// 8 bytes per row offset) must fit in memory: refused (MemoryBudgetError naming the matrix
// and its size) before anything is allocated.
void check_sparse_fits(std::int64_t rows, std::int64_t cols, double entries, const std::string& what) {
  detail::require_host_bytes(entries * 12.0 + (static_cast<double>(rows) + 1.0) * 8.0,
                             what + ": a " + std::to_string(rows) + " x " + std::to_string(cols) + " matrix with " +
                                 std::to_string(static_cast<long long>(entries)) + " entries");
}

// Rows [lo, hi) of a matrix of `rows` rows.
void check_row_range(std::int64_t rows, std::int64_t lo, std::int64_t hi, const char* what) {
  if (lo < 0 || lo > hi || hi > rows) {
    throw InvalidArgument(std::string(what) + ": rows [" + std::to_string(lo) + ", " + std::to_string(hi) +
                          ") are not a range of the matrix's " + std::to_string(rows));
  }
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

namespace {

// Block b of sparse_matrix: rows r0 .. r1 - 1 as one row-major run of (r1 - r0) * cols entries,
// walked by geometric gaps from the block's own engine (stream_seed); each nonzero's position
// then its value. `emit(row, col, value)` receives them in order.
template <class Emit>
void sparse_block(std::int64_t r0, std::int64_t r1, std::int64_t cols, double p, double log_q,
                  const ValueDistribution& values, std::uint64_t seed, std::int64_t b, Emit&& emit) {
  Draw draw(stream_seed(seed, static_cast<std::uint64_t>(b)));
  const std::int64_t total = (r1 - r0) * cols;
  if (p == 1.0) {
    for (std::int64_t pos = 0; pos < total; ++pos) emit(r0 + pos / cols, pos % cols, draw.value(values));
    return;
  }
  std::int64_t pos = -1;
  for (;;) {
    // 1 - u is exact (u is a multiple of 2^-53); the ratio is >= 0 and may be huge or inf
    // for tiny p, so it is compared as a double before any conversion.
    const double gap = std::floor(std::log(1.0 - draw.uniform()) / log_q);
    const std::int64_t left = total - pos - 1;  // entries after pos
    if (!(gap < static_cast<double>(left))) break;
    pos += 1 + static_cast<std::int64_t>(gap);
    if (pos >= total) break;  // static_cast<double>(left) may have rounded up
    emit(r0 + pos / cols, pos % cols, draw.value(values));
  }
}

}  // namespace

SparseMatrix sparse_matrix(std::int64_t rows, std::int64_t cols, double p, const ValueDistribution& values,
                           std::uint64_t seed) {
  check_sparse_shape(rows, cols, "sparse_matrix");
  return sparse_matrix_rows(rows, cols, p, values, seed, 0, rows);
}

SparseMatrix sparse_matrix_rows(std::int64_t rows, std::int64_t cols, double p, const ValueDistribution& values,
                                std::uint64_t seed, std::int64_t lo, std::int64_t hi) {
  check_sparse_shape(rows, cols, "sparse_matrix");
  check_row_range(rows, lo, hi, "sparse_matrix_rows");
  if (!(p >= 0.0 && p <= 1.0)) throw InvalidArgument("sparse_matrix: p = " + std::to_string(p) + " must be in [0, 1]");
  // About p * rows * cols entries, a few standard deviations more at most.
  const std::int64_t own = hi - lo;
  const double mean = p * static_cast<double>(own) * static_cast<double>(cols);
  check_sparse_fits(own, cols, mean + 4.0 * std::sqrt(mean), "sparse_matrix (p = " + std::to_string(p) + ")");
  SparseMatrix m(own, cols);
  if (own * cols == 0 || p == 0.0) return m;  // < 2^62: no overflow
  // ln(1 - p) through log1p: exact to the last digits for small p, where 1 - p rounds.
  const double log_q = p < 1.0 ? std::log1p(-p) : 0.0;  // < 0 for p in (0, 1)
  // The blocks that overlap [lo, hi), each walked from its start (its stream), rows outside
  // the range skipped.
  const std::int64_t first = lo / kRowsPerStream, last = (hi + kRowsPerStream - 1) / kRowsPerStream;
  const bool threads = mean >= static_cast<double>(std::int64_t{1} << 20);
  // Two passes over the blocks (each block's engine starts again): the rows' counts, then the
  // entries, written straight into their place, so the matrix is held once.
#pragma omp parallel for schedule(dynamic) if (threads)
  for (std::int64_t b = first; b < last; ++b) {
    sparse_block(b * kRowsPerStream, std::min(rows, (b + 1) * kRowsPerStream), cols, p, log_q, values, seed, b,
                 [&m, lo, hi](std::int64_t r, std::int64_t, double) {
                   if (r >= lo && r < hi) ++m.indptr[static_cast<std::size_t>(r - lo + 1)];
                 });
  }
  for (std::int64_t r = 0; r < own; ++r) m.indptr[static_cast<std::size_t>(r + 1)] += m.indptr[static_cast<std::size_t>(r)];
  m.indices.resize(static_cast<std::size_t>(m.indptr.back()));
  m.values.resize(m.indices.size());
#pragma omp parallel for schedule(dynamic) if (threads)
  for (std::int64_t b = first; b < last; ++b) {
    std::int64_t row = -1, next = 0;
    sparse_block(b * kRowsPerStream, std::min(rows, (b + 1) * kRowsPerStream), cols, p, log_q, values, seed, b,
                 [&](std::int64_t r, std::int64_t c, double v) {
                   if (r < lo || r >= hi) return;
                   if (r != row) {  // the row's first entry: its place in the CSR arrays
                     row = r;
                     next = m.indptr[static_cast<std::size_t>(r - lo)];
                   }
                   m.indices[static_cast<std::size_t>(next)] = static_cast<std::int32_t>(c);
                   m.values[static_cast<std::size_t>(next++)] = v;
                 });
  }
  return m;
}

SparseMatrix fixed_indegree(std::int64_t rows, std::int64_t cols, std::int64_t k, const ValueDistribution& values,
                            std::uint64_t seed, bool autapses) {
  return fixed_indegree_rows(rows, cols, k, values, seed, autapses, 0, rows);
}

SparseMatrix fixed_indegree_rows(std::int64_t rows, std::int64_t cols, std::int64_t k, const ValueDistribution& values,
                                 std::uint64_t seed, bool autapses, std::int64_t lo, std::int64_t hi) {
  check_sparse_shape(rows, cols, "fixed_indegree");
  check_row_range(rows, lo, hi, "fixed_indegree_rows");
  if (!autapses && rows != cols) {
    throw InvalidArgument("fixed_indegree: without autapses the matrix must be square (rows == cols); got (" +
                          std::to_string(rows) + ", " + std::to_string(cols) + ")");
  }
  // Row i draws from n candidates: every column, or without autapses every column but i.
  const std::int64_t n = autapses ? cols : cols - 1;
  const std::int64_t k_max = rows > 0 ? n : cols;  // no rows: nothing is drawn
  if (k < 0 || k > k_max) {
    throw InvalidArgument("fixed_indegree: k = " + std::to_string(k) + " must be in [0, " + std::to_string(k_max) +
                          "] (" + std::to_string(cols) + " columns" + (autapses ? "" : ", no autapses") + ")");
  }
  const std::int64_t own = hi - lo;
  check_sparse_fits(own, cols, static_cast<double>(own) * static_cast<double>(k),
                    "fixed_indegree (k = " + std::to_string(k) + ")");
  SparseMatrix m(own, cols);
  const auto kk = static_cast<std::size_t>(k);
  m.indices.resize(static_cast<std::size_t>(own) * kk);
  m.values.resize(static_cast<std::size_t>(own) * kk);
  for (std::int64_t i = 0; i < own; ++i) m.indptr[static_cast<std::size_t>(i + 1)] = (i + 1) * k;
  // Rows in blocks of kRowsPerStream, block b drawing from its own engine (stream_seed): the
  // blocks run on every thread and the matrix does not depend on the thread count.
  // Floyd's sampling: for j = n - k .. n - 1, t uniform in [0, j]; take t, or j if t is taken.
  // Membership: a linear scan for small k; else the row index stamped on each taken candidate
  // (O(1) per draw; a hash set where the candidates are too many to stamp).
  constexpr std::size_t kSmall = 32;
  constexpr std::int64_t kMaxStamped = std::int64_t{1} << 24;
  const bool stamped = kk > kSmall && n <= kMaxStamped;
  // The blocks that overlap [lo, hi): each drawn from its start (rows before lo are drawn
  // and dropped), up to hi.
  const std::int64_t first = lo / kRowsPerStream, last = (hi + kRowsPerStream - 1) / kRowsPerStream;
#pragma omp parallel if (own * k >= (std::int64_t{1} << 20))
  {
    std::vector<std::int64_t> chosen;
    chosen.reserve(kk);
    std::vector<std::int32_t> stamp(stamped ? static_cast<std::size_t>(n) : 0, -1);
    std::unordered_set<std::int64_t> taken;
    if (kk > kSmall && !stamped) taken.reserve(2 * kk);
#pragma omp for schedule(dynamic)
    for (std::int64_t b = first; b < last; ++b) {
      Draw draw(stream_seed(seed, static_cast<std::uint64_t>(b)));
      for (std::int64_t i = b * kRowsPerStream; i < std::min(hi, (b + 1) * kRowsPerStream); ++i) {
        chosen.clear();
        taken.clear();
        for (std::int64_t j = n - k; j < n; ++j) {
          const std::int64_t t = draw.below(j + 1);
          bool seen;
          if (stamped) {
            seen = stamp[static_cast<std::size_t>(t)] == static_cast<std::int32_t>(i);
            stamp[static_cast<std::size_t>(seen ? j : t)] = static_cast<std::int32_t>(i);
          } else if (kk > kSmall) {
            seen = !taken.insert(t).second;
            if (seen) taken.insert(j);
          } else {
            seen = std::find(chosen.begin(), chosen.end(), t) != chosen.end();
          }
          chosen.push_back(seen ? j : t);
        }
        std::sort(chosen.begin(), chosen.end());
        if (i < lo) {  // drawn for the stream's sake only
          for (std::size_t q = 0; q < kk; ++q) (void)draw.value(values);
          continue;
        }
        const std::size_t base = static_cast<std::size_t>(i - lo) * kk;
        for (std::size_t q = 0; q < kk; ++q) {
          const std::int64_t c = chosen[q];
          m.indices[base + q] = static_cast<std::int32_t>(!autapses && c >= i ? c + 1 : c);  // skip column i
        }
        for (std::size_t q = 0; q < kk; ++q) m.values[base + q] = draw.value(values);
      }
    }
  }
  return m;
}

}  // namespace qifsim
