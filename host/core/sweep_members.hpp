// host/core/sweep_members.hpp - a sweep made into its members: one graph per member, with the
// member's parameters, initial values and seeds written into the nodes, and its input factor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "qifsim/sweep.hpp"

namespace qifsim::detail {

struct SweepMembers {
  std::vector<Graph> graphs;       // one per member, compiled like the network's
  std::vector<double> input_scale;  // one per member
};

/// Members one ensemble runs at most.
constexpr std::int64_t kMaxMembers = std::int64_t{1} << 20;

/// Check every key and value of `sweep` against `graph` (a compiled graph), then build the
/// members (`keep`; otherwise each member's nodes are checked and dropped, and nothing is
/// returned). InvalidArgument names the key, the member and what is wrong (an unknown population
/// or name, a value count that is neither 1 nor the population's size, a seed that is not a
/// whole number, a parameter the model refuses, more than kMaxMembers members).
SweepMembers sweep_members(const Graph& graph, const Sweep& sweep, bool keep = true);

/// What identifies a sweep for resuming it: its mode, keys and values as text (per-neuron
/// values by a hash of their bits).
std::string sweep_signature(const Sweep& sweep);

}  // namespace qifsim::detail
