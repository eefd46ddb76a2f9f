// tests/test_partition.cpp - neurons split over ranks (qifsim::partition_range): contiguous,
// covering every neuron once, in whole 256-neuron blocks shared out within one of each other,
// a rank with none where there are fewer blocks than ranks; and the exchanges of one process
// (core/exchange_ops.hpp) giving what a naive reference computes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/exchange.hpp"
#include "core/exchange_ops.hpp"
#include "core/graph.hpp"
#include "core/memory_check.hpp"
#include "core/partition.hpp"
#include "model/reduction.hpp"
#include "qifsim/qifsim.hpp"

using qifsim::NeuronRange;

TEST(Partition, RangesAreContiguousWholeBlocksWithinOneBlockOfEachOther) {
  for (const std::int64_t n : {0, 1, 255, 256, 257, 601, 1024, 2500, 100000}) {
    for (int ranks = 1; ranks <= 9; ++ranks) {
      SCOPED_TRACE("n " + std::to_string(n) + ", ranks " + std::to_string(ranks));
      const std::vector<NeuronRange> parts = qifsim::partition(n, ranks);
      ASSERT_EQ(parts.size(), static_cast<std::size_t>(ranks));
      std::int64_t next = 0, fewest = n, most = 0;
      for (int r = 0; r < ranks; ++r) {
        const NeuronRange& p = parts[static_cast<std::size_t>(r)];
        EXPECT_EQ(p, qifsim::partition_range(n, ranks, r));
        EXPECT_EQ(p.lo, next) << "rank " << r << " starts where the one before ended";
        EXPECT_LE(p.lo, p.hi);
        if (!p.empty()) {
          EXPECT_EQ(p.lo % 256, 0) << "rank " << r << " starts on a block boundary";
        }
        if (p.hi != n) {
          EXPECT_EQ(p.hi % 256, 0) << "rank " << r << " ends on a block boundary";
        }
        const std::int64_t blocks = (p.size() + 255) / 256;
        fewest = std::min(fewest, blocks);
        most = std::max(most, blocks);
        next = p.hi;
      }
      EXPECT_EQ(next, n) << "every neuron once";
      EXPECT_LE(most - fewest, 1) << "blocks shared out within one of each other";
    }
  }
  // 601 neurons are three blocks: with four ranks the last holds none.
  const std::vector<NeuronRange> four = qifsim::partition(601, 4);
  EXPECT_EQ(four[0], (NeuronRange{0, 256}));
  EXPECT_EQ(four[1], (NeuronRange{256, 512}));
  EXPECT_EQ(four[2], (NeuronRange{512, 601}));
  EXPECT_TRUE(four[3].empty());
  EXPECT_EQ(qifsim::partition_range(2500, 2, 1), (NeuronRange{1280, 2500}));  // 10 blocks: 5 and 5
  EXPECT_THROW(qifsim::partition_range(10, 0, 0), qifsim::InvalidArgument);
  EXPECT_THROW(qifsim::partition_range(10, 2, 2), qifsim::InvalidArgument);
  EXPECT_THROW(qifsim::partition_range(-1, 2, 0), qifsim::InvalidArgument);
}

TEST(Partition, GeneratorRowBlocksOverlappingARange) {
  using qifsim::detail::row_blocks_overlapping;
  EXPECT_EQ(row_blocks_overlapping(NeuronRange{0, 4096}, 4096), std::make_pair(std::int64_t{0}, std::int64_t{1}));
  EXPECT_EQ(row_blocks_overlapping(NeuronRange{3840, 4352}, 4096), std::make_pair(std::int64_t{0}, std::int64_t{2}));
  EXPECT_EQ(row_blocks_overlapping(NeuronRange{4096, 5000}, 4096), std::make_pair(std::int64_t{1}, std::int64_t{2}));
  EXPECT_EQ(row_blocks_overlapping(NeuronRange{512, 512}, 4096), std::make_pair(std::int64_t{0}, std::int64_t{0}));
}

// One process: the exchanges return what a direct computation gives.
TEST(Partition, OneProcessExchangesGiveTheDirectResults) {
  qifsim::Communicator one;
  EXPECT_EQ(one.rank(), 0);
  EXPECT_EQ(one.size(), 1);
  EXPECT_FALSE(one.distributed());
  qifsim::detail::Exchange& x = one.exchange();
  const std::int64_t n = 601;
  std::vector<double> v(n);
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = std::sin(0.37 * static_cast<double>(i)) * 1e3;
  EXPECT_EQ(qifsim::detail::gather_population(x, n, v), v);
  std::vector<double> blocks;
  for (std::int64_t b = 0; b < 3; ++b) {
    blocks.push_back(qifsim::model::ordered_block_sum(b, n, [&](std::int64_t i) { return v[static_cast<std::size_t>(i)]; }));
  }
  double naive_in_block_order = 0.0;
  for (double b : blocks) naive_in_block_order += b;
  EXPECT_EQ(qifsim::detail::ordered_sum_over_ranks(x, n, blocks), naive_in_block_order);
  EXPECT_EQ(qifsim::detail::gather_spikes(x, {3, 7, 600}), (std::vector<std::int64_t>{3, 7, 600}));
  EXPECT_FALSE(qifsim::detail::exchange_status(x, "").failed());
  const qifsim::detail::RankFailure f = qifsim::detail::exchange_status(x, "out of memory");
  EXPECT_EQ(f.rank, 0);
  EXPECT_EQ(f.message, "out of memory");
  EXPECT_TRUE(qifsim::detail::decided_by_root(x, true));
  EXPECT_THROW(qifsim::detail::gather_population(x, n, std::vector<double>(5)), qifsim::InvalidArgument);
}

// What a rank's part takes (core/memory_check.hpp: engine_footprint over ranks): less than the
// whole, the first ranks (which hold the extra blocks) the most, and at least what grows with
// the whole population on every rank: its s gathered (N values) and, with events, the outgoing
// lists' N + 1 pointers.
TEST(Partition, ARanksFootprintIsItsShareAndWhatGrowsWithTheWholePopulation) {
  constexpr std::int64_t n = 1000;  // four blocks: 256, 256, 256 and 232 neurons on four ranks
  qifsim::detail::Graph g;
  qifsim::detail::Node pop;
  pop.name = "qif";
  pop.size = n;
  pop.pop.n = n;
  pop.pop.weights = qifsim::fixed_indegree(n, n, 20, {qifsim::ValueDistribution::Kind::Constant, 0.1}, 3);
  g.add_node(pop);
  g.compile();
  const double whole = qifsim::detail::engine_footprint(g, qifsim::Precision::Float64).bytes;
  EXPECT_EQ(qifsim::detail::engine_footprint(g, qifsim::Precision::Float64, 1, 0).bytes, whole);
  std::vector<double> part;
  for (int r = 0; r < 4; ++r) part.push_back(qifsim::detail::engine_footprint(g, qifsim::Precision::Float64, 4, r).bytes);
  const double grows_with_n = 8.0 * static_cast<double>(n) + 8.0 * static_cast<double>(n + 1);
  for (int r = 0; r < 4; ++r) {
    EXPECT_LT(part[static_cast<std::size_t>(r)], whole) << "rank " << r;
    EXPECT_GE(part[static_cast<std::size_t>(r)], grows_with_n) << "rank " << r;
  }
  EXPECT_EQ(part[0], part[1]);  // the same share
  EXPECT_GT(part[0], part[3]);  // 256 neurons against 232
}
