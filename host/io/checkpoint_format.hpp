// host/io/checkpoint_format.hpp - the checkpoint format: its constants and the helpers its writer and reader share.
//
// Format 2 (native little-endian):
//   magic "QIFCKPT\n", u32 version = 2,
//   sections, each: tag (u64 length + bytes), u64 body length, body:
//     "network"      dt, precision, the nodes (name, kind, size), the step count, the
//                    interrupted run (position, schedule, window sums), every population's
//                    state (v, s, x) and parameters (float64, which holds float32 exactly)
//     "edges"        (where an edge has delays or a filter) u64 count, then per such edge its
//                    index (i64, the order edges were added) and its state (u64 count + float64
//                    values: source units x columns, core/edge_state.hpp)
//     "events"       (an interrupted run with event coupling) u64 count, then per event-coupled
//                    population: i64 node, its J s (float64 values), its last step's spikes
//                    (u64 count + i64 ascending); without it a resumed run computes J s afresh
//     "members"      (an interrupted sweep) u64 members, the sweep's signature (text), then per
//                    member: i64 the step it stopped at (-1: running), its reason, its output
//                    sums (u64 count + float64), and, where running, every population's state
//                    and parameters (one value where all neurons share it), each stateful
//                    edge's state and its event state (as "events"), in the "network" and
//                    "edges" orders
//     "fingerprint"  u64 count, then key, u64 hash, text per entry (checkpoint.hpp)
//     "details"      u64 count, then key, value per entry
//     "observer"     an Observer's settings and samples (Observer::write_state)
//     "end"          empty, always last
//   u64 XXH3-64 of every byte before it.
// A reader skips sections it does not know: later versions add theirs (the coupling
// choice, ranks) without breaking older readers.
// Format 1 (no sections, no checksum) is still read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/graph.hpp"
#include "model/qif.hpp"
#include "qifsim/checkpoint.hpp"

namespace qifsim::checkpoint_detail {

inline constexpr char kMagic[8] = {'Q', 'I', 'F', 'C', 'K', 'P', 'T', '\n'};
inline constexpr std::uint32_t kVersion = 2;
/// A population's saved values: every state of its model, then every parameter (the model
/// declaration's order, host/model/qif.hpp; the format's order).
inline constexpr auto kStateVars = [] {
  std::array<detail::Var, model::kQif.state_count> vars{};
  for (std::size_t s = 0; s < vars.size(); ++s) vars[s] = static_cast<detail::Var>(s);
  return vars;
}();
inline constexpr auto kParams = [] {
  std::array<detail::Var, model::kQif.param_count> vars{};
  for (std::size_t p = 0; p < vars.size(); ++p) vars[p] = detail::param_var(static_cast<int>(p));
  return vars;
}();
// The network's own fingerprint keys start with this (the rest belong to the caller).
inline constexpr char kNetworkKey[] = "network: ";
inline constexpr std::size_t kNetworkKeyLength = sizeof(kNetworkKey) - 1;

// XXH3-64 of the file's first `bytes` bytes, read through the descriptor.
std::uint64_t hash_of_file(int fd, std::uint64_t bytes, const std::string& path);

// What defines the network beyond the nodes a checkpoint names and the state it holds:
// the weights and the function nodes' activations.
std::vector<FingerprintEntry> network_fingerprint(const detail::Graph& g);

bool is_network_key(const FingerprintEntry& e);

/// A parameter's values, one value where every neuron has the same bits (a scalar stays a
/// scalar through a checkpoint: one tau_s per population keeps event coupling possible).
std::vector<double> compact(std::vector<double> values);

/// True when an edge of `g` keeps a state (delays or a filter): checkpoints hold an "edges" section.
bool has_edge_state(const detail::Graph& g);

/// Values an edge's state holds (core/edge_state.hpp): source units x (max delay + 1, or 1).
std::int64_t edge_state_size(const detail::Edge& e);

}  // namespace qifsim::checkpoint_detail
