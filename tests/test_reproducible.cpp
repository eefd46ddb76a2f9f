// tests/test_reproducible.cpp - RunOptions::reproducible: every product in the library's own
// fixed order. Row splits of a coupling give the bits of the whole product (the property ranks
// and members will rely on), a run's J s equals the eight-lane order written out here, and the
// loss and softmax sum in the spec's one reduction order (written out here too).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/coupling_choice.hpp"
#include "core/row_slice.hpp"
#include "cpu/blas.hpp"
#include "cpu/event_coupling.hpp"
#include "cpu/make_coupling.hpp"
#include "model/activation.hpp"
#include "model/loss.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using qifsim::Matrix;
using qifsim::Weights;

// y = W x over the rows cut into `parts` near-equal contiguous ranges, each range's product by an
// operator holding only those rows.
template <class T>
std::vector<T> product_in_parts(const Weights& w, qifsim::CouplingMode storage, const std::vector<T>& x, int parts,
                                bool fixed) {
  const std::int64_t rows = w.rows();
  std::vector<T> y(static_cast<std::size_t>(rows));
  for (int p = 0; p < parts; ++p) {
    const std::int64_t lo = rows * p / parts, hi = rows * (p + 1) / parts;
    const Weights slice = qifsim::detail::row_slice(w, lo, hi);
    auto op = qifsim::detail::make_coupling<T>(slice, qifsim::detail::weights_facts(slice), storage);
    op->set_fixed_order(fixed);
    op->apply(x.data(), false, y.data() + lo);
  }
  return y;
}

template <class T>
void check_row_splits(qifsim::CouplingMode storage) {
  const std::int64_t n = 700;  // 700 x 700 dense: OpenBLAS's size outside the mode
  std::mt19937_64 rng(29);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::bernoulli_distribution keep(0.2);
  Matrix m(n, n);
  for (double& v : m.data) v = storage == qifsim::CouplingMode::Sparse && !keep(rng) ? 0.0 : u(rng);
  const Weights w = storage == qifsim::CouplingMode::Sparse ? Weights(qifsim::SparseMatrix::from_dense(m)) : Weights(m);
  std::vector<T> x(static_cast<std::size_t>(n));
  for (T& v : x) v = static_cast<T>(u(rng));
  const std::string what = std::string(sizeof(T) == 8 ? "float64 " : "float32 ") + qifsim::to_string(storage);

  const std::vector<T> whole = product_in_parts(w, storage, x, 1, true);
  const std::vector<T> loose_whole = product_in_parts(w, storage, x, 1, false);
  std::int64_t off_the_mode = 0, moved_by_splits = 0;
  for (int parts : {2, 3, 7}) {
    const std::vector<T> split = product_in_parts(w, storage, x, parts, true);
    ASSERT_EQ(std::memcmp(split.data(), whole.data(), whole.size() * sizeof(T)), 0) << what << ", " << parts << " parts";
    // Outside the mode a dense product of a slice may take another implementation and order
    // (OpenBLAS for large slices, the own loop for small ones): what differs is rounding.
    const std::vector<T> loose = product_in_parts(w, storage, x, parts, false);
    const double tol = sizeof(T) == 8 ? 1e-12 : 1e-4;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      ASSERT_NEAR(static_cast<double>(loose[i]), static_cast<double>(whole[i]), tol) << what << ", row " << i;
      off_the_mode += loose[i] != whole[i];
      moved_by_splits += loose[i] != loose_whole[i];
    }
  }
  // What differs outside the mode, over the 2-, 3- and 7-part splits (3 x 700 rows): rows whose
  // bits differ from the mode's, and rows that a split changes against the unsplit call.
  const std::string tag = std::string(sizeof(T) == 8 ? "f64_" : "f32_") + qifsim::to_string(storage);
  ::testing::Test::RecordProperty("rows_off_the_mode_" + tag, std::to_string(off_the_mode));
  ::testing::Test::RecordProperty("rows_moved_by_splits_outside_the_mode_" + tag, std::to_string(moved_by_splits));
}

TEST(Reproducible, RowSplitsOfADenseProductGiveTheBitsOfTheWhole) {
  check_row_splits<double>(qifsim::CouplingMode::Dense);
  check_row_splits<float>(qifsim::CouplingMode::Dense);
}

TEST(Reproducible, RowSplitsOfASparseProductGiveTheBitsOfTheWhole) {
  check_row_splits<double>(qifsim::CouplingMode::Sparse);
  check_row_splits<float>(qifsim::CouplingMode::Sparse);
}

// The eight-lane order of host/cpu/blas.hpp, written out: lane k sums columns k, k + 8, ... below
// the last whole group of eight, then ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), then
// the remaining columns in order.
double lanes_row(const double* a, const double* x, std::int64_t cols) {
  const std::int64_t whole = cols - cols % 8;
  double lane[8] = {};
  for (std::int64_t j = 0; j < whole; ++j) lane[j % 8] = lane[j % 8] + a[j] * x[j];
  double sum = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (std::int64_t j = whole; j < cols; ++j) sum = sum + a[j] * x[j];
  return sum;
}

TEST(Reproducible, ARunSumsJsInTheEightLaneOrder) {
  const std::int64_t n = 603;  // not a multiple of 8; 603 x 603 is OpenBLAS's size by default
  std::mt19937_64 rng(31);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Matrix J(n, n);
  for (double& v : J.data) v = u(rng) / std::sqrt(static_cast<double>(n));
  std::vector<double> s(static_cast<std::size_t>(n));
  for (double& v : s) v = 0.5 + u(rng);
  qifsim::Network net(1e-3, qifsim::Backend::Cpu, qifsim::Precision::Float64);
  qifsim::QifPopulation pop;
  pop.n = n;
  pop.weights = J;
  net.add_population("p", pop);
  net.compile();
  net.set_var("p", "s", s);
  qifsim::RunOptions opt;
  opt.progress = qifsim::Progress::Off;
  opt.coupling = qifsim::CouplingMode::Dense;
  opt.reproducible = true;
  opt.record_vars = {{"p", "s_in", false}};
  const Matrix got = net.run(Matrix(1, n, 0.0), opt).to_matrix("p", "s_in");
  ASSERT_EQ(got.cols, n);
  for (std::int64_t i = 0; i < n; ++i) {
    const double want = lanes_row(J.row(i), s.data(), n);
    const double have = got(0, i);
    ASSERT_EQ(std::memcmp(&have, &want, sizeof(double)), 0) << "row " << i << ": " << got(0, i) << " vs " << want;
  }
}

// The spec's one reduction order, written out: blocks of 256 (zeros past n) summed as a halving
// tree, the block sums added in order from 0.
double spec_sum(const std::vector<double>& v) {
  double total = 0.0;
  for (std::size_t first = 0; first < v.size(); first += 256) {
    std::vector<double> block(256, 0.0);
    for (std::size_t j = first; j < std::min(v.size(), first + 256); ++j) block[j - first] = v[j];
    for (std::size_t h = 128; h >= 1; h /= 2) {
      for (std::size_t j = 0; j < h; ++j) block[j] = block[j] + block[j + h];
    }
    total = total + block[0];
  }
  return total;
}

TEST(Reproducible, SoftmaxAndTheLossSumInTheOneReductionOrder) {
  for (std::int64_t n : {3, 256, 700}) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(n));
    std::uniform_real_distribution<double> u(-4.0, 4.0);
    std::vector<double> in(static_cast<std::size_t>(n)), target(static_cast<std::size_t>(n));
    for (double& v : in) v = u(rng);
    for (double& v : target) v = u(rng);
    const double top = *std::max_element(in.begin(), in.end());
    std::vector<double> e(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) e[i] = std::exp(in[i] - top);
    const double sum = spec_sum(e);

    std::vector<double> out(in.size());
    qifsim::detail::apply_activation(qifsim::Activation::Softmax, in.data(), out.data(), n);
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], e[i] / sum) << "softmax, n " << n << ", " << i;
    qifsim::detail::apply_activation(qifsim::Activation::LogSoftmax, in.data(), out.data(), n);
    const double log_sum = top + std::log(sum);
    for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(out[i], in[i] - log_sum) << "log_softmax, n " << n << ", " << i;

    std::vector<double> sq(in.size()), ab(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      const double d = in[i] - target[i];
      sq[i] = d * d;
      ab[i] = std::fabs(d);
    }
    using qifsim::detail::LossKind;
    EXPECT_EQ(qifsim::detail::step_loss(LossKind::Mse, in.data(), target.data(), n), spec_sum(sq) / static_cast<double>(n));
    EXPECT_EQ(qifsim::detail::step_loss(LossKind::L1, in.data(), target.data(), n), spec_sum(ab) / static_cast<double>(n));
  }
}

// A dense J run with events is held once, transposed in place; a product (a resync) then sums
// each row from J's columns in gemv_loop's eight-lane order: the same bits as gemv_loop, for
// shapes with tails, on one thread and threaded, with and without accumulate.
template <class T>
void check_product_from_columns(long n) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(n));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> A(static_cast<std::size_t>(n * n)), x(static_cast<std::size_t>(n)), y0(static_cast<std::size_t>(n));
  for (T& v : A) v = static_cast<T>(u(rng));
  for (T& v : x) v = static_cast<T>(u(rng));
  for (T& v : y0) v = static_cast<T>(u(rng));
  std::vector<T> Jt = A;
  qifsim::detail::transpose_square(Jt.data(), n);
  for (long i = 0; i < n; ++i) {
    for (long j = 0; j < n; ++j) {
      ASSERT_EQ(Jt[static_cast<std::size_t>(j * n + i)], A[static_cast<std::size_t>(i * n + j)]) << "transpose " << i << ", " << j;
    }
  }
  for (const bool accumulate : {false, true}) {
    std::vector<T> want = y0, got = y0;
    qifsim::detail::gemv_loop<T>(n, n, A.data(), x.data(), accumulate ? T(1) : T(0), want.data());
    qifsim::detail::product_from_columns(Jt.data(), x.data(), accumulate, got.data(), n, n);
    ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(T)), 0)
        << (sizeof(T) == 8 ? "float64" : "float32") << " n " << n << (accumulate ? " accumulate" : "");
  }
}

TEST(Reproducible, AProductFromJsColumnsHasTheEightLaneBits) {
  for (long n : {1L, 7L, 64L, 257L, 1027L, 2100L}) {  // 2100^2 takes the threaded path
    check_product_from_columns<double>(n);
    check_product_from_columns<float>(n);
  }
}

}  // namespace
