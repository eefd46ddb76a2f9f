// host/core/node_slots.hpp - where a backend keeps each graph node: a population or a function
// node, by index into its own arrays. Shared by the CPU and CUDA engines, whose Pop and Func
// hold their buffers (host vectors or device buffers) under the same names.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/graph.hpp"

namespace qifsim::detail {

/// Node i of the graph is pops[index] (pop) or funcs[index].
struct NodeSlot {
  bool pop = false;
  int index = -1;
};

/// What an engine keeps of a graph node after building its buffers: its name (for messages)
/// and, for a population, the initial state reset() restores. Not the weights: the engine
/// holds its own copy of J, and the graph its original.
struct NodeStart {
  std::string name;
  std::vector<Param> initial;  // each state slot's initial value, in Var order (V, S, X, W)
};

inline std::vector<NodeStart> node_starts(const Graph& graph) {
  std::vector<NodeStart> starts;
  starts.reserve(graph.nodes.size());
  for (const Node& node : graph.nodes) {
    NodeStart start{node.name, {}};
    if (node.kind == NodeKind::Population) {
      for (int k = 0; k < model::kStateSlots; ++k) {
        const bool qif_extra = node.model == model::ModelId::Qif && k == 3;
        start.initial.push_back(other_model_of(node) != nullptr ? node.initial[static_cast<std::size_t>(k)]
                                : qif_extra ? Param(0.0)
                                            : initial_of(node.pop, state_var(k)));
      }
    }
    starts.push_back(std::move(start));
  }
  return starts;
}

/// The buffer a node's incoming edges (or the network input) are summed into.
template <class Pops, class Funcs>
auto* node_input(const std::vector<NodeSlot>& slots, Pops& pops, Funcs& funcs, int node) {
  const NodeSlot s = slots[static_cast<std::size_t>(node)];
  return s.pop ? pops[static_cast<std::size_t>(s.index)].in.data() : funcs[static_cast<std::size_t>(s.index)].in.data();
}

/// A node's output: a function node's `out`, a population's output variable (v or s).
template <class Pops, class Funcs>
auto* node_output(const std::vector<NodeSlot>& slots, const Pops& pops, const Funcs& funcs, int node) {
  const NodeSlot s = slots[static_cast<std::size_t>(node)];
  if (!s.pop) return funcs[static_cast<std::size_t>(s.index)].out.data();
  const auto& p = pops[static_cast<std::size_t>(s.index)];
  return p.out_is_v ? p.v.data() : p.s.data();
}

}  // namespace qifsim::detail
