// host/core/engine_layout.hpp - what every engine derives from a compiled graph, written once:
// the topological order, the input and output nodes and widths, where each node's storage
// sits (NodeSlot), each node's incoming edges in the order they were added, and the names and
// initial states reset() restores. The engines keep their own storage (host vectors or device
// buffers) of the kinds this layout names; build() fills it in graph order, each node's arrays
// sized by its StateShape (core/state_shape.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/graph.hpp"
#include "core/node_slots.hpp"
#include "core/state_shape.hpp"

namespace qifsim::detail {

struct EngineLayout {
  std::vector<int> order;                  // topological order of the nodes
  int input = -1;                          // the input node
  int output = -1;                         // the output node
  std::vector<NodeSlot> slots;             // node i: pops[index] or funcs[index]
  std::vector<std::vector<int>> incoming;  // node i: its edges (indices into graph.edges), in order added
  std::vector<NodeStart> starts;           // names and initial states (reset)
  std::int64_t in_width = 0;               // the input node's size
  std::int64_t out_width = 0;              // the output node's size
  std::vector<StateShape> shapes;          // node i: how its arrays are laid out (whole: {1, n, 0, n})

  explicit EngineLayout(const Graph& graph)
      : order(graph.order), input(graph.input), output(graph.output), starts(node_starts(graph)) {
    int pops = 0, funcs = 0;
    slots.resize(graph.nodes.size());
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      const bool pop = graph.nodes[i].kind == NodeKind::Population;
      slots[i] = {pop, pop ? pops++ : funcs++};
    }
    incoming.resize(graph.nodes.size());
    for (std::size_t e = 0; e < graph.edges.size(); ++e) {
      incoming[static_cast<std::size_t>(graph.edges[e].target)].push_back(static_cast<int>(e));
    }
    for (const Node& node : graph.nodes) shapes.push_back(StateShape::whole(node.size));
    in_width = graph.nodes[static_cast<std::size_t>(input)].size;
    out_width = graph.nodes[static_cast<std::size_t>(output)].size;
  }

  /// Build an engine's storage in graph order: make_pop(node, shape) for each population,
  /// make_func(node, shape) for each function node, make_edge(edge) for each edge.
  template <class Pops, class Funcs, class Edges, class MakePop, class MakeFunc, class MakeEdge>
  void build(const Graph& graph, Pops& pops, Funcs& funcs, Edges& edges, MakePop&& make_pop, MakeFunc&& make_func,
             MakeEdge&& make_edge) const {
    for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
      const Node& node = graph.nodes[i];
      check_shape(shapes[i], node.name);
      if (node.kind == NodeKind::Population) {
        pops.push_back(make_pop(node, shapes[i]));
      } else {
        funcs.push_back(make_func(node, shapes[i]));
      }
    }
    for (const Edge& e : graph.edges) edges.push_back(make_edge(e));
  }
};

}  // namespace qifsim::detail
