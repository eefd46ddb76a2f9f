// host/api/network_run.cpp - Network::run and Network::test: the inputs and options checked,
// the run planned (recorded variables, samples, memory) and handed to the engine.
#include "qifsim/network.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/engine.hpp"
#include "core/observer_engine_side.hpp"
#include "core/coupling_choice.hpp"
#include "core/step_size_check.hpp"
#include "core/graph.hpp"
#include "core/memory_check.hpp"
#include "core/progress.hpp"
#include "core/sweep_members.hpp"
#include "qifsim/device.hpp"
#include "qifsim/error.hpp"
#include "qifsim/log.hpp"
#include "core/text.hpp"
#include "api/network_call.hpp"

namespace qifsim {

using detail::Graph;
using detail::Node;
using detail::NodeKind;
using detail::Var;

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
  Observer obs(dt_, RecordSpec{options.record_output, options.record_loss, options.record_vars, options.record_spikes,
                               options.sweep.members()});
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
  Observer obs(dt_, RecordSpec{options.record_output, options.record_loss, options.record_vars, options.record_spikes});
  if (options.memory_budget > 0) obs.set_memory_budget(options.memory_budget);
  const double mean_loss = test(inputs, targets, loss, options, obs);
  return TestResult{std::move(obs), mean_loss};
}

namespace {

constexpr const char* kEventsCpuOnly =
    "coupling = events is implemented on the CPU backend only; use auto, dense, sparse or procedural on the GPU";

// Chosen neurons: indices into the node, each once, not averaged.
void check_neurons(const RecordVar& rv, std::int64_t size, const std::string& where) {
  const std::string what = where + ": record_vars: '" + rv.node + "." + rv.var + "': ";
  if (!rv.neurons.empty() && rv.mean) throw InvalidArgument(what + "chosen neurons are recorded as they are (mean = false)");
  std::vector<std::int64_t> sorted = rv.neurons;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t k = 0; k < sorted.size(); ++k) {
    if (sorted[k] < 0 || sorted[k] >= size) {
      throw InvalidArgument(what + "neuron " + std::to_string(sorted[k]) + " is not one of the node's " +
                            std::to_string(size) + " (0 to " + std::to_string(size - 1) + ")");
    }
    if (k > 0 && sorted[k] == sorted[k - 1]) throw InvalidArgument(what + "neuron " + std::to_string(sorted[k]) + " is listed twice");
  }
}

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

void Network::check_sweep(const Sweep& sweep) const {
  const Call call(*this, "Network::check_sweep");
  require_compiled("check_sweep");
  if (sweep.empty()) return;
  if (backend_ == Backend::Cuda) {
    throw InvalidArgument("sweep: ensembles run on the CPU backend in this version; compile with backend cpu");
  }
  (void)detail::sweep_members(*graph_, sweep, false);
}

void Network::check_record_var(const RecordVar& rv) const {
  const Call call(*this, "Network::check_record_var");
  require_compiled("check_record_var");
  const int node = graph_->require(rv.node, "record_vars");
  if (!detail::is_recordable(detail::parse_var(graph_->nodes[static_cast<std::size_t>(node)], rv.var))) {
    throw InvalidArgument(not_recordable(rv));
  }
  check_neurons(rv, graph_->nodes[static_cast<std::size_t>(node)].size, "check_record_var");
  if (!rv.neurons.empty() && backend_ == Backend::Cuda) {
    throw InvalidArgument("record_vars: '" + rv.node + "." + rv.var +
                          "': chosen neurons are recorded by the CPU backend only in this version");
  }
}

int Network::spiking_node(const std::string& pop, const std::string& where) const {
  const int node = graph_->require(pop, where);
  const Node& n = graph_->nodes[static_cast<std::size_t>(node)];
  if (n.kind != NodeKind::Population || detail::is_rate_population(n)) {
    throw InvalidArgument(where + ": '" + pop + "' is " +
                          (n.kind != NodeKind::Population ? "a function node" : "a population of a rate model") +
                          ", which does not spike; name spiking populations");
  }
  if (backend_ == Backend::Cuda) {
    throw InvalidArgument(where + ": spike events are recorded by the CPU backend only in this version; use "
                          "backend cpu, or record the 'spike' variable with sampling_steps = 1");
  }
  return node;
}

void Network::check_record_spikes(const std::string& population) const {
  const Call call(*this, "Network::check_record_spikes");
  require_compiled("check_record_spikes");
  (void)spiking_node(population, "record_spikes");
}

void Network::run_impl(detail::RowSource& inputs, detail::RowSource* targets, const std::string& loss,
                       const RunOptions& options, Observer& into, double* mean_loss) {
  require_compiled("run");
  const std::string where = targets ? "Network::test" : "Network::run";
  // ---- Check every argument before anything is allocated or stepped. ----
  const std::int64_t steps = inputs.rows();
  if (steps <= 0) throw InvalidArgument(where + ": inputs have no rows (one row per step)");
  const bool sweeping = !options.sweep.empty();
  const std::int64_t members = options.sweep.members();
  if (sweeping && communicator_.distributed()) {
    throw InvalidArgument(where + ": sweep: an ensemble runs in one process in this version (this network is split over " +
                          std::to_string(communicator_.size()) + " ranks)");
  }
  if (sweeping) {
    if (backend_ == Backend::Cuda) {
      throw InvalidArgument(where + ": sweep: ensembles run on the CPU backend in this version; compile with backend cpu");
    }
    if (targets) throw InvalidArgument(where + ": sweep: test() of an ensemble is not available yet; use run()");
  }
  if (into.spec().members != members) {
    throw InvalidArgument(where + ": the observer records " + std::to_string(into.spec().members) +
                          " member(s); the sweep has " + std::to_string(members) +
                          " (RecordSpec::members = RunOptions::sweep.members())");
  }
  if (sweeping && members > 1 && inputs.cols() == members * input_width()) {
    // every member its own input row
  } else if (inputs.cols() != input_width()) {
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
    if (sweeping != (sweep_engine_ != nullptr)) {
      throw InvalidArgument(where + ": resume: the interrupted run " + (sweeping ? "was not a sweep" : "was a sweep") +
                            "; resume it with the options it ran with");
    }
    if (sweeping && detail::sweep_signature(options.sweep) != sweep_signature_) {
      throw InvalidArgument(where + ": resume: the sweep differs from the interrupted one (" + sweep_signature_ + ")");
    }
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
    const std::int64_t size = graph_->nodes[static_cast<std::size_t>(node)].size;
    check_neurons(rv, size, where);
    if (!rv.neurons.empty() && backend_ == Backend::Cuda) {
      throw InvalidArgument(where + ": record_vars: '" + rv.node + "." + rv.var +
                            "': chosen neurons are recorded by the CPU backend only in this version; record the "
                            "whole node on the GPU, or use backend cpu");
    }
    const std::int64_t width = rv.mean ? 1 : rv.neurons.empty() ? size : static_cast<std::int64_t>(rv.neurons.size());
    widths.push_back(width);
    plan.vars.push_back(detail::RecordItem{node, v, rv.mean, 0, width, rv.neurons});
  }
  for (const std::string& pop : spec.spikes) plan.spike_nodes.push_back(spiking_node(pop, where + ": record_spikes"));
  detail::ObserverEngineSide side(into);
  side.bind(output_width(), widths);
  plan.output_offset = side.output_offset();
  plan.output_width = output_width();
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
  if (sweeping) {
    run_sweep(plan, options, coupling, resync, into, side);
    return;
  }
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
  plan.clock0 = step_ - first;
  const std::int64_t remaining_samples = samples - plan.schedule.count(first);
  side.prepare(remaining_samples, engine_->staging_bytes(plan));
  side.start_sinks();  // file sinks create their files now, not at the first batch
  // ---- Run. ----
  forget_interrupted();  // whatever happens now, the old interrupted run (or sweep) is gone
  show_step_start_ = false;
  // Over ranks, rank 0 shows the progress (every rank takes the same steps).
  detail::ProgressReporter progress(communicator_.rank() == 0 ? options.progress : Progress::Off, steps, first);
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

void Network::run_sweep(detail::RunPlan& plan, const RunOptions& options, CouplingMode coupling, std::int64_t resync,
                        Observer& into, detail::ObserverEngineSide& side) {
  const std::int64_t members = options.sweep.members();
  if (!options.resume) (void)detail::sweep_members(*graph_, options.sweep, false);  // keys, values, count
  // Every member's state: the network's own engine's arrays again, per member (a bound, not
  // a count of every byte: its nodes' values in a few arrays each).
  std::int64_t values = 0;
  for (const Node& n : graph_->nodes) values += n.size;
  detail::require_host_bytes(static_cast<double>(members) * static_cast<double>(values) * 16.0 *
                                 (precision_ == Precision::Float32 ? 4.0 : 8.0),
                             "sweep: the state of " + std::to_string(members) + " members");
  std::unique_ptr<detail::Engine> ensemble;
  if (!options.resume) {
    detail::SweepMembers sm = detail::sweep_members(*graph_, options.sweep);
    ensemble = detail::make_cpu_ensemble(sm.graphs, precision_, dt_, sm.input_scale);
    const std::string line = ensemble->set_coupling(coupling, resync);
    if (!line.empty()) log_notice("coupling (" + std::to_string(members) + " members): " + line);
  }
  if (options.resume && sweep_from_checkpoint_) {  // loaded: its members' operators are chosen now
    const std::string line = sweep_engine_->set_coupling(coupling, resync);
    if (!line.empty()) log_notice("coupling (" + std::to_string(members) + " members): " + line);
    sweep_from_checkpoint_ = false;
  }
  plan.clock0 = 0;  // every member from its initial state at step 0
  const std::int64_t first = options.resume ? carry_->next_step : 0;
  const std::int64_t samples = plan.schedule.count(plan.steps) - plan.schedule.count(first);
  side.prepare(samples, (options.resume ? sweep_engine_ : ensemble)->staging_bytes(plan));
  side.start_sinks();
  // Resumed: the interrupted ensemble and its position; else a new one.
  detail::RunCarry carry = options.resume ? *carry_ : detail::RunCarry{};
  if (options.resume) ensemble = std::move(sweep_engine_);
  forget_interrupted();
  detail::ProgressReporter progress(options.progress, plan.steps, carry.next_step);
  plan.progress = &progress;
  ensemble->run(plan, into, carry);
  if (carry.next_step >= plan.steps) {
    progress.finish(carry.next_step);
    return;
  }
  // Stopped early: the ensemble waits for RunOptions::resume (or a checkpoint holds it). The
  // window's length follows from the position (the members keep their own sums).
  carry.window = plan.schedule.window_at(carry.next_step);
  carry_steps_ = plan.steps;
  carry_sampling_ = options.sampling_steps;
  carry_cutoff_ = options.cutoff;
  carry_ = std::make_unique<detail::RunCarry>(std::move(carry));
  sweep_engine_ = std::move(ensemble);
  sweep_signature_ = detail::sweep_signature(options.sweep);
}

}  // namespace qifsim
