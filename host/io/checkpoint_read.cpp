// host/io/checkpoint_read.cpp - reading and checking a checkpoint (formats 1 and 2, checkpoint_format.hpp): the
// reader, read_checkpoint_info, fingerprint_changes, Network::load_checkpoint.
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "io/binary_io.hpp"
#include "core/engine.hpp"
#include "core/sweep_members.hpp"
#include "core/graph.hpp"
#include "io/checkpoint_format.hpp"
#include "io/input_files.hpp"
#include "io/output_files.hpp"
#include "qifsim/checkpoint.hpp"
#include "qifsim/error.hpp"
#include "qifsim/network.hpp"
#include "core/text.hpp"

namespace qifsim {

using namespace checkpoint_detail;

namespace {

void check_finite(const detail::BinaryReader& r, const std::vector<double>& values, const std::string& what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) r.fail(what + "[" + std::to_string(i) + "] is not finite");
  }
}

// A copy of a population without its weights (the checks below need the parameters only;
// copies of Weights share the matrix, so this costs no copy of J).
QifPopulation parameters_of(const QifPopulation& pop) {
  QifPopulation copy = pop;
  copy.weights = Weights();
  return copy;
}

// What a checkpoint file holds, read and checked, before anything is applied.
struct Loaded {
  int format = 0;
  std::int64_t step = 0;
  std::unique_ptr<detail::RunCarry> carry;
  std::int64_t carry_steps = 0, carry_sampling = 0, carry_cutoff = 0;
  struct Values {
    int node;
    detail::Var var;
    std::vector<double> values;
  };
  std::vector<Values> state;
  std::vector<std::pair<int, std::vector<double>>> edge_states;  // edge index, state
  // An interrupted sweep's members (the "members" section).
  struct Member {
    std::vector<Values> state;  // parameters: one value or one per neuron
    std::vector<std::pair<int, std::vector<double>>> edge_states;
    std::vector<detail::EventState> events;
    detail::MemberCarry carry;
  };
  std::vector<detail::EventState> events;  // the "events" section
  std::vector<Member> members;
  std::string sweep_signature;
  bool has_members = false;
  CheckpointInfo info;
  bool has_network = false;
};

// Opens a checkpoint, checks its magic, version and checksum; leaves `in` after the version.
int open_checkpoint(const std::string& path, std::ifstream& in, detail::BinaryReader*& reader,
                    std::unique_ptr<detail::BinaryReader>& owner) {
  const detail::OutputFile file = detail::open_regular_file(path, "a qifsim checkpoint");  // no FIFO or device
  in.open(path, std::ios::binary);
  if (!in) throw IoError("cannot open checkpoint '" + path + "': " + detail::errno_text(errno));
  const std::string what = "checkpoint '" + path + "'";
  owner = std::make_unique<detail::BinaryReader>(in, what);
  reader = owner.get();
  detail::BinaryReader& r = *reader;
  char magic[sizeof(kMagic)];
  in.read(magic, sizeof(magic));
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) r.fail("not a qifsim checkpoint");
  r.skipped(sizeof(magic));
  const auto version = r.pod<std::uint32_t>();
  if (version == 1) return 1;
  if (version != kVersion) {
    r.fail("format " + std::to_string(version) + " is unknown to this qifsim (it reads formats 1 and 2)");
  }
  // The checksum covers everything before its 8 bytes at the end.
  const std::uint64_t size = r.bytes_left() + sizeof(magic) + 4;
  if (!r.size_known() || size < sizeof(magic) + 4 + 8) r.fail("truncated (no checksum)");
  std::uint64_t stored = 0;
  if (::pread(::fileno(file.get()), &stored, sizeof stored, static_cast<off_t>(size - 8)) != 8) {
    r.fail("truncated (no checksum)");
  }
  if (hash_of_file(::fileno(file.get()), size - 8, path) != stored) {
    r.fail("damaged or truncated: its checksum does not match its contents (the file changed after it was "
           "written); it is not used");
  }
  return 2;
}

class CheckpointReader {
 public:
  CheckpointReader(const std::string& path, detail::Graph* graph, Precision precision, double dt)
      : path_(path), what_("checkpoint '" + path + "'"), graph_(graph), precision_(precision), dt_(dt) {}

  // Reads the whole file; the network's part only with a graph, the observer's only with one.
  Loaded read(Observer* observer) {
    Loaded out;
    std::ifstream in;
    detail::BinaryReader* r = nullptr;
    std::unique_ptr<detail::BinaryReader> owner;
    out.format = open_checkpoint(path_, in, r, owner);
    out.info.format = out.format;
    if (out.format == 1) {
      if (graph_) read_network(*r, out);
      if (observer) {
        if (r->pod<std::uint8_t>() == 0) r->fail("holds no observer");
        read_observer(in, *r, *observer);
      }
      return out;
    }
    bool observer_found = false;
    for (;;) {
      const std::string tag = r->str();
      const auto length = r->pod<std::uint64_t>();
      if (r->size_known() && length > r->bytes_left()) r->fail("truncated section '" + tag + "'");
      const std::streamoff start = in.tellg();
      if (tag == "end") break;
      if (tag == "network" && graph_) {
        read_network(*r, out);
      } else if (tag == "edges" && graph_) {
        read_edges(*r, out);
      } else if (tag == "events" && graph_) {
        out.events = read_event_state(*r, length, "");
      } else if (tag == "members" && graph_) {
        read_members(*r, out, length);
      } else if (tag == "fingerprint") {
        const auto count = r->pod<std::uint64_t>();
        if (count > length / 24) r->fail("corrupt fingerprint");
        for (std::uint64_t i = 0; i < count; ++i) {
          FingerprintEntry e;
          e.key = r->str();
          e.hash = r->pod<std::uint64_t>();
          e.text = r->str();
          out.info.fingerprint.push_back(std::move(e));
        }
      } else if (tag == "details") {
        const auto count = r->pod<std::uint64_t>();
        if (count > length / 16) r->fail("corrupt details");
        for (std::uint64_t i = 0; i < count; ++i) {
          std::string key = r->str();
          std::string value = r->str();
          out.info.details.emplace_back(std::move(key), std::move(value));
        }
      } else if (tag == "observer" && observer) {
        read_observer(in, *r, *observer);
        observer_found = true;
      } else {
        in.seekg(static_cast<std::streamoff>(length), std::ios::cur);  // unknown or not wanted
        r->skipped(length);
      }
      const std::streamoff end = in.tellg();
      if (!in || end - start != static_cast<std::streamoff>(length)) r->fail("corrupt section '" + tag + "'");
    }
    if (graph_ && !out.has_network) r->fail("holds no network state");
    if (graph_ && has_edge_state(*graph_) && out.edge_states.empty()) {
      r->fail("holds no state of the edges with delays or a filter (it was saved by a network without them)");
    }
    if (observer && !observer_found) r->fail("holds no observer");
    return out;
  }

 private:
  void read_observer(std::ifstream& in, detail::BinaryReader& r, Observer& observer) {
    const std::streamoff start = in.tellg();
    Observer restored = observer;
    restored.read_state(in, what_);
    observer = std::move(restored);
    r.skipped(static_cast<std::uint64_t>(in.tellg() - start));
  }

  void read_network(detail::BinaryReader& r, Loaded& out) {
    out.has_network = true;
    const double dt = r.pod<double>();
    const auto bits = r.pod<std::int32_t>();
    const std::int32_t ours = precision_ == Precision::Float32 ? 32 : 64;
    if (dt != dt_ || bits != ours) {
      throw GraphError(what_ + " was saved with dt " + std::to_string(dt) + " in float" + std::to_string(bits) +
                       "; this network has dt " + std::to_string(dt_) + " in float" + std::to_string(ours));
    }
    const auto count = r.pod<std::uint64_t>();
    if (count != graph_->nodes.size()) {
      throw GraphError(what_ + " holds " + std::to_string(count) + " nodes; this network has " +
                       std::to_string(graph_->nodes.size()));
    }
    for (const auto& node : graph_->nodes) {
      const std::string name = r.str();
      const auto kind = r.pod<std::int32_t>();
      const auto size = r.pod<std::int64_t>();
      const std::int32_t our_kind = node.kind == detail::NodeKind::Population ? 0 : 1;
      if (name != node.name || kind != our_kind || size != node.size) {
        throw GraphError(what_ + ": saved node '" + name + "' (size " + std::to_string(size) +
                         ") does not match this network's node '" + node.name + "' (size " +
                         std::to_string(node.size) + ")");
      }
    }
    // Everything is checked before anything changes: a checkpoint is a file like any
    // other, and a damaged or hand-made one must be refused, not run.
    out.step = r.pod<std::int64_t>();
    if (out.step < 0) r.fail("corrupt step count " + std::to_string(out.step));
    if (r.pod<std::uint8_t>() != 0) read_carry(r, out);
    read_populations(r, out.state, "", false);
  }

  // Every population's states, then its parameters (the format's order), each checked: as many
  // values as the population has neurons (a parameter: or one, with `scalar_params`), finite, and
  // the parameters obeying the rules a config or set_var() obeys (tau > 0, v_reset <
  // v_threshold, ...), validated as the population would be after loading. `prefix` begins the
  // messages ("member 3: ").
  void read_populations(detail::BinaryReader& r, std::vector<Loaded::Values>& state, const std::string& prefix,
                        bool scalar_params) {
    for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
      const auto& node = graph_->nodes[i];
      if (node.kind != detail::NodeKind::Population) continue;
      const std::size_t first = state.size();
      for (auto v : kStateVars) state.push_back({static_cast<int>(i), v, r.vec<double>()});
      for (auto v : kParams) state.push_back({static_cast<int>(i), v, r.vec<double>()});
      QifPopulation loaded = parameters_of(node.pop);
      for (std::size_t k = first; k < state.size(); ++k) {
        const auto& s = state[k];
        const auto size = static_cast<std::int64_t>(s.values.size());
        if (size != node.size && !(scalar_params && detail::is_parameter(s.var) && size == 1)) {
          r.fail(prefix + "corrupt state of node '" + node.name + "'");
        }
        check_finite(r, s.values, prefix + "'" + node.name + "." + detail::var_name(s.var) + "'");
        if (detail::is_parameter(s.var)) detail::param_of(loaded, s.var) = Param(s.values);
      }
      try {
        detail::validate_population(node.name, loaded);
      } catch (const InvalidArgument& e) {
        r.fail(prefix + "holds parameters that are not valid: " + e.what());
      }
    }
  }

  // Every edge with delays or a filter, once, in the shape this network gives it.
  void read_edges(detail::BinaryReader& r, Loaded& out) {
    const auto count = r.pod<std::uint64_t>();
    std::uint64_t stateful = 0;
    for (const auto& e : graph_->edges) stateful += e.memory.stateful() ? 1 : 0;
    if (count != stateful) {
      r.fail("holds the state of " + std::to_string(count) + " edges with delays or a filter; this network has " +
             std::to_string(stateful));
    }
    std::set<std::int64_t> seen;
    for (std::uint64_t k = 0; k < count; ++k) {
      const auto index = r.pod<std::int64_t>();
      if (index < 0 || index >= static_cast<std::int64_t>(graph_->edges.size()) ||
          !graph_->edges[static_cast<std::size_t>(index)].memory.stateful() || !seen.insert(index).second) {
        r.fail("corrupt edge state (edge " + std::to_string(index) + ")");
      }
      const detail::Edge& e = graph_->edges[static_cast<std::size_t>(index)];
      const std::string name = "the edge '" + graph_->nodes[static_cast<std::size_t>(e.source)].name + "' -> '" +
                               graph_->nodes[static_cast<std::size_t>(e.target)].name + "'";
      std::vector<double> values = r.vec<double>();
      if (static_cast<std::int64_t>(values.size()) != edge_state_size(e)) {
        r.fail("the state of " + name + " holds " + std::to_string(values.size()) + " values; this network's holds " +
               std::to_string(edge_state_size(e)));
      }
      check_finite(r, values, "the state of " + name);
      out.edge_states.emplace_back(static_cast<int>(index), std::move(values));
    }
  }

  // An interrupted sweep: each member's populations (states, then parameters), its edges with
  // delays or a filter, its output sums and where it stopped; checked as the network's are.
  void read_members(detail::BinaryReader& r, Loaded& out, std::uint64_t length) {
    out.has_members = true;
    const auto count = r.pod<std::uint64_t>();
    // A member takes at least 24 bytes (its stop, reason length and sums count).
    if (count < 1 || count > length / 24 || count > static_cast<std::uint64_t>(detail::kMaxMembers)) {
      r.fail("corrupt members section (" + std::to_string(count) + " members)");
    }
    out.sweep_signature = r.str();
    const std::int64_t out_width = graph_->nodes[static_cast<std::size_t>(graph_->output)].size;
    out.members.resize(static_cast<std::size_t>(count));
    for (std::uint64_t b = 0; b < count; ++b) {
      Loaded::Member& m = out.members[static_cast<std::size_t>(b)];
      const std::string member = "member " + std::to_string(b) + ": ";
      m.carry.stopped_at = r.pod<std::int64_t>();
      m.carry.reason = r.str();
      if (m.carry.stopped_at < -1) r.fail(member + "corrupt stop at step " + std::to_string(m.carry.stopped_at));
      m.carry.y_sum = r.vec<double>();
      if (!m.carry.y_sum.empty() && static_cast<std::int64_t>(m.carry.y_sum.size()) != out_width) {
        r.fail(member + "its output sums have " + std::to_string(m.carry.y_sum.size()) + " values; the output has " +
               std::to_string(out_width));
      }
      if (m.carry.stopped_at >= 0) continue;  // stopped: no state (it stays stopped)
      check_finite(r, m.carry.y_sum, member + "the output sums");
      read_populations(r, m.state, member, true);
      for (std::size_t i = 0; i < graph_->edges.size(); ++i) {
        const detail::Edge& e = graph_->edges[i];
        if (!e.memory.stateful()) continue;
        std::vector<double> values = r.vec<double>();
        if (static_cast<std::int64_t>(values.size()) != edge_state_size(e)) {
          r.fail(member + "the state of edge " + std::to_string(i) + " holds " + std::to_string(values.size()) +
                 " values; this network's holds " + std::to_string(edge_state_size(e)));
        }
        check_finite(r, values, member + "the state of edge " + std::to_string(i));
        m.edge_states.emplace_back(static_cast<int>(i), std::move(values));
      }
      m.events = read_event_state(r, length, member);
    }
  }

  // Event coupling's state: each entry an event-coupled population of this network, its J s
  // finite and of the population's size, its spikes ascending neuron indices.
  std::vector<detail::EventState> read_event_state(detail::BinaryReader& r, std::uint64_t length,
                                                   const std::string& member) {
    const auto count = r.pod<std::uint64_t>();
    if (count > graph_->nodes.size() || count > length) r.fail(member + "corrupt event state");
    std::vector<detail::EventState> out(static_cast<std::size_t>(count));
    for (detail::EventState& e : out) {
      const auto node = r.pod<std::int64_t>();
      if (node < 0 || node >= static_cast<std::int64_t>(graph_->nodes.size()) ||
          graph_->nodes[static_cast<std::size_t>(node)].kind != detail::NodeKind::Population) {
        r.fail(member + "corrupt event state (node " + std::to_string(node) + ")");
      }
      const detail::Node& n = graph_->nodes[static_cast<std::size_t>(node)];
      e.node = static_cast<int>(node);
      e.s_in = r.vec<double>();
      e.spiked = r.vec<std::int64_t>();
      if (static_cast<std::int64_t>(e.s_in.size()) != n.size) r.fail(member + "corrupt event state of '" + n.name + "'");
      check_finite(r, e.s_in, member + "the event state of '" + n.name + "'");
      for (std::size_t k = 0; k < e.spiked.size(); ++k) {
        if (e.spiked[k] < 0 || e.spiked[k] >= n.size || (k > 0 && e.spiked[k] <= e.spiked[k - 1])) {
          r.fail(member + "corrupt spike list in the event state of '" + n.name + "'");
        }
      }
    }
    return out;
  }

  void read_carry(detail::BinaryReader& r, Loaded& out) {
    auto carry = std::make_unique<detail::RunCarry>();
    out.carry_steps = r.pod<std::int64_t>();
    out.carry_sampling = r.pod<std::int64_t>();
    out.carry_cutoff = r.pod<std::int64_t>();
    carry->next_step = r.pod<std::int64_t>();
    carry->y_sum = r.vec<double>();
    carry->loss_window = r.pod<double>();
    carry->loss_total = r.pod<double>();
    carry->window = r.pod<std::int64_t>();
    carry->loss_steps = r.pod<std::int64_t>();
    const auto bad = [&](const std::string& why) { r.fail("corrupt interrupted run: " + why); };
    const std::int64_t steps = out.carry_steps, sampling = out.carry_sampling, cutoff = out.carry_cutoff;
    if (steps <= 0) bad("its input has " + std::to_string(steps) + " steps");
    if (sampling < 1) bad("sampling_steps = " + std::to_string(sampling));
    if (cutoff < 0 || cutoff >= steps) bad("cutoff = " + std::to_string(cutoff));
    const std::int64_t next = carry->next_step;
    if (next < 0 || next >= steps) bad("it stopped at step " + std::to_string(next) + " of " + std::to_string(steps));
    const std::int64_t out_width = graph_->nodes[static_cast<std::size_t>(graph_->output)].size;
    if (!carry->y_sum.empty() && static_cast<std::int64_t>(carry->y_sum.size()) != out_width) {
      bad("its output sums have " + std::to_string(carry->y_sum.size()) + " values; the output has " +
          std::to_string(out_width));
    }
    check_finite(r, carry->y_sum, "the output sums");
    // The window (steps summed since the last sample) follows from the position and the
    // schedule.
    const std::int64_t window = detail::SampleSchedule{sampling, cutoff}.window_at(next);
    if (carry->window != window) {
      bad("window of " + std::to_string(carry->window) + " steps; stopping at step " + std::to_string(next) +
          " with sampling_steps " + std::to_string(sampling) + " and cutoff " + std::to_string(cutoff) + " gives " +
          std::to_string(window));
    }
    const std::int64_t counted = std::max<std::int64_t>(0, next - cutoff);
    if (carry->loss_steps != 0 && carry->loss_steps != counted) bad(std::to_string(carry->loss_steps) + " loss steps");
    if (!std::isfinite(carry->loss_window) || !std::isfinite(carry->loss_total)) bad("the loss sums are not finite");
    out.carry = std::move(carry);
  }

  std::string path_;
  std::string what_;
  detail::Graph* graph_;
  Precision precision_;
  double dt_;
};

}  // namespace

std::vector<std::string> fingerprint_changes(const std::vector<FingerprintEntry>& saved,
                                             const std::vector<FingerprintEntry>& now) {
  std::map<std::string, const FingerprintEntry*> before;
  for (const auto& e : saved) before[e.key] = &e;
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& e : now) {
    seen.insert(e.key);
    const auto it = before.find(e.key);
    if (it == before.end()) {
      out.push_back(e.key + ": added" + (e.text.empty() ? "" : " (" + e.text + ")"));
    } else if (it->second->hash != e.hash) {
      const std::string& a = it->second->text;
      out.push_back(e.key + ": " + (!a.empty() || !e.text.empty() ? (a.empty() ? "?" : a) + " -> " + (e.text.empty() ? "?" : e.text)
                                                                  : std::string("changed")));
    }
  }
  for (const auto& e : saved) {
    if (!seen.count(e.key)) out.push_back(e.key + ": removed" + (e.text.empty() ? "" : " (was " + e.text + ")"));
  }
  return out;
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  CheckpointReader reader(path, nullptr, Precision::Float64, 0.0);
  Loaded loaded = reader.read(nullptr);
  return std::move(loaded.info);
}

void Network::load_checkpoint(const std::string& path, Observer* observer) {
  CheckpointLoad how;
  how.observer = observer;
  load_checkpoint(path, how);
}

void Network::load_checkpoint(const std::string& path, const CheckpointLoad& how) {
  require_compiled("load_checkpoint");
  if (communicator_.distributed()) {
    throw InvalidArgument("load_checkpoint: a network over " + std::to_string(communicator_.size()) +
                          " ranks has no checkpoints in this version");
  }
  for (const auto& node : graph_->nodes) {
    if (const auto* m = detail::other_model_of(node)) {
      throw InvalidArgument("load_checkpoint: population '" + node.name + "' uses model '" + m->decl->name +
                            "'; checkpoints hold QIF populations and function nodes only");
    }
  }
  CheckpointReader reader(path, graph_.get(), precision_, dt_);
  Observer* observer = how.observer;
  // The observer is replaced only once the whole file has been read and checked.
  std::unique_ptr<Observer> staged;
  if (observer) staged = std::make_unique<Observer>(*observer);
  Loaded loaded = reader.read(staged.get());
  if (loaded.format >= 2 && !how.allow_changes) {
    std::vector<FingerprintEntry> saved;
    for (const auto& e : loaded.info.fingerprint) {
      if (is_network_key(e)) saved.push_back(e);
    }
    std::vector<std::string> changes = fingerprint_changes(saved, network_fingerprint(*graph_));
    if (!changes.empty()) {
      for (auto& c : changes) c = c.substr(kNetworkKeyLength);
      throw GraphError("checkpoint '" + path + "' was saved by a network with other weights or activations: " +
                       detail::join(changes, false) + " (its state would not continue that run)");
    }
  }
  // An interrupted sweep: its ensemble, built from the sweep given, its members' state restored.
  std::unique_ptr<detail::Engine> ensemble;
  std::string signature;
  const bool sweeping = how.sweep != nullptr && !how.sweep->empty();
  if (loaded.has_members || sweeping) {
    const std::string where = "load_checkpoint: '" + path + "' ";
    if (!sweeping) {
      throw InvalidArgument(where + "holds a sweep of " + std::to_string(loaded.members.size()) +
                            " members; give its sweep (CheckpointLoad::sweep) to continue it");
    }
    if (!loaded.has_members) throw InvalidArgument(where + "holds no sweep; it continues a single run");
    if (backend_ == Backend::Cuda) {
      throw InvalidArgument(where + "holds a sweep; ensembles run on the CPU backend in this version");
    }
    const std::int64_t members = how.sweep->members();
    if (members != static_cast<std::int64_t>(loaded.members.size())) {
      throw InvalidArgument(where + "holds a sweep of " + std::to_string(loaded.members.size()) +
                            " members; the sweep given has " + std::to_string(members));
    }
    signature = detail::sweep_signature(*how.sweep);
    if (signature != loaded.sweep_signature && !how.allow_changes) {
      throw InvalidArgument(where + "holds the sweep " + loaded.sweep_signature + "; the sweep given is " + signature +
                            " (its members would not continue that run)");
    }
    detail::SweepMembers sm = detail::sweep_members(*graph_, *how.sweep);
    ensemble = detail::make_cpu_ensemble(sm.graphs, precision_, dt_, sm.input_scale);
    std::vector<detail::MemberCarry> carries;
    for (std::size_t b = 0; b < loaded.members.size(); ++b) {
      Loaded::Member& m = loaded.members[b];
      detail::Engine& e = ensemble->member(static_cast<std::int64_t>(b));
      for (const auto& s : m.state) {
        if (detail::is_parameter(s.var) && !how.parameters) continue;  // the sweep's and the network's
        e.set_var(s.node, s.var, s.values);
      }
      for (const auto& [edge, values] : m.edge_states) e.set_edge_state(edge, values);
      e.set_event_state(m.events);  // after set_var, which makes it stale
      carries.push_back(std::move(m.carry));
    }
    ensemble->set_member_carries(std::move(carries));
    if (!loaded.carry) throw InvalidArgument(where + "holds a sweep but no interrupted run");
  }
  // Apply.
  forget_interrupted();
  for (const auto& s : loaded.state) {
    if (detail::is_parameter(s.var)) {
      if (!how.parameters) continue;
      // One value where every neuron has it (the file holds one per neuron): one tau_s stays one.
      const std::vector<double> values = compact(s.values);
      auto& pop = graph_->nodes[static_cast<std::size_t>(s.node)].pop;
      detail::param_of(pop, s.var) = Param(values);
      engine_->set_var(s.node, s.var, values);
      continue;
    }
    engine_->set_var(s.node, s.var, s.values);
  }
  for (const auto& [edge, values] : loaded.edge_states) engine_->set_edge_state(edge, values);
  engine_->set_event_state(loaded.events);  // after set_var, which makes it stale
  if (observer) *observer = std::move(*staged);
  step_ = loaded.step;
  show_step_start_ = false;
  carry_ = std::move(loaded.carry);
  carry_steps_ = loaded.carry_steps;
  carry_sampling_ = loaded.carry_sampling;
  carry_cutoff_ = loaded.carry_cutoff;
  if (ensemble) {
    sweep_engine_ = std::move(ensemble);
    sweep_signature_ = std::move(signature);
    sweep_from_checkpoint_ = true;
  }
  if (how.info) *how.info = std::move(loaded.info);
}

}  // namespace qifsim
