// host/checkpoint.cpp - save and restore everything a run needs to continue bit for bit.
//
// Layout (native little-endian): magic, version, dt, precision, the nodes (name, kind,
// size), the step count, the interrupted run (position, schedule, window sums), every
// population's state (v, s, x) and parameters, then optionally an Observer. Values are
// stored as float64, which holds float32 values exactly.
#include <cerrno>
#include <cstring>
#include <fstream>

#include "binary_io.hpp"
#include "engine.hpp"
#include "graph.hpp"
#include "qifsim/error.hpp"
#include "qifsim/network.hpp"

namespace qifsim {
namespace {

constexpr char kMagic[8] = {'Q', 'I', 'F', 'C', 'K', 'P', 'T', '\n'};
constexpr std::uint32_t kVersion = 1;
constexpr detail::Var kStateVars[] = {detail::Var::V, detail::Var::S, detail::Var::X};
constexpr detail::Var kParams[] = {detail::Var::Eta, detail::Var::Tau, detail::Var::K, detail::Var::TauS,
                                   detail::Var::VThreshold, detail::Var::VReset, detail::Var::Alpha,
                                   detail::Var::TauX};

}  // namespace

void Network::save_checkpoint(const std::string& path, const Observer* observer) const {
  require_compiled("save_checkpoint");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("cannot open checkpoint '" + path + "' for writing: " + std::strerror(errno));
  detail::BinaryWriter w(out);
  out.write(kMagic, sizeof(kMagic));
  w.pod(kVersion);
  w.pod(dt_);
  w.pod<std::int32_t>(precision_ == Precision::Float32 ? 32 : 64);
  w.pod<std::uint64_t>(graph_->nodes.size());
  for (const auto& node : graph_->nodes) {
    w.str(node.name);
    w.pod<std::int32_t>(node.kind == detail::NodeKind::Population ? 0 : 1);
    w.pod<std::int64_t>(node.size);
  }
  w.pod<std::int64_t>(step_);
  w.pod<std::uint8_t>(carry_ ? 1 : 0);
  if (carry_) {
    w.pod(carry_steps_);
    w.pod(carry_sampling_);
    w.pod(carry_cutoff_);
    w.pod(carry_->next_step);
    w.vec(carry_->y_sum);
    w.pod(carry_->loss_window);
    w.pod(carry_->loss_total);
    w.pod(carry_->window);
    w.pod(carry_->loss_steps);
  }
  for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
    const auto& node = graph_->nodes[i];
    if (node.kind != detail::NodeKind::Population) continue;
    for (auto v : kStateVars) w.vec(engine_->get_var(static_cast<int>(i), v));
    for (auto v : kParams) w.vec(engine_->get_var(static_cast<int>(i), v));
  }
  w.pod<std::uint8_t>(observer ? 1 : 0);
  if (observer) observer->write_state(out);
  out.flush();
  if (!out) throw IoError("writing checkpoint '" + path + "' failed: " + std::strerror(errno));
}

void Network::load_checkpoint(const std::string& path, Observer* observer) {
  require_compiled("load_checkpoint");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open checkpoint '" + path + "': " + std::strerror(errno));
  const std::string what = "checkpoint '" + path + "'";
  detail::BinaryReader r(in, what);
  char magic[sizeof(kMagic)];
  in.read(magic, sizeof(magic));
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) r.fail("not a qifsim checkpoint");
  if (r.pod<std::uint32_t>() != kVersion) r.fail("unsupported checkpoint version");
  const double dt = r.pod<double>();
  const auto bits = r.pod<std::int32_t>();
  const std::int32_t ours = precision_ == Precision::Float32 ? 32 : 64;
  if (dt != dt_ || bits != ours) {
    throw GraphError(what + " was saved with dt " + std::to_string(dt) + " in float" + std::to_string(bits) +
                     "; this network has dt " + std::to_string(dt_) + " in float" + std::to_string(ours));
  }
  const auto count = r.pod<std::uint64_t>();
  if (count != graph_->nodes.size()) {
    throw GraphError(what + " holds " + std::to_string(count) + " nodes; this network has " +
                     std::to_string(graph_->nodes.size()));
  }
  for (const auto& node : graph_->nodes) {
    const std::string name = r.str();
    const auto kind = r.pod<std::int32_t>();
    const auto size = r.pod<std::int64_t>();
    const std::int32_t our_kind = node.kind == detail::NodeKind::Population ? 0 : 1;
    if (name != node.name || kind != our_kind || size != node.size) {
      throw GraphError(what + ": saved node '" + name + "' (size " + std::to_string(size) +
                       ") does not match this network's node '" + node.name + "' (size " +
                       std::to_string(node.size) + ")");
    }
  }
  // Read everything before changing anything.
  const auto step = r.pod<std::int64_t>();
  std::unique_ptr<detail::RunCarry> carry;
  std::int64_t carry_steps = 0, carry_sampling = 0, carry_cutoff = 0;
  if (r.pod<std::uint8_t>() != 0) {
    carry = std::make_unique<detail::RunCarry>();
    carry_steps = r.pod<std::int64_t>();
    carry_sampling = r.pod<std::int64_t>();
    carry_cutoff = r.pod<std::int64_t>();
    carry->next_step = r.pod<std::int64_t>();
    carry->y_sum = r.vec<double>();
    carry->loss_window = r.pod<double>();
    carry->loss_total = r.pod<double>();
    carry->window = r.pod<std::int64_t>();
    carry->loss_steps = r.pod<std::int64_t>();
  }
  struct Values {
    int node;
    detail::Var var;
    std::vector<double> values;
  };
  std::vector<Values> state;
  for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
    const auto& node = graph_->nodes[i];
    if (node.kind != detail::NodeKind::Population) continue;
    for (auto v : kStateVars) state.push_back({static_cast<int>(i), v, r.vec<double>()});
    for (auto v : kParams) state.push_back({static_cast<int>(i), v, r.vec<double>()});
  }
  for (const auto& s : state) {
    if (static_cast<std::int64_t>(s.values.size()) != graph_->nodes[static_cast<std::size_t>(s.node)].size) {
      r.fail("corrupt state of node '" + graph_->nodes[static_cast<std::size_t>(s.node)].name + "'");
    }
  }
  const bool has_observer = r.pod<std::uint8_t>() != 0;
  if (observer && !has_observer) r.fail("holds no observer");
  if (observer) {
    Observer restored = *observer;
    restored.read_state(in, what);
    *observer = std::move(restored);
  }
  // Apply.
  for (const auto& s : state) {
    if (detail::is_parameter(s.var)) {
      auto& pop = graph_->nodes[static_cast<std::size_t>(s.node)].pop;
      detail::param_of(pop, s.var) = Param(s.values);
    }
    engine_->set_var(s.node, s.var, s.values);
  }
  step_ = step;
  carry_ = std::move(carry);
  carry_steps_ = carry_steps;
  carry_sampling_ = carry_sampling;
  carry_cutoff_ = carry_cutoff;
}

}  // namespace qifsim
