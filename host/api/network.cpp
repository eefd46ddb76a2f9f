// host/api/network.cpp - the public Network: graph building, argument checks, engine choice.
#include "qifsim/network.hpp"

#include <cmath>
#include <utility>

#include "core/engine.hpp"
#include "core/observer_engine_side.hpp"
#include "core/coupling_choice.hpp"
#include "core/step_size_check.hpp"
#include "core/graph.hpp"
#include "core/memory_check.hpp"
#include "core/progress.hpp"
#include "qifsim/device.hpp"
#include "qifsim/error.hpp"
#include "qifsim/log.hpp"
#include "core/text.hpp"

namespace qifsim {

using detail::Graph;
using detail::Node;
using detail::NodeKind;
using detail::Var;

void detail::CallOwner::enter(const char* call, const char* object) {
  const std::thread::id me = std::this_thread::get_id();
  if (owner_.load(std::memory_order_acquire) == me) {  // a call nested in our own
    ++depth_;
    return;
  }
  std::thread::id none{};
  if (!owner_.compare_exchange_strong(none, me, std::memory_order_acq_rel)) {
    throw BusyError(std::string(call) + ": " + object +
                    " is in use by another thread (a call such as a run is in progress); it serves one thread "
                    "at a time: wait for that call to return, or give each thread its own");
  }
  depth_ = 1;
}

void detail::CallOwner::leave() noexcept {
  if (--depth_ == 0) owner_.store(std::thread::id{}, std::memory_order_release);
}

/// Holds the network for one public call (see CallOwner).
class Network::Call {
 public:
  Call(const Network& net, const char* name) : owner_(net.owner_) { owner_.enter(name); }
  ~Call() { owner_.leave(); }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

 private:
  detail::CallOwner& owner_;
};

Network::Network(double dt, Backend backend, Precision precision)
    : dt_(dt), requested_(backend), backend_(backend), precision_(precision), graph_(std::make_unique<Graph>()) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw InvalidArgument("Network: dt = " + std::to_string(dt) + " must be finite and > 0");
  }
}

Network::~Network() = default;  // RunCarry is complete here
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;

void Network::add_population(const std::string& name, QifPopulation population) {
  const Call call(*this, "Network::add_population");
  Node node;
  node.name = name;
  node.kind = NodeKind::Population;
  node.size = population.n;
  node.pop = std::move(population);
  graph_->add_node(std::move(node));
  engine_.reset();
}

void Network::add_population(const std::string& name, NeuronPopulation population) {
  const Call call(*this, "Network::add_population");
  graph_->add_node(detail::make_model_node(name, std::move(population)));
  engine_.reset();
}

void Network::add_function(const std::string& name, std::int64_t size, Activation activation) {
  const Call call(*this, "Network::add_function");
  Node node;
  node.name = name;
  node.kind = NodeKind::Function;
  node.size = size;
  node.activation = activation;
  graph_->add_node(std::move(node));
  engine_.reset();
}

void Network::add_edge(const std::string& source, const std::string& target, Weights weights) {
  add_edge(source, target, std::move(weights), EdgeOptions{});
}

void Network::add_edge(const std::string& source, const std::string& target, Weights weights, EdgeOptions options) {
  const Call call(*this, "Network::add_edge");
  graph_->add_edge(source, target, std::move(weights), std::move(options));
  engine_.reset();
}

void Network::compile() {
  const Call call(*this, "Network::compile");
  graph_->compile();
  // A dt that does not suit the time constants is most often a unit mistake: say so once.
  for (const auto& line : detail::step_size_warnings(*graph_, dt_)) log_notice("warning: " + line);
  Backend chosen = requested_;
  if (requested_ != Backend::Cpu) {
    const DeviceStatus device = cuda_device_status(cuda_device_);
    if (requested_ == Backend::Cuda && !device.usable) {
      throw BackendError("Network::compile: backend 'cuda' was asked for, but no GPU is usable: " +
                         device.description + "; use Backend::Cpu or Backend::Auto");
    }
    if (requested_ == Backend::Auto) {
      chosen = device.usable ? Backend::Cuda : Backend::Cpu;
      log_notice("backend auto -> " + to_string(chosen) + " (" +
                 (device.usable ? device.description : "no GPU: " + device.description) + ")");
    }
  }
  // Before allocating: will it fit? (A size one digit too long is a message, not the
  // kernel's out-of-memory killer.) The GPU check counts device memory for the engine.
  const detail::Footprint need = detail::engine_footprint(*graph_, precision_);
  if (chosen == Backend::Cuda) {
    const std::size_t free_bytes = detail::available_device_memory(cuda_device_);  // 0: unknown
    if (free_bytes > 0) detail::require_memory(need, free_bytes, "Network::compile", "the GPU");
  } else {
    detail::require_memory(need, detail::available_host_memory(), "Network::compile", "this machine");
  }
#if QIFSIM_HAVE_CUDA
  engine_ = chosen == Backend::Cuda ? detail::make_cuda_engine(*graph_, precision_, dt_, cuda_device_)
                                    : detail::make_cpu_engine(*graph_, precision_, dt_);
#else
  engine_ = detail::make_cpu_engine(*graph_, precision_, dt_);
#endif
  backend_ = chosen;
  step_ = 0;
  carry_.reset();
  show_step_start_ = false;
  coupling_requested_ = CouplingMode::Auto;
  coupling_resync_ = detail::kDefaultResync;
  coupling_line_ = engine_->set_coupling(coupling_requested_, coupling_resync_);
  coupling_logged_ = false;  // logged by the first run, with the mode that run asks for
}

void Network::log_coupling() const {
  // Quiet where everything is the plain dense product (small networks, RectiPy's arithmetic).
  const bool plain = coupling_line_.empty() ||
                     (coupling_line_.find("sparse") == std::string::npos && coupling_line_.find("procedural") == std::string::npos &&
                      coupling_line_.find("events") == std::string::npos);
  if (!plain) log_notice("coupling " + to_string(coupling_requested_) + " -> " + coupling_line_);
}

const std::string& Network::coupling_choice() const {
  const Call call(*this, "Network::coupling_choice");
  return coupling_line_;
}

void Network::set_cuda_device(int device) {
  const Call call(*this, "Network::set_cuda_device");
  if (device < 0) throw InvalidArgument("Network::set_cuda_device: device " + std::to_string(device) + " must be >= 0");
  cuda_device_ = device;
  engine_.reset();  // compile() builds the engine on that device
}

void Network::require_compiled(const char* what) const {
  if (!engine_) {
    throw InvalidArgument(std::string("Network::") + what + ": call compile() first");
  }
}

const std::string& Network::input_node() const {
  const Call call(*this, "Network::input_node");
  require_compiled("input_node");
  return graph_->nodes[static_cast<std::size_t>(graph_->input)].name;
}

const std::string& Network::output_node() const {
  const Call call(*this, "Network::output_node");
  require_compiled("output_node");
  return graph_->nodes[static_cast<std::size_t>(graph_->output)].name;
}

std::int64_t Network::input_width() const {
  const Call call(*this, "Network::input_width");
  require_compiled("input_width");
  return graph_->nodes[static_cast<std::size_t>(graph_->input)].size;
}

std::int64_t Network::output_width() const {
  const Call call(*this, "Network::output_width");
  require_compiled("output_width");
  return graph_->nodes[static_cast<std::size_t>(graph_->output)].size;
}

std::int64_t Network::node_size(const std::string& node) const {
  const Call call(*this, "Network::node_size");
  return graph_->nodes[static_cast<std::size_t>(graph_->require(node, "node_size"))].size;
}

std::vector<double> Network::forward(const std::vector<double>& x) {
  const Call call(*this, "Network::forward");
  require_compiled("forward");
  if (static_cast<std::int64_t>(x.size()) != input_width()) {
    throw InvalidArgument("Network::forward: input has " + std::to_string(x.size()) +
                          " values; the input node '" + input_node() + "' takes " +
                          std::to_string(input_width()));
  }
  std::vector<double> y(static_cast<std::size_t>(output_width()));
  forward(x.data(), y.data());
  return y;
}

void Network::forward(const double* x, double* y) {
  const Call call(*this, "Network::forward");
  require_compiled("forward");
  const std::int64_t m = input_width();
  for (std::int64_t j = 0; j < m; ++j) {
    if (!std::isfinite(x[j])) {
      throw InvalidArgument("Network::forward: input[" + std::to_string(j) + "] = " + std::to_string(x[j]) +
                            " is not finite; the state is unchanged");
    }
  }
  engine_->forward(x, y);
  ++step_;
  show_step_start_ = true;
}

std::vector<double> Network::get_var(const std::string& node, const std::string& var) const {
  const Call call(*this, "Network::get_var");
  return read_var(node, var, show_step_start_, "get_var");
}

std::vector<double> Network::next_state(const std::string& node, const std::string& var) const {
  const Call call(*this, "Network::next_state");
  return read_var(node, var, false, "next_state");
}

std::vector<double> Network::read_var(const std::string& node, const std::string& var, bool step_start,
                                      const char* call) const {
  const int i = graph_->require(node, call);
  const Node& n = graph_->nodes[static_cast<std::size_t>(i)];
  const Var v = detail::parse_var(n, var);
  detail::require_host_bytes(static_cast<double>(n.size) * sizeof(double), std::string(call) + "('" + node + "', '" +
                                                                               var + "'): a copy of its " +
                                                                               std::to_string(n.size) + " values");
  if (!engine_) {
    // Before compile: initial state and parameters from the description.
    const bool derived = detail::is_rate_population(n) && v == Var::S;  // r, computed from v
    if (detail::is_parameter(v) || (detail::is_state(v) && !derived)) {
      const Param& p = detail::is_state(v) ? detail::node_initial(n, v) : detail::node_param(n, v);
      std::vector<double> out(static_cast<std::size_t>(n.size));
      for (std::int64_t j = 0; j < n.size; ++j) out[static_cast<std::size_t>(j)] = p.at(j);
      return out;
    }
    require_compiled(call);
  }
  // A spiking population shows its state at the last forward()'s start; a rate node its state now.
  const bool state = detail::is_state(v) || v == Var::Spike;
  return engine_->get_var(i, v, step_start && state && !detail::is_rate_population(n));
}

std::vector<std::string> Network::var_names(const std::string& node) const {
  const Call call(*this, "Network::var_names");
  return detail::var_names(graph_->nodes[static_cast<std::size_t>(graph_->require(node, "var_names"))]);
}

void Network::set_var(const std::string& node, const std::string& var, const std::vector<double>& values) {
  const Call call(*this, "Network::set_var");
  const int i = graph_->require(node, "set_var");
  Node& n = graph_->nodes[static_cast<std::size_t>(i)];
  const Var v = detail::parse_var(n, var);
  const bool state = detail::is_state(v) && !(detail::is_rate_population(n) && v == Var::S);
  if (!state && !detail::is_parameter(v)) {
    throw InvalidArgument("set_var: '" + node + "." + var +
                          "' cannot be set (settable: the state variables and parameters of a population)");
  }
  if (values.size() != 1 && static_cast<std::int64_t>(values.size()) != n.size) {
    throw InvalidArgument("set_var: '" + node + "." + var + "' takes 1 or " + std::to_string(n.size) +
                          " values; got " + std::to_string(values.size()));
  }
  for (std::size_t j = 0; j < values.size(); ++j) {
    if (!std::isfinite(values[j])) {
      throw InvalidArgument("set_var: '" + node + "." + var + "'[" + std::to_string(j) + "] is not finite");
    }
  }
  if (detail::is_parameter(v) && detail::other_model_of(n) != nullptr) {
    Node updated = n;
    detail::node_param(updated, v) = Param(values);
    detail::validate_model_node(updated);  // e.g. v_reset < v_threshold still holds
    n = std::move(updated);
  } else if (detail::is_parameter(v)) {
    QifPopulation updated = n.pop;
    detail::param_of(updated, v) = Param(values);
    detail::validate_population(node, updated);  // e.g. v_reset < v_threshold still holds
    n.pop = std::move(updated);
  } else if (!engine_) {
    // Before compile, the state is the initial state.
    detail::node_initial(n, v) = Param(values);
    return;
  }
  if (engine_) engine_->set_var(i, v, values);
  if (state) show_step_start_ = false;  // get_var shows the state the next step starts from
}

void Network::reset() {
  const Call call(*this, "Network::reset");
  require_compiled("reset");
  engine_->reset();
  step_ = 0;
  carry_.reset();
  show_step_start_ = false;
}

void Network::reset(const std::vector<VarValue>& state) {
  const Call call(*this, "Network::reset");
  require_compiled("reset");
  // Check every entry before touching the state.
  for (const auto& entry : state) {
    const int i = graph_->require(entry.node, "reset");
    const Var v = detail::parse_var(graph_->nodes[static_cast<std::size_t>(i)], entry.var);
    const Node& n = graph_->nodes[static_cast<std::size_t>(i)];
    if (!detail::is_state(v) || (detail::is_rate_population(n) && v == Var::S)) {
      throw InvalidArgument("reset: '" + entry.node + "." + entry.var + "' is not a state variable (" +
                            detail::join_state_names(n) + ")");
    }
    const std::int64_t size = graph_->nodes[static_cast<std::size_t>(i)].size;
    if (entry.values.size() != 1 && static_cast<std::int64_t>(entry.values.size()) != size) {
      throw InvalidArgument("reset: '" + entry.node + "." + entry.var + "' takes 1 or " +
                            std::to_string(size) + " values; got " + std::to_string(entry.values.size()));
    }
  }
  reset();
  for (const auto& entry : state) set_var(entry.node, entry.var, entry.values);
}

namespace {

// The caller's memory, checked before the run: its shape and every value.
void check_view(const MatrixView& m, const char* what, const char* one, const std::string& where) {
  if (m.data == nullptr || m.rows < 0 || m.cols < 0 ||
      m.size != static_cast<std::size_t>(detail::checked_product(m.rows, m.cols, where + ": " + what))) {
    throw InvalidArgument(where + ": " + what + " are " + detail::shape(m.rows, m.cols) + " with " +
                          std::to_string(m.size) + " values readable");
  }
  for (std::size_t i = 0; i < m.size; ++i) {
    if (!std::isfinite(m.data[i])) {
      throw InvalidArgument(where + ": " + one + " (" +
                            std::to_string(i / static_cast<std::size_t>(m.cols)) + ", " +
                            std::to_string(i % static_cast<std::size_t>(m.cols)) + ") is not finite");
    }
  }
}

void check_source(const InputSource& s, const char* what, const std::string& where) {
  if (!s.fetch) throw InvalidArgument(where + ": the " + std::string(what) + " source has no fetch function");
  if (s.rows < 0 || s.cols < 0) {
    throw InvalidArgument(where + ": " + what + " are " + detail::shape(s.rows, s.cols));
  }
  detail::checked_product(s.rows, s.cols, where + ": " + what);
}

}  // namespace

Observer Network::run(MatrixView inputs, const RunOptions& options) {
  Observer obs(dt_, RecordSpec{options.record_output, options.record_loss, options.record_vars});
  if (options.memory_budget > 0) obs.set_memory_budget(options.memory_budget);
  run(inputs, options, obs);
  return obs;
}

void Network::run(MatrixView inputs, const RunOptions& options, Observer& into) {
  const Call call(*this, "Network::run");
  check_view(inputs, "inputs", "input", "Network::run");
  detail::RowSource rows(inputs);
  run_impl(rows, nullptr, "mse", options, into, nullptr);
}

void Network::run(const InputSource& inputs, const RunOptions& options, Observer& into) {
  const Call call(*this, "Network::run");
  check_source(inputs, "inputs", "Network::run");
  detail::RowSource rows(inputs, "input");
  run_impl(rows, nullptr, "mse", options, into, nullptr);
}

double Network::test(MatrixView inputs, MatrixView targets, const std::string& loss, const RunOptions& options,
                     Observer& into) {
  const Call call(*this, "Network::test");
  check_view(inputs, "inputs", "input", "Network::test");
  check_view(targets, "targets", "target", "Network::test");
  detail::RowSource in(inputs), tg(targets);
  double mean_loss = 0.0;
  run_impl(in, &tg, loss, options, into, &mean_loss);
  return mean_loss;
}

double Network::test(const InputSource& inputs, const InputSource& targets, const std::string& loss,
                     const RunOptions& options, Observer& into) {
  const Call call(*this, "Network::test");
  check_source(inputs, "inputs", "Network::test");
  check_source(targets, "targets", "Network::test");
  detail::RowSource in(inputs, "input"), tg(targets, "target");
  double mean_loss = 0.0;
  run_impl(in, &tg, loss, options, into, &mean_loss);
  return mean_loss;
}

TestResult Network::test(MatrixView inputs, MatrixView targets, const std::string& loss,
                         const RunOptions& options) {
  Observer obs(dt_, RecordSpec{options.record_output, options.record_loss, options.record_vars});
  if (options.memory_budget > 0) obs.set_memory_budget(options.memory_budget);
  const double mean_loss = test(inputs, targets, loss, options, obs);
  return TestResult{std::move(obs), mean_loss};
}

namespace {

constexpr const char* kEventsCpuOnly =
    "coupling = events is implemented on the CPU backend only; use auto, dense, sparse or procedural on the GPU";

std::string not_recordable(const RecordVar& rv) {
  return "'" + rv.node + "." + rv.var + "' is a parameter; record state variables";
}

}  // namespace

void Network::check_coupling(CouplingMode coupling) const {
  const Call call(*this, "Network::check_coupling");
  require_compiled("check_coupling");
  if (coupling == CouplingMode::Events && backend_ == Backend::Cuda) throw InvalidArgument(kEventsCpuOnly);
  engine_->check_coupling(coupling);
}

void Network::check_record_var(const RecordVar& rv) const {
  const Call call(*this, "Network::check_record_var");
  require_compiled("check_record_var");
  const int node = graph_->require(rv.node, "record_vars");
  if (!detail::is_recordable(detail::parse_var(graph_->nodes[static_cast<std::size_t>(node)], rv.var))) {
    throw InvalidArgument(not_recordable(rv));
  }
}

void Network::run_impl(detail::RowSource& inputs, detail::RowSource* targets, const std::string& loss,
                       const RunOptions& options, Observer& into, double* mean_loss) {
  require_compiled("run");
  const std::string where = targets ? "Network::test" : "Network::run";
  // ---- Check every argument before anything is allocated or stepped. ----
  const std::int64_t steps = inputs.rows();
  if (steps <= 0) throw InvalidArgument(where + ": inputs have no rows (one row per step)");
  if (inputs.cols() != input_width()) {
    throw InvalidArgument(where + ": inputs are " + detail::shape(inputs.rows(), inputs.cols()) +
                          "; expected steps x " + std::to_string(input_width()) + " for the input node '" +
                          input_node() + "'");
  }
  if (options.sampling_steps < 1) {
    throw InvalidArgument(where + ": sampling_steps = " + std::to_string(options.sampling_steps) + " must be >= 1");
  }
  if (options.cutoff < 0 || options.cutoff >= steps) {
    throw InvalidArgument(where + ": cutoff = " + std::to_string(options.cutoff) + " must be in [0, steps = " +
                          std::to_string(steps) + ")");
  }
  if (options.divergence_check_steps < 0) {
    throw InvalidArgument(where + ": divergence_check_steps = " + std::to_string(options.divergence_check_steps) +
                          " must be >= 0 (0: never)");
  }
  if (options.event_coupling < 0) {
    throw InvalidArgument(where + ": event_coupling = " + std::to_string(options.event_coupling) +
                          " must be >= 0 (0: as `coupling` says)");
  }
  if (options.resync < 0) {
    throw InvalidArgument(where + ": resync = " + std::to_string(options.resync) + " must be >= 0 (0: " +
                          std::to_string(detail::kDefaultResync) + ")");
  }
  const CouplingMode coupling = detail::requested_coupling(options.coupling, options.event_coupling);
  const std::int64_t resync = coupling != options.coupling ? options.event_coupling
                              : options.resync > 0         ? options.resync
                                                           : detail::kDefaultResync;
  if (coupling == CouplingMode::Events && backend_ == Backend::Cuda) throw InvalidArgument(where + ": " + kEventsCpuOnly);
  if (options.resume) {
    if (!interrupted()) throw InvalidArgument(where + ": resume: there is no interrupted run to continue");
    if (steps != carry_steps_ || options.sampling_steps != carry_sampling_ || options.cutoff != carry_cutoff_) {
      throw InvalidArgument(where + ": resume: the interrupted run had " + std::to_string(carry_steps_) +
                            " steps, sampling_steps " + std::to_string(carry_sampling_) + " and cutoff " +
                            std::to_string(carry_cutoff_) + "; got " + std::to_string(steps) + ", " +
                            std::to_string(options.sampling_steps) + " and " + std::to_string(options.cutoff));
    }
  }
  if (options.batch_samples < 0) {
    throw InvalidArgument(where + ": batch_samples = " + std::to_string(options.batch_samples) + " must be >= 0");
  }
  const RecordSpec& spec = into.spec();
  detail::RunPlan plan;
  plan.steps = steps;
  plan.schedule = detail::SampleSchedule{options.sampling_steps, options.cutoff};
  plan.inputs = &inputs;
  if (targets) {
    plan.loss = detail::parse_loss(loss);
    if (targets->rows() != steps || targets->cols() != output_width()) {
      throw InvalidArgument(where + ": targets are " + detail::shape(targets->rows(), targets->cols()) +
                            "; expected " + detail::shape(steps, output_width()) +
                            " (steps x output width of '" + output_node() + "')");
    }
    plan.targets = targets;
  } else if (spec.loss) {
    throw InvalidArgument(where + ": record_loss needs targets; use Network::test");
  }
  if (std::abs(into.dt() - dt_) > 1e-12 * dt_) {
    throw InvalidArgument(where + ": the observer's dt (" + std::to_string(into.dt()) +
                          ") differs from the network's (" + std::to_string(dt_) + ")");
  }
  std::vector<std::int64_t> widths;
  for (const auto& rv : spec.vars) {
    const int node = graph_->require(rv.node, where + ": record_vars");
    const Var v = detail::parse_var(graph_->nodes[static_cast<std::size_t>(node)], rv.var);
    if (!detail::is_recordable(v)) throw InvalidArgument(where + ": record_vars: " + not_recordable(rv));
    const std::int64_t width = rv.mean ? 1 : graph_->nodes[static_cast<std::size_t>(node)].size;
    widths.push_back(width);
    plan.vars.push_back(detail::RecordItem{node, v, rv.mean, 0, width});
  }
  detail::ObserverEngineSide side(into);
  side.bind(output_width(), widths);
  plan.output_offset = side.output_offset();
  plan.loss_offset = side.loss_offset();
  for (std::size_t i = 0; i < plan.vars.size(); ++i) plan.vars[i].offset = side.var_offset(i);
  plan.row_width = side.row_width();
  const std::int64_t samples = plan.schedule.count(steps);
  // Ring capacity: as asked, else about 16 MiB of rows, never more than the samples.
  std::int64_t batch = options.batch_samples;
  if (batch == 0) {
    const std::int64_t row_bytes = std::max<std::int64_t>(plan.row_width, 1) * 8;
    batch = std::max<std::int64_t>(1, (std::int64_t{16} << 20) / row_bytes);
  }
  plan.batch_samples = std::max<std::int64_t>(1, std::min(batch, std::max<std::int64_t>(samples, 1)));
  plan.cuda_graphs = options.cuda_graphs;
  if (!(options.flush_seconds >= 0.0)) {
    throw InvalidArgument(where + ": flush_seconds = " + std::to_string(options.flush_seconds) + " must be >= 0");
  }
  plan.flush_seconds = options.flush_seconds;
  plan.cuda_coupling = options.cuda_coupling;
  plan.divergence_every = options.divergence_check_steps;
  // Auto flushes in float32, except in a reproducible run (the GPU keeps subnormals).
  plan.flush_subnormals = options.subnormals == Subnormals::Flush ||
                          (options.subnormals == Subnormals::Auto && precision_ == Precision::Float32 &&
                           !options.reproducible);
  plan.reproducible = options.reproducible;
  plan.stop = options.stop;
  plan.stop_at = options.stop_at_step;
  if (coupling != coupling_requested_ || resync != coupling_resync_) {
    coupling_line_ = engine_->set_coupling(coupling, resync);  // throws before anything changed
    coupling_requested_ = coupling;
    coupling_resync_ = resync;
    coupling_logged_ = false;
  }
  if (!coupling_logged_) {
    log_coupling();
    coupling_logged_ = true;
  }
  detail::RunCarry carry = options.resume ? *carry_ : detail::RunCarry{};
  const std::int64_t first = carry.next_step;
  const std::int64_t remaining_samples = samples - plan.schedule.count(first);
  side.prepare(remaining_samples, engine_->staging_bytes(plan));
  side.start_sinks();  // file sinks create their files now, not at the first batch
  // ---- Run. ----
  carry_.reset();  // whatever happens now, the old interrupted run is gone
  show_step_start_ = false;
  detail::ProgressReporter progress(options.progress, steps, first);
  plan.progress = &progress;
  try {
    engine_->run(plan, into, carry);
  } catch (...) {
    step_ += carry.next_step - first;
    throw;
  }
  step_ += carry.next_step - first;
  if (carry.next_step >= steps) progress.finish(carry.next_step);
  if (mean_loss) *mean_loss = carry.loss_steps > 0 ? carry.loss_total / static_cast<double>(carry.loss_steps) : 0.0;
  if (carry.next_step < steps) {  // stopped early: keep what resuming needs
    carry_steps_ = steps;
    carry_sampling_ = options.sampling_steps;
    carry_cutoff_ = options.cutoff;
    carry_ = std::make_unique<detail::RunCarry>(std::move(carry));
  }
}

bool Network::interrupted() const {
  const Call call(*this, "Network::interrupted");
  return carry_ != nullptr;
}

std::int64_t Network::resume_step() const {
  const Call call(*this, "Network::resume_step");
  return carry_ ? carry_->next_step : 0;
}

bool Network::compiled() const {
  const Call call(*this, "Network::compiled");
  return engine_ != nullptr;
}

}  // namespace qifsim
