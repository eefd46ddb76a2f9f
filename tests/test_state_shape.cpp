// tests/test_state_shape.cpp - core/state_shape.hpp: a population's arrays laid out member-major
// over a local range of its neurons, checked against loops written out here; and the layout every
// engine builds from today: one member holding every neuron of each node ({1, n, 0, n}).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/engine_layout.hpp"
#include "core/graph.hpp"
#include "core/state_shape.hpp"
#include "qifsim/error.hpp"

namespace {

using qifsim::Param;
using qifsim::detail::StateShape;

std::vector<double> ramp(std::int64_t n, double start) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = start + 0.5 * static_cast<double>(i);
  return v;
}

TEST(StateShape, MembersHoldTheirRangeContiguouslyOneAfterAnother) {
  const StateShape shape{3, 10, 2, 7};  // three members, neurons 2..6 of 10
  EXPECT_EQ(shape.local_n(), 5);
  EXPECT_EQ(shape.size(), 15);
  EXPECT_FALSE(shape.is_whole());
  const std::vector<double> global = ramp(10, 100.0);
  const std::vector<double> laid = qifsim::detail::member_major<double>(Param(global), shape);
  ASSERT_EQ(laid.size(), 15u);
  std::size_t k = 0;  // member 0's five values, then member 1's, then member 2's
  for (int m = 0; m < 3; ++m) {
    for (int i = 2; i < 7; ++i, ++k) {
      EXPECT_EQ(laid[k], global[static_cast<std::size_t>(i)]) << "member " << m << ", neuron " << i;
      EXPECT_EQ(shape.at(m, i), static_cast<std::int64_t>(k));
    }
  }
  const std::vector<float> one = qifsim::detail::member_major<float>(Param(-2.0), shape);
  ASSERT_EQ(one.size(), 15u);
  for (float v : one) EXPECT_EQ(v, -2.0f);
}

TEST(StateShape, AParameterHoldsItsLocalRangeOnceForEveryMember) {
  const StateShape shape{4, 9, 3, 9};
  const std::vector<double> global = ramp(9, -1.0);
  const std::vector<double> local = qifsim::detail::local_param<double>(Param(global), shape);
  ASSERT_EQ(local.size(), 6u);  // member stride 0: one copy shared by the four members
  for (std::size_t j = 0; j < local.size(); ++j) EXPECT_EQ(local[j], global[3 + j]);
  const std::vector<double> scalar = qifsim::detail::local_param<double>(Param(0.25), shape);
  ASSERT_EQ(scalar.size(), 1u);
  EXPECT_EQ(scalar[0], 0.25);
  // float: each value rounded once, as the engines' other conversions do
  const std::vector<float> f = qifsim::detail::local_param<float>(Param(std::vector<double>(9, 0.1)), shape);
  for (float v : f) EXPECT_EQ(v, static_cast<float>(0.1));
}

TEST(StateShape, TheWholeShapeIsOneMemberWithEveryNeuron) {
  const StateShape whole = StateShape::whole(601);
  EXPECT_EQ(whole, (StateShape{1, 601, 0, 601}));
  EXPECT_TRUE(whole.is_whole());
  EXPECT_EQ(whole.size(), 601);
  EXPECT_EQ(whole.at(0, 600), 600);
  const std::vector<double> values = ramp(601, 3.0);
  EXPECT_EQ(qifsim::detail::member_major<double>(Param(values), whole), values);
  EXPECT_EQ(qifsim::detail::local_param<double>(Param(values), whole), values);
  // An empty range is a shape too (a rank may own none of a population's neurons).
  const StateShape none{1, 601, 512, 512};
  EXPECT_NO_THROW(qifsim::detail::check_shape(none, "qif"));
  EXPECT_EQ(none.size(), 0);
  EXPECT_TRUE(qifsim::detail::member_major<double>(Param(values), none).empty());
}

TEST(StateShape, ARangeOutsideTheNodesNeuronsIsRefusedNamingTheNode) {
  for (const StateShape bad : {StateShape{0, 10, 0, 10}, StateShape{1, 10, -1, 5}, StateShape{1, 10, 6, 5},
                               StateShape{2, 10, 0, 11}}) {
    try {
      qifsim::detail::check_shape(bad, "exc");
      FAIL() << "accepted {" << bad.members << ", " << bad.global_n << ", " << bad.lo << ", " << bad.hi << "}";
    } catch (const qifsim::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("node 'exc'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("lo <= hi <= global_n"), std::string::npos) << e.what();
    }
  }
}

TEST(StateShape, EveryEngineLaysOutACompiledGraphAsWholeNodes) {
  qifsim::detail::Graph g;
  qifsim::detail::Node input;
  input.name = "inp";
  input.kind = qifsim::detail::NodeKind::Function;
  input.size = 2;
  g.add_node(input);
  qifsim::detail::Node pop;
  pop.name = "qif";
  pop.size = 37;
  pop.pop.n = 37;
  g.add_node(pop);
  qifsim::detail::Node readout;
  readout.name = "readout";
  readout.kind = qifsim::detail::NodeKind::Function;
  readout.size = 3;
  g.add_node(readout);
  g.add_edge("inp", "qif", qifsim::Matrix(37, 2, 1.0));
  g.add_edge("qif", "readout", qifsim::Matrix(3, 37, 0.5));
  g.compile();
  const qifsim::detail::EngineLayout layout(g);
  ASSERT_EQ(layout.shapes.size(), 3u);
  EXPECT_EQ(layout.shapes[0], (StateShape{1, 2, 0, 2}));
  EXPECT_EQ(layout.shapes[1], (StateShape{1, 37, 0, 37}));
  EXPECT_EQ(layout.shapes[2], (StateShape{1, 3, 0, 3}));
  // build() hands each node its shape, in graph order.
  std::vector<StateShape> pops, funcs;
  std::vector<int> edges;
  layout.build(
      g, pops, funcs, edges, [](const qifsim::detail::Node&, const StateShape& s) { return s; },
      [](const qifsim::detail::Node&, const StateShape& s) { return s; },
      [](const qifsim::detail::Edge& e) { return e.target; });
  EXPECT_EQ(pops, std::vector<StateShape>{layout.shapes[1]});
  EXPECT_EQ(funcs, (std::vector<StateShape>{layout.shapes[0], layout.shapes[2]}));
  EXPECT_EQ(edges, (std::vector<int>{1, 2}));
}

}  // namespace
