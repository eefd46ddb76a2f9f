// host/checkpoint.cpp - save and restore everything a run needs to continue bit for bit.
//
// Layout (native little-endian): magic, version, dt, precision, the nodes (name, kind,
// size), the step count, the interrupted run (position, schedule, window sums), every
// population's state (v, s, x) and parameters, then optionally an Observer. Values are
// stored as float64, which holds float32 values exactly.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <streambuf>

#include "binary_io.hpp"
#include "engine.hpp"
#include "graph.hpp"
#include "input_files.hpp"
#include "output_files.hpp"
#include "qifsim/error.hpp"
#include "qifsim/network.hpp"
#include "text.hpp"

namespace qifsim {
namespace {

constexpr char kMagic[8] = {'Q', 'I', 'F', 'C', 'K', 'P', 'T', '\n'};
constexpr std::uint32_t kVersion = 1;
constexpr detail::Var kStateVars[] = {detail::Var::V, detail::Var::S, detail::Var::X};
constexpr detail::Var kParams[] = {detail::Var::Eta, detail::Var::Tau, detail::Var::K, detail::Var::TauS,
                                   detail::Var::VThreshold, detail::Var::VReset, detail::Var::Alpha,
                                   detail::Var::TauX};

// An output stream onto a stdio file (the checkpoint's temporary file).
class StdioBuf : public std::streambuf {
 public:
  explicit StdioBuf(std::FILE* f) : f_(f) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    return std::fputc(c, f_) == EOF ? traits_type::eof() : c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    return static_cast<std::streamsize>(std::fwrite(s, 1, static_cast<std::size_t>(n), f_));
  }

 private:
  std::FILE* f_;
};

void check_finite(const detail::BinaryReader& r, const std::vector<double>& values, const std::string& what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) r.fail(what + "[" + std::to_string(i) + "] is not finite");
  }
}

// A copy of a population without its weights (the checks below need the parameters only,
// and a copy of J could be most of the machine's memory). Moving a vector cannot throw.
QifPopulation parameters_of(QifPopulation& pop) {
  Matrix weights = std::move(pop.weights);
  QifPopulation copy;
  try {
    copy = pop;
  } catch (...) {
    pop.weights = std::move(weights);
    throw;
  }
  pop.weights = std::move(weights);
  copy.weights = Matrix();
  return copy;
}

}  // namespace

void Network::save_checkpoint(const std::string& path, const Observer* observer) const {
  require_compiled("save_checkpoint");
  // Written to a temporary file beside `path` and renamed onto it when complete: an old
  // checkpoint stays whole until the new one is, and a link at `path` is not followed.
  detail::write_file_atomically(path, [&](std::FILE* file) {
    StdioBuf buf(file);
    std::ostream out(&buf);
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
    if (!out) throw IoError("writing checkpoint '" + path + "' failed: " + detail::errno_text(errno));
  });
}

void Network::load_checkpoint(const std::string& path, Observer* observer) {
  require_compiled("load_checkpoint");
  detail::open_regular_file(path, "a qifsim checkpoint");  // a FIFO or a device is refused, not read
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open checkpoint '" + path + "': " + detail::errno_text(errno));
  const std::string what = "checkpoint '" + path + "'";
  detail::BinaryReader r(in, what);
  char magic[sizeof(kMagic)];
  in.read(magic, sizeof(magic));
  if (!in || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) r.fail("not a qifsim checkpoint");
  r.skipped(sizeof(magic));
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
  // Read and check everything before changing anything: a checkpoint is a file like any
  // other, and a damaged one must be refused, not run.
  const auto step = r.pod<std::int64_t>();
  if (step < 0) r.fail("corrupt step count " + std::to_string(step));
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
    const auto bad = [&](const std::string& why) { r.fail("corrupt interrupted run: " + why); };
    if (carry_steps <= 0) bad("its input has " + std::to_string(carry_steps) + " steps");
    if (carry_sampling < 1) bad("sampling_steps = " + std::to_string(carry_sampling));
    if (carry_cutoff < 0 || carry_cutoff >= carry_steps) bad("cutoff = " + std::to_string(carry_cutoff));
    if (carry->next_step < 0 || carry->next_step >= carry_steps) {
      bad("it stopped at step " + std::to_string(carry->next_step) + " of " + std::to_string(carry_steps));
    }
    const std::int64_t out_width = graph_->nodes[static_cast<std::size_t>(graph_->output)].size;
    if (!carry->y_sum.empty() && static_cast<std::int64_t>(carry->y_sum.size()) != out_width) {
      bad("its output sums have " + std::to_string(carry->y_sum.size()) + " values; the output has " +
          std::to_string(out_width));
    }
    check_finite(r, carry->y_sum, "the output sums");
    if (carry->window < 0 || carry->window > carry_sampling) bad("window of " + std::to_string(carry->window) + " steps");
    if (carry->loss_steps < 0 || carry->loss_steps > carry->next_step) {
      bad(std::to_string(carry->loss_steps) + " loss steps");
    }
    if (!std::isfinite(carry->loss_window) || !std::isfinite(carry->loss_total)) bad("the loss sums are not finite");
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
    const auto& node = graph_->nodes[static_cast<std::size_t>(s.node)];
    if (static_cast<std::int64_t>(s.values.size()) != node.size) r.fail("corrupt state of node '" + node.name + "'");
    check_finite(r, s.values, "'" + node.name + "." + detail::var_name(s.var) + "'");
  }
  // The parameters obey the rules a config or set_var() obeys (tau > 0, v_reset <
  // v_threshold, ...): validate each population as it would be after loading.
  for (std::size_t i = 0; i < graph_->nodes.size(); ++i) {
    const auto& node = graph_->nodes[i];
    if (node.kind != detail::NodeKind::Population) continue;
    QifPopulation loaded = parameters_of(graph_->nodes[i].pop);
    for (const auto& s : state) {
      if (s.node == static_cast<int>(i) && detail::is_parameter(s.var)) detail::param_of(loaded, s.var) = Param(s.values);
    }
    try {
      detail::validate_population(node.name, loaded);
    } catch (const InvalidArgument& e) {
      r.fail(std::string("holds parameters that are not valid: ") + e.what());
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
  show_step_start_ = false;
  carry_ = std::move(carry);
  carry_steps_ = carry_steps;
  carry_sampling_ = carry_sampling;
  carry_cutoff_ = carry_cutoff;
}

}  // namespace qifsim
