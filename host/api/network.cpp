// host/api/network.cpp - the public Network: graph building, argument checks, engine choice.
#include "qifsim/network.hpp"

#include <cmath>
#include <utility>

#include "core/engine.hpp"
#include "core/exchange_ops.hpp"
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
#include "model/stochastic.hpp"
#include "api/network_call.hpp"

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

namespace {

constexpr std::size_t kMaxPoissonInputs = 0xffff - model::kPoissonStream;

detail::Node& stochastic_target(detail::Graph& g, const std::string& node, const char* context) {
  detail::Node& n = g.nodes[static_cast<std::size_t>(g.require(node, context))];
  if (n.kind != NodeKind::Population) {
    throw InvalidArgument(std::string(context) + ": '" + node + "' is a function node; noise and Poisson input drive populations");
  }
  if (n.size >= model::kMaxStochasticNeurons) {
    throw InvalidArgument(std::string(context) + ": '" + node + "' has more than 2^40 neurons");
  }
  return n;
}

}  // namespace

void Network::add_noise(const std::string& node, NoiseInput noise) {
  const Call call(*this, "Network::add_noise");
  detail::Node& n = stochastic_target(*graph_, node, "Network::add_noise");
  const auto count = noise.sigma.values.size();
  if (count != 1 && static_cast<std::int64_t>(count) != n.size) {
    throw InvalidArgument("Network::add_noise: '" + node + "': sigma has " + std::to_string(count) +
                          " values; give 1 or one per neuron (" + std::to_string(n.size) + ")");
  }
  for (std::size_t i = 0; i < count; ++i) {
    const double s = noise.sigma.values[i];
    if (!(std::isfinite(s) && s >= 0.0)) {
      throw InvalidArgument("Network::add_noise: '" + node + "': sigma" + (count == 1 ? "" : "[" + std::to_string(i) + "]") +
                            " = " + detail::short_number(s) + " must be finite and >= 0");
    }
  }
  n.noise = std::move(noise);
  engine_.reset();
}

void Network::add_poisson_input(const std::string& node, PoissonInput input) {
  const Call call(*this, "Network::add_poisson_input");
  detail::Node& n = stochastic_target(*graph_, node, "Network::add_poisson_input");
  const std::string who = "Network::add_poisson_input: '" + node + "': ";
  if (!(std::isfinite(input.rate) && input.rate >= 0.0)) throw InvalidArgument(who + "rate = " + detail::short_number(input.rate) + " must be finite and >= 0");
  if (!std::isfinite(input.weight)) throw InvalidArgument(who + "weight = " + detail::short_number(input.weight) + " must be finite");
  if (input.sources < 1) throw InvalidArgument(who + "sources = " + std::to_string(input.sources) + " must be >= 1");
  const double lambda = static_cast<double>(input.sources) * input.rate * dt_;
  if (!(lambda <= 1e9)) {
    throw InvalidArgument(who + "sources * rate * dt = " + detail::short_number(lambda) +
                          " input spikes per neuron and step is too many (at most 1e9); is rate in the unit of dt?");
  }
  if (n.poisson.size() >= kMaxPoissonInputs) {  // each input has its own 16-bit stream; 0 is the noise's
    throw InvalidArgument(who + "it has " + std::to_string(n.poisson.size()) + " Poisson inputs already, the most one population takes");
  }
  n.poisson.push_back(input);
  engine_.reset();
}

void Network::set_step_count(std::int64_t steps) {
  const Call call(*this, "Network::set_step_count");
  require_compiled("set_step_count");
  if (steps < 0) throw InvalidArgument("Network::set_step_count: steps = " + std::to_string(steps) + " must be >= 0");
  step_ = steps;
  forget_interrupted();  // an interrupted run cannot be continued from another count
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

void Network::set_communicator(Communicator communicator) {
  const Call call(*this, "Network::set_communicator");
  communicator_ = std::move(communicator);
  engine_.reset();
}

std::string Network::partition_summary(int ranks) const {
  if (ranks <= 0) ranks = communicator_.size();
  std::string line = std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks") + ", neurons in whole 256-neuron blocks:";
  bool first = true;
  for (const Node& node : graph_->nodes) {
    if (node.kind != NodeKind::Population) continue;
    const std::vector<NeuronRange> parts = partition(node.size, ranks);
    line += std::string(first ? " '" : "; '") + node.name + "'";
    first = false;
    for (std::size_t r = 0; r < parts.size(); ++r) {
      if (parts.size() > 6 && r == 3) {
        line += " | ...";
        r = parts.size() - 3;
        continue;
      }
      line += (r == 0 ? " " : " | ") + std::to_string(parts[r].lo) + ".." + std::to_string(parts[r].hi);
    }
  }
  return line + (first ? " no populations" : "");
}

std::string Network::memory_summary(int ranks) const {
  if (ranks <= 0) ranks = communicator_.size();
  const detail::Footprint f = detail::engine_footprint(*graph_, precision_, ranks, 0);
  double weights = 0.0;  // the graph's own copies (float64; a sparse matrix's 64-bit indices)
  const auto held = [&weights](const Weights& w) {
    if (w.kind() == Weights::Kind::Dense) weights += 8.0 * static_cast<double>(w.rows()) * static_cast<double>(w.cols());
    if (w.kind() == Weights::Kind::Sparse) weights += 16.0 * static_cast<double>(w.synapses()) + 8.0 * static_cast<double>(w.rows() + 1);
  };
  for (const Node& node : graph_->nodes) held(node.pop.weights);
  for (const detail::Edge& e : graph_->edges) held(e.weights);
  std::string line = "about " + detail::format_bytes(f.bytes) + (ranks > 1 ? " per rank (rank 0's part, the largest)" : "") +
                     "; its largest part: " + f.largest + ", " + detail::format_bytes(f.largest_bytes);
  if (ranks > 1) line += "; every rank also holds the whole graph's weights while it builds its part: " + detail::format_bytes(weights);
  return line;
}

void Network::compile() {
  const Call call(*this, "Network::compile");
  graph_->compile();
  // A dt that does not suit the time constants is most often a unit mistake: say so once.
  for (const auto& line : detail::step_size_warnings(*graph_, dt_)) log_notice("warning: " + line);
  Backend chosen = requested_;
  const bool split = communicator_.distributed();
  if (split && requested_ == Backend::Cuda) {
    throw BackendError("Network::compile: a network over " + std::to_string(communicator_.size()) +
                       " ranks runs on the CPU backend in this version; use Backend::Cpu or Backend::Auto");
  }
  if (split) chosen = Backend::Cpu;
  if (chosen != Backend::Cpu) {
    const DeviceStatus device = cuda_device_status(cuda_device_);
    if (requested_ == Backend::Cuda && !device.usable) {
      throw BackendError("Network::compile: backend 'cuda' was asked for, but no GPU is usable: " +
                         device.description + "; use Backend::Cpu or Backend::Auto");
    }
    // Noise and Poisson input run on the CPU backend only (the shared step in
    // model/stochastic.hpp has no CUDA kernel yet).
    std::string stochastic;
    for (const Node& node : graph_->nodes) {
      if (node.kind == NodeKind::Population && detail::has_stochastic_input(node)) stochastic = node.name;
    }
    if (requested_ == Backend::Cuda && !stochastic.empty()) {
      throw BackendError("Network::compile: population '" + stochastic +
                         "' has noise or Poisson input, which the CUDA backend does not run yet; use Backend::Cpu");
    }
    if (requested_ == Backend::Auto && device.usable && !stochastic.empty()) {
      chosen = Backend::Cpu;
      log_notice("backend auto -> cpu (population '" + stochastic + "' has noise or Poisson input, CPU only for now)");
    } else if (requested_ == Backend::Auto) {
      chosen = device.usable ? Backend::Cuda : Backend::Cpu;
      log_notice("backend auto -> " + to_string(chosen) + " (" +
                 (device.usable ? device.description : "no GPU: " + device.description) + ")");
    }
  }
  // Before allocating: will it fit? (A size one digit too long is a message, not the
  // kernel's out-of-memory killer.) The GPU check counts device memory for the engine.
  // Split: this rank's part (each rank holds the whole graph already).
  const detail::Footprint need = split ? detail::engine_footprint(*graph_, precision_, communicator_.size(), communicator_.rank())
                                       : detail::engine_footprint(*graph_, precision_);
  if (chosen == Backend::Cuda) {
    const std::size_t free_bytes = detail::available_device_memory(cuda_device_);  // 0: unknown
    if (free_bytes > 0) detail::require_memory(need, free_bytes, "Network::compile", "the GPU");
  } else if (split) {  // every rank learns of a rank that cannot hold its part
    std::string error;
    try {
      detail::require_memory(need, detail::available_host_memory(), "Network::compile", "this machine");
    } catch (const MemoryBudgetError& e) {
      error = e.what();
    }
    const detail::RankFailure failure = detail::exchange_status(communicator_.exchange(), error);
    if (failure.failed()) {
      throw MemoryBudgetError("rank " + std::to_string(failure.rank) + " of " + std::to_string(communicator_.size()) +
                              ": " + failure.message);
    }
  } else {
    detail::require_memory(need, detail::available_host_memory(), "Network::compile", "this machine");
  }
  detail::Exchange* ranks = split ? &communicator_.exchange() : nullptr;  // this rank's part only
#if QIFSIM_HAVE_CUDA
  engine_ = chosen == Backend::Cuda ? detail::make_cuda_engine(*graph_, precision_, dt_, cuda_device_)
                                    : detail::make_cpu_engine(*graph_, precision_, dt_, ranks);
#else
  engine_ = detail::make_cpu_engine(*graph_, precision_, dt_, ranks);
#endif
  backend_ = chosen;
  step_ = 0;
  forget_interrupted();
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
  engine_->clock = step_;
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
  forget_interrupted();
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

void Network::forget_interrupted() {
  carry_.reset();
  sweep_engine_.reset();
  sweep_signature_.clear();
  sweep_from_checkpoint_ = false;
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
