// tests/test_mpi_exchange.cpp - the exchanges of a run over MPI ranks (core/exchange_ops.hpp
// over qifsim::mpi_communicator), run under `mpirun -np R` for R = 1..4 (tests/CMakeLists.txt):
// every rank gets exactly what one process computes directly, for populations whose size is
// not a multiple of the 256-neuron blocks (601: a fourth rank holds none).
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/exchange_ops.hpp"
#include "core/partition.hpp"
#include "model/reduction.hpp"
#include "qifsim/mpi.hpp"

namespace {

using qifsim::NeuronRange;

// Values whose 256-blocks have sums of other sizes and signs, so that the block sums added in
// another order (each rank's first, then the ranks') round differently.
double value_of(std::int64_t i) {
  const std::int64_t block = i / 256;
  return (std::sin(0.37 * static_cast<double>(i)) + 0.3) * std::pow(1.7, static_cast<double>(block % 11)) *
         (block % 3 == 1 ? -1.0 : 1.0);
}

std::uint64_t bits(double x) {
  std::uint64_t b = 0;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

const std::int64_t kSizes[] = {1, 257, 601, 2500, 5000};

qifsim::Communicator& world() {
  static qifsim::Communicator c = qifsim::mpi_communicator(MPI_COMM_WORLD);
  return c;
}

// mpirun started the ranks the test was registered for (QIFSIM_TEST_RANKS): not R processes
// that each took themselves for rank 0 of 1 (an mpirun of another MPI than the one linked).
TEST(MpiExchange, TheCommunicatorIsTheWorlds) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(world().rank(), rank);
  EXPECT_EQ(world().size(), size);
  const char* want = std::getenv("QIFSIM_TEST_RANKS");
  ASSERT_NE(want, nullptr) << "QIFSIM_TEST_RANKS is not set (tests/CMakeLists.txt sets it)";
  EXPECT_EQ(size, std::atoi(want));
  EXPECT_TRUE(qifsim::mpi_supported());
}

TEST(MpiExchange, GatheredPopulationsAreTheWholeVectorOnEveryRank) {
  for (const std::int64_t n : kSizes) {
    const NeuronRange mine = qifsim::partition_range(n, world().size(), world().rank());
    std::vector<double> local;
    std::vector<float> local32;
    for (std::int64_t i = mine.lo; i < mine.hi; ++i) {
      local.push_back(value_of(i));
      local32.push_back(static_cast<float>(value_of(i)));
    }
    const std::vector<double> all = qifsim::detail::gather_population(world().exchange(), n, local);
    const std::vector<float> all32 = qifsim::detail::gather_population(world().exchange(), n, local32);
    // (EXPECT, not ASSERT: a rank leaving the loop early would leave the others waiting in
    // the next collective.)
    EXPECT_EQ(all.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(all32.size(), static_cast<std::size_t>(n));
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < n && i < static_cast<std::int64_t>(std::min(all.size(), all32.size())); ++i) {
      wrong += bits(all[static_cast<std::size_t>(i)]) != bits(value_of(i)) ? 1 : 0;
      wrong += all32[static_cast<std::size_t>(i)] != static_cast<float>(value_of(i)) ? 1 : 0;
    }
    EXPECT_EQ(wrong, 0) << "n " << n;
  }
}

// Each rank sums its own blocks (of its own values only); the total has the bits of the one
// process sum over all n (model::ordered_sum) on every rank. Adding each rank's blocks first
// (what a floating-point allreduce of per-rank sums would do) gives other bits here for some n
// wherever a rank holds more than one block: the test can tell the orders apart.
TEST(MpiExchange, SumsOverRanksHaveTheOneProcessBits) {
  bool other_order_differs = false;
  for (const std::int64_t n : kSizes) {
    const NeuronRange mine = qifsim::partition_range(n, world().size(), world().rank());
    std::vector<double> local;
    for (std::int64_t i = mine.lo; i < mine.hi; ++i) local.push_back(value_of(i));
    const auto local_value = [&](std::int64_t i) { return local[static_cast<std::size_t>(i - mine.lo)]; };
    std::vector<double> blocks;
    const auto [first, last] = qifsim::detail::blocks_of(mine);
    for (std::int64_t b = first; b < last; ++b) {
      blocks.push_back(qifsim::model::ordered_block_sum(b, mine.hi, local_value));  // no value past the range
    }
    const double total = qifsim::detail::ordered_sum_over_ranks(world().exchange(), n, blocks);
    EXPECT_EQ(bits(total), bits(qifsim::model::ordered_sum(n, value_of))) << "n " << n;
    // The same block sums, each rank's added first, then the ranks' in rank order.
    double by_ranks = 0.0;
    for (const NeuronRange& r : qifsim::partition(n, world().size())) {
      const auto [b0, b1] = qifsim::detail::blocks_of(r);
      double part = 0.0;
      for (std::int64_t b = b0; b < b1; ++b) part += qifsim::model::ordered_block_sum(b, n, value_of);
      by_ranks += part;
    }
    other_order_differs = other_order_differs || bits(by_ranks) != bits(total);
  }
  // 5000 neurons are 20 blocks: with 2 to 4 ranks the two orders differ there (checked).
  if (world().size() >= 2) {
    EXPECT_TRUE(other_order_differs) << "the values do not tell the two orders apart";
  }
}

TEST(MpiExchange, SpikesArriveAscendingOnEveryRank) {
  for (const std::int64_t n : kSizes) {
    const NeuronRange mine = qifsim::partition_range(n, world().size(), world().rank());
    const auto spiked = [](std::int64_t i) { return (i * 7) % 11 == 3 || i == 0; };
    std::vector<std::int64_t> local, want;
    for (std::int64_t i = mine.lo; i < mine.hi; ++i) {
      if (spiked(i)) local.push_back(i);
    }
    for (std::int64_t i = 0; i < n; ++i) {
      if (spiked(i)) want.push_back(i);
    }
    EXPECT_EQ(qifsim::detail::gather_spikes(world().exchange(), local), want) << "n " << n;
  }
}

// A failing rank stops every rank with its rank and message (the lowest of several).
TEST(MpiExchange, EveryRankLearnsWhichRankFailedAndWhy) {
  qifsim::detail::Exchange& x = world().exchange();
  const int last = world().size() - 1;
  EXPECT_FALSE(qifsim::detail::exchange_status(x, "").failed());
  const std::string mine = "rank " + std::to_string(world().rank()) + ": out of memory";
  const qifsim::detail::RankFailure one = qifsim::detail::exchange_status(x, world().rank() == last ? mine : "");
  EXPECT_EQ(one.rank, last);
  EXPECT_EQ(one.message, "rank " + std::to_string(last) + ": out of memory");
  const qifsim::detail::RankFailure lowest = qifsim::detail::exchange_status(x, world().rank() >= last / 2 ? mine : "");
  EXPECT_EQ(lowest.rank, last / 2);
  EXPECT_EQ(lowest.message, "rank " + std::to_string(last / 2) + ": out of memory");
  // Rank 0 decides.
  EXPECT_TRUE(qifsim::detail::decided_by_root(x, world().rank() == 0));
  EXPECT_FALSE(qifsim::detail::decided_by_root(x, world().rank() != 0));
}

}  // namespace

int main(int argc, char** argv) {
  qifsim::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) GTEST_FLAG_SET(brief, true);  // the other ranks print their failures only
  const int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
