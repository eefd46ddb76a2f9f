// tests/test_operators.cpp - the CPU coupling operators on shapes: B members at once and a row
// slice of a population's J (local rows, global columns), as ensembles and ranks will use
// them. Against a naive reference written here (the products within rounding; the event
// update bit for bit, as it adds in a stated order), and against the whole operator's rows
// (bit for bit: a row's sum depends on the row only).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/coupling_choice.hpp"
#include "core/row_slice.hpp"
#include "cpu/make_coupling.hpp"
#include "qifsim/qifsim.hpp"

namespace {

using qifsim::CouplingMode;
using qifsim::Matrix;
using qifsim::Weights;

constexpr std::int64_t kN = 70, kLo = 13, kHi = 57, kMembers = 3;
constexpr std::int64_t kLdx = kN + 5, kRows = kHi - kLo, kLdy = kRows + 3;  // padded strides

Weights weights_for(CouplingMode storage) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  if (storage == CouplingMode::Procedural) return Weights::all_to_all(kN, kN, 0.3);
  Matrix m(kN, kN);
  std::bernoulli_distribution keep(0.3);
  for (double& v : m.data) v = storage == CouplingMode::Sparse && !keep(rng) ? 0.0 : u(rng);
  if (storage == CouplingMode::Sparse) return qifsim::SparseMatrix::from_dense(m);
  return m;
}

template <class T>
std::unique_ptr<qifsim::detail::Coupling<T>> make_op(const Weights& w, CouplingMode storage) {
  return qifsim::detail::make_coupling<T>(w, qifsim::detail::weights_facts(w), storage);
}

template <class T>
void check(CouplingMode storage, bool events) {
  SCOPED_TRACE(std::string(sizeof(T) == 8 ? "float64 " : "float32 ") + qifsim::to_string(storage) +
               (events ? " events" : ""));
  const Weights w = weights_for(storage);
  const Matrix J = w.to_dense();
  const Weights slice = qifsim::detail::row_slice(w, kLo, kHi);
  ASSERT_EQ(slice.rows(), kRows);
  ASSERT_EQ(slice.cols(), kN);
  auto part = make_op<T>(slice, storage);
  auto whole = make_op<T>(w, storage);
  ASSERT_TRUE(part->supports_events());
  if (events) {
    part->prepare_events();
    whole->prepare_events();
  }
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> X(static_cast<std::size_t>(kMembers * kLdx)), Y0(static_cast<std::size_t>(kMembers * kLdy));
  for (T& v : X) v = static_cast<T>(u(rng));
  for (T& v : Y0) v = static_cast<T>(u(rng));
  const double tol = sizeof(T) == 8 ? 1e-12 : 1e-4;

  for (const bool accumulate : {false, true}) {
    std::vector<T> Y = Y0;
    part->apply_members(X.data(), kLdx, kMembers, accumulate, Y.data(), kLdy);
    for (std::int64_t m = 0; m < kMembers; ++m) {
      std::vector<T> full(static_cast<std::size_t>(kN), T(0));
      for (std::int64_t i = kLo; i < kHi; ++i) full[static_cast<std::size_t>(i)] = Y0[static_cast<std::size_t>(m * kLdy + i - kLo)];
      whole->apply(X.data() + m * kLdx, accumulate, full.data());
      for (std::int64_t i = kLo; i < kHi; ++i) {
        double want = accumulate ? static_cast<double>(Y0[static_cast<std::size_t>(m * kLdy + i - kLo)]) : 0.0;
        for (std::int64_t j = 0; j < kN; ++j) want += J(i, j) * static_cast<double>(X[static_cast<std::size_t>(m * kLdx + j)]);
        const T got = Y[static_cast<std::size_t>(m * kLdy + i - kLo)];
        ASSERT_NEAR(static_cast<double>(got), want, tol) << "member " << m << ", row " << i;
        ASSERT_EQ(got, full[static_cast<std::size_t>(i)]) << "member " << m << ", row " << i << ": the slice's row differs from the whole's";
      }
      for (std::int64_t pad = kRows; pad < kLdy; ++pad) {  // the padding is not written
        ASSERT_EQ(Y[static_cast<std::size_t>(m * kLdy + pad)], Y0[static_cast<std::size_t>(m * kLdy + pad)]);
      }
    }
  }
  if (!events) return;
  // Y[m] <- c Y[m] + the columns of J in spikes[m]: the naive update in the stated order, in T.
  std::vector<std::vector<long>> spikes(static_cast<std::size_t>(kMembers));
  std::bernoulli_distribution fires(0.2);
  for (auto& list : spikes) {
    for (long j = 0; j < kN; ++j) {
      if (fires(rng)) list.push_back(j);
    }
  }
  spikes[1].clear();  // a member without spikes: only the decay
  const T c = static_cast<T>(0.999);
  std::vector<T> Y = Y0;
  part->apply_spikes_members(spikes.data(), kMembers, c, Y.data(), kLdy);
  for (std::int64_t m = 0; m < kMembers; ++m) {
    for (std::int64_t i = kLo; i < kHi; ++i) {
      T want = c * Y0[static_cast<std::size_t>(m * kLdy + i - kLo)];
      for (long j : spikes[static_cast<std::size_t>(m)]) {
        if (storage == CouplingMode::Procedural) continue;
        if (J(i, j) != 0.0) want += static_cast<T>(J(i, j));
      }
      if (storage == CouplingMode::Procedural) {
        want = c * Y0[static_cast<std::size_t>(m * kLdy + i - kLo)] +
               static_cast<T>(0.3 * static_cast<double>(spikes[static_cast<std::size_t>(m)].size()));
      }
      ASSERT_EQ(Y[static_cast<std::size_t>(m * kLdy + i - kLo)], want) << "member " << m << ", row " << i;
    }
  }
}

TEST(Operators, MembersAndARowSliceAgainstANaiveReference) {
  for (const CouplingMode storage : {CouplingMode::Dense, CouplingMode::Sparse, CouplingMode::Procedural}) {
    for (const bool events : {false, true}) {
      check<double>(storage, events);
      check<float>(storage, events);
    }
  }
}

TEST(Operators, ARowSliceOutsideTheRowsIsRefused) {
  const Weights w = weights_for(CouplingMode::Dense);
  EXPECT_THROW(qifsim::detail::row_slice(w, 5, 71), qifsim::InvalidArgument);
  EXPECT_THROW(qifsim::detail::row_slice(w, 6, 5), qifsim::InvalidArgument);
  EXPECT_EQ(qifsim::detail::row_slice(w, 7, 7).rows(), 0);
}

}  // namespace
