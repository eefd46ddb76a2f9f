// tests/test_mpi_exchange.cpp - the exchanges of a run over MPI ranks (core/exchange_ops.hpp
// over qifsim::mpi_communicator), run under `mpirun -np R` for R = 1..4 (tests/CMakeLists.txt):
// every rank gets exactly what one process computes directly, for populations whose size is
// not a multiple of the 256-neuron blocks (601: a fourth rank holds none).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/exchange_ops.hpp"
#include "core/partition.hpp"
#include "model/reduction.hpp"
#include "qifsim/mpi.hpp"

namespace {

using qifsim::NeuronRange;

// Values far apart in magnitude, so that another order of addition would change the sum's bits.
double value_of(std::int64_t i) {
  return std::sin(0.37 * static_cast<double>(i)) * std::pow(10.0, static_cast<double>(i % 9) - 4.0);
}

const std::int64_t kSizes[] = {1, 257, 601, 2500};

qifsim::Communicator& world() {
  static qifsim::Communicator c = qifsim::mpi_communicator(MPI_COMM_WORLD);
  return c;
}

TEST(MpiExchange, TheCommunicatorIsTheWorlds) {
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(world().rank(), rank);
  EXPECT_EQ(world().size(), size);
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
    ASSERT_EQ(all.size(), static_cast<std::size_t>(n));
    ASSERT_EQ(all32.size(), static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(all[static_cast<std::size_t>(i)], value_of(i)) << "n " << n << ", neuron " << i;
      ASSERT_EQ(all32[static_cast<std::size_t>(i)], static_cast<float>(value_of(i))) << "n " << n << ", neuron " << i;
    }
  }
}

// Each rank sums its own blocks (of its own values only); the total has the bits of the one
// process sum over all n (model::ordered_sum) on every rank.
TEST(MpiExchange, SumsOverRanksHaveTheOneProcessBits) {
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
    EXPECT_EQ(total, qifsim::model::ordered_sum(n, value_of)) << "n " << n;
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
  if (rank != 0) {  // one rank prints; every rank's failures still fail the run (its exit code)
    delete ::testing::UnitTest::GetInstance()->listeners().Release(
        ::testing::UnitTest::GetInstance()->listeners().default_result_printer());
  }
  const int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
