// host/cpu/cpu_ensemble.cpp - an ensemble on the CPU: B members, each a CpuEngine built from the
// graph with that member's parameters and initial values, stepped in lockstep. Member 0 holds
// the coupling operators and every other member uses them (J is held once); each step applies
// every operator to all members at once (Coupling::apply_batch), so a dense J is read once per
// step for the whole ensemble, not once per member. A sample row holds each series for member
// 0, 1, ... in turn (the Observer's member axis).
#include <exception>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <omp.h>

#include "core/engine.hpp"
#include "cpu/cpu_engine.hpp"
#include "cpu/host_ring.hpp"
#include "cpu/spike_events.hpp"
#include "core/observer_engine_side.hpp"
#include "qifsim/error.hpp"
#include "qifsim/log.hpp"

namespace qifsim::detail {
namespace {

/// Members step on the OpenMP threads from this many neurons in all (members x population).
constexpr std::int64_t kParallelMembersNeurons = std::int64_t{1} << 15;

template <class T>
class CpuEnsemble final : public Engine {
 public:
  CpuEnsemble(const std::vector<Graph>& graphs, double dt, std::vector<double> input_scale)
      : scale_(std::move(input_scale)) {
    if (graphs.empty()) throw InvalidArgument("an ensemble needs at least one member");
    members_.push_back(std::make_unique<CpuEngine<T>>(graphs[0], dt));
    for (std::size_t b = 1; b < graphs.size(); ++b) {
      members_.push_back(std::make_unique<CpuEngine<T>>(graphs[b], dt, members_[0].get()));
    }
    // Events need one tau_s per population in every member (a sweep may give one member one
    // per neuron): member 0 chose the operators for all before it knew (its own constructor),
    // so it chooses again where one does (set_coupling tells it).
    bool any_varies = false;
    for (std::size_t k = 0; k < members_[0]->population_count(); ++k) {
      for (const auto& m : members_) any_varies = any_varies || m->tau_s_per_neuron(k);
    }
    if (any_varies) set_coupling(CouplingMode::Auto, kDefaultResync);
    scale_.resize(graphs.size(), 1.0);
    scaled_.resize(graphs.size());
    in_width_ = graphs[0].nodes[static_cast<std::size_t>(graphs[0].input)].size;
  }

  void forward(const double*, double*) override { refuse("forward()"); }
  std::vector<double> get_var(int, Var, bool) const override { refuse("get_var()"); }
  void set_var(int, Var, const std::vector<double>&) override { refuse("set_var()"); }
  std::vector<double> edge_state(int) const override { refuse("edge_state()"); }
  void set_edge_state(int, const std::vector<double>&) override { refuse("set_edge_state()"); }

  void reset() override {
    for (auto& m : members_) m->reset();
    stopped_.assign(members_.size(), 0);
    stops_.assign(members_.size(), MemberCarry{});
    carries_.clear();
  }

  std::int64_t member_count() const override { return static_cast<std::int64_t>(members_.size()); }
  Engine& member(std::int64_t b) override { return *members_.at(static_cast<std::size_t>(b)); }
  const Engine& member(std::int64_t b) const override { return *members_.at(static_cast<std::size_t>(b)); }

  std::vector<MemberCarry> member_carries() const override {
    std::vector<MemberCarry> out(members_.size());
    for (std::size_t b = 0; b < members_.size(); ++b) {
      if (b < carries_.size()) out[b].y_sum = carries_[b].y_sum;
      if (b < stopped_.size() && stopped_[b]) {
        out[b].stopped_at = stops_[b].stopped_at;
        out[b].reason = stops_[b].reason;
      }
    }
    return out;
  }

  // From a checkpoint, before a resumed run (whose carry gives the window's length).
  void set_member_carries(std::vector<MemberCarry> carries) override {
    if (carries.size() != members_.size()) throw InvalidArgument("set_member_carries: one carry per member");
    carries_.assign(members_.size(), RunCarry{});
    stopped_.assign(members_.size(), 0);
    stops_.assign(members_.size(), MemberCarry{});
    for (std::size_t b = 0; b < members_.size(); ++b) {
      carries_[b].y_sum = std::move(carries[b].y_sum);
      if (carries[b].stopped_at >= 0) {
        stopped_[b] = 1;
        stops_[b].stopped_at = carries[b].stopped_at;
        stops_[b].reason = std::move(carries[b].reason);
      }
    }
    restored_ = true;
  }

  std::string set_coupling(CouplingMode requested, std::int64_t resync) override {
    // Whether a running member holds one tau_s per neuron (its parameters may have been set
    // since the ensemble was built: a checkpoint's).
    for (std::size_t k = 0; k < members_[0]->population_count(); ++k) {
      bool varies = false;
      for (std::size_t b = 0; b < members_.size(); ++b) {
        if (b >= stopped_.size() || !stopped_[b]) varies = varies || members_[b]->tau_s_per_neuron(k);
      }
      members_[0]->set_tau_s_varies(k, varies);
    }
    std::string line = members_[0]->set_coupling(requested, resync);
    for (std::size_t b = 1; b < members_.size(); ++b) members_[b]->share_coupling(*members_[0]);
    return line;
  }
  void check_coupling(CouplingMode requested) const override { members_[0]->check_coupling(requested); }

  std::size_t staging_bytes(const RunPlan& plan) const override {
    return static_cast<std::size_t>(plan.batch_samples * plan.row_width) * sizeof(T) +
           static_cast<std::size_t>(plan.batch_samples) * sizeof(std::int64_t);
  }

  // `plan` describes member 0's place in a sample row (offsets) and the whole row (row_width);
  // member b's series sit b widths further on. Inputs: one row for every member
  // (input width), or each member's own (members x input width, member-major).
  void run(const RunPlan& plan, Observer& obs, RunCarry& carry) override {
    const auto count = static_cast<std::int64_t>(members_.size());
    const std::int64_t k = plan.output_width;
    std::vector<RunPlan> plans(members_.size(), plan);
    for (std::int64_t b = 0; b < count; ++b) {
      RunPlan& p = plans[static_cast<std::size_t>(b)];
      if (p.output_offset >= 0) p.output_offset += b * k;
      for (RecordItem& item : p.vars) item.offset += b * item.width;
    }
    const bool own_inputs = plan.inputs->cols() == count * in_width_;
    fast_ = !plan.reproducible;
    const bool fast = fast_;
    inputs_.assign(members_.size(), nullptr);
    // Members in parallel where their own loops run on one thread (below kParallelNeurons
    // neurons); each writes only its own state and its own part of a sample row.
    // Not beside OpenBLAS's GEMM (fast mode, dense J): OpenMP's threads, waiting between
    // regions, would take the cores from OpenBLAS's (measured: 29k -> 10k member-steps/s at
    // N = 1000, B = 64; bench/RESULTS.md section 19).
    // Nor for little work: below kParallelMembersNeurons neurons in all, a parallel region's
    // start and barrier (microseconds, far more where another process holds a core) cost more
    // than the step.
    const std::int64_t largest = members_[0]->largest_population();
    parallel_ = count > 1 && largest < kParallelNeurons && count * largest >= kParallelMembersNeurons &&
                omp_get_max_threads() > 1 && !(fast_ && members_[0]->dense_product());
    // Each member's sums of the output window (y_sum); the run's position is carry's.
    if (restored_) {  // from a checkpoint: the window is the run's
      for (RunCarry& c : carries_) c.window = carry.window;
      restored_ = false;
    } else if (carries_.size() != members_.size() || carry.next_step == 0) {
      carries_.assign(members_.size(), RunCarry{});
    }
    for (RunCarry& c : carries_) c.y_sum.resize(static_cast<std::size_t>(k), 0.0);
    HostRing<T> ring(obs, plan.batch_samples, plan.row_width, plan.flush_seconds);
    // Spike events: each step's spikes of the recorded populations, member after member, held
    // until the next batch of samples (or until many are held; see flush_events_if_due).
    struct RecordSpikes {
      std::vector<std::unique_ptr<CpuEngine<T>>>& members;
      const std::vector<int>& nodes;
      RecordSpikes(std::vector<std::unique_ptr<CpuEngine<T>>>& m, const std::vector<int>& n) : members(m), nodes(n) {
        for (auto& e : members) {
          for (int node : nodes) e->set_record_spikes(node, true);
        }
      }
      ~RecordSpikes() {
        for (auto& e : members) {
          for (int node : nodes) e->set_record_spikes(node, false);
        }
      }
      RecordSpikes(const RecordSpikes&) = delete;
      RecordSpikes& operator=(const RecordSpikes&) = delete;
    } record_spikes(members_, plan.spike_nodes);
    HeldSpikes events(plan.spike_nodes.size(), true);
    ring.set_before_flush([&events, &obs]() { events.flush(obs); });
    const typename CpuEngine<T>::FixedOrderScope fixed_order(*members_[0], plan.reproducible);  // member 0's operators
    for (auto& m : members_) m->begin_run(plan);
    // begin_run may have chosen again (a per-neuron tau_s after set_var): share that choice.
    for (std::size_t b = 1; b < members_.size(); ++b) members_[b]->share_coupling(*members_[0]);
    const std::int64_t resync = members_[0]->resync();
    std::vector<const T*> xs(members_.size());
    std::vector<T*> ys(members_.size());
    stopped_.resize(members_.size(), 0);
    stops_.resize(members_.size());
    faults_.assign(members_.size(), std::string());
    ObserverEngineSide side(obs);
    // Members stopped before this run (resumed): the observer hears of them again.
    for (std::size_t b = 0; b < members_.size(); ++b) {
      if (stopped_[b] && b < obs.member_stops().size() && obs.member_stops()[b].step < 0) {
        side.stop_member(static_cast<std::int64_t>(b), stops_[b].stopped_at, stops_[b].reason);
      }
    }
    std::int64_t t = carry.next_step;
    run_then_flush(ring, t, carry.next_step, [&] {
      for (; t < plan.steps; ++t) {
        if (stop_requested(plan, t)) break;
        ring.flush_if_due(t);
        if (plan.divergence_every > 0 && t % plan.divergence_every == 0 && t > carry.next_step) {
          check_finite(t, plan.divergence_every, side);
        }
        const double* row = plan.inputs->row(t);
        for (std::int64_t b = 0; b < count; ++b) inputs_[static_cast<std::size_t>(b)] = input_of(b, row, own_inputs);
        for_members([&](std::size_t b) { members_[b]->prepare_inputs(inputs_[b]); });
        const bool from_spikes = events_valid() && t % resync != 0;
        couple_all(from_spikes, fast, xs, ys);
        const bool sample = plan.schedule.is_sample(t);
        T* sample_row = sample ? ring.next_row() : nullptr;
        for_members([&](std::size_t b) {
          CpuEngine<T>& m = *members_[b];
          if (t >= plan.schedule.cutoff) m.accumulate(plans[b], carries_[b], t);
          if (sample) m.take_sample(plans[b], carries_[b], sample_row);
          m.request_loop_means(sample);
          m.advance_state(plans[b], t);
          if (sample) {
            m.gather_after_step(plans[b], sample_row);
            faults_[b] = fault_in(b, plans[b], sample_row, t);  // a value the state check has not seen yet
          }
        }, sample_row, &plans);
        if (!plan.spike_nodes.empty() && t >= plan.schedule.cutoff) {
          // The spikes of step t, population by population, member after member (a stopped
          // member has none).
          for (std::size_t pop = 0; pop < plan.spike_nodes.size(); ++pop) {
            for (std::size_t b = 0; b < members_.size(); ++b) {
              if (!stopped_[b]) events.add(pop, t, members_[b]->spiked(plan.spike_nodes[pop]), static_cast<std::int64_t>(b));
            }
          }
          events.flush_if_due(obs, t, plan.flush_seconds);
        }
        if (sample) {
          for (std::size_t b = 0; b < members_.size(); ++b) {
            if (faults_[b].empty()) continue;
            stop(b, t, "the state diverged: " + faults_[b] + " in the sample of step " + std::to_string(t), side);
            fill_nan(plans[b], sample_row);
            faults_[b].clear();
          }
          ring.commit(t);
        }
        if (plan.progress) plan.progress->tick(t + 1);
      }
      if (plan.divergence_every > 0) {
        const std::int64_t since = t % plan.divergence_every;
        check_finite(t, since == 0 ? plan.divergence_every : since, side);
      }
    });
  }

 private:
  [[noreturn]] static void refuse(const char* call) {
    throw InvalidArgument(std::string("an ensemble run has no ") + call +
                          "; its members exist only during the run (members.csv and the recordings hold them)");
  }

  // f(b) for every member: on the OpenMP threads (parallel_), or in order. An exception leaves
  // the loop; the lowest member's is the one thrown, as the sequential loop would throw it.
  // A stopped member is skipped; with a sample row, its parts of it are filled with NaN.
  template <class F>
  void for_members(F&& f, T* sample_row = nullptr, const std::vector<RunPlan>* plans = nullptr) {
    const auto count = static_cast<std::int64_t>(members_.size());
    auto one = [&](std::size_t b) {
      if (!stopped_.empty() && stopped_[b]) {
        if (sample_row != nullptr) fill_nan((*plans)[b], sample_row);
        return;
      }
      f(b);
    };
    if (!parallel_) {
      for (std::int64_t b = 0; b < count; ++b) one(static_cast<std::size_t>(b));
      return;
    }
    errors_.assign(members_.size(), nullptr);
#pragma omp parallel for schedule(static)
    for (std::int64_t b = 0; b < count; ++b) {
      try {
        one(static_cast<std::size_t>(b));
      } catch (...) {
        errors_[static_cast<std::size_t>(b)] = std::current_exception();
      }
    }
    for (const std::exception_ptr& e : errors_) {
      if (e) std::rethrow_exception(e);
    }
  }

  // Every running member's event state describes the last step (they step in lockstep; a
  // stopped member, also one restored from a checkpoint without its state, does not count).
  bool events_valid() const {
    bool valid = true;
    for (std::size_t b = 0; b < members_.size(); ++b) {
      if (b >= stopped_.size() || !stopped_[b]) valid = valid && members_[b]->events_valid();
    }
    return valid;
  }

  // Member b's input row, scaled by its factor where that is not 1.
  const double* input_of(std::int64_t b, const double* row, bool own_inputs) {
    const double* x = own_inputs ? row + b * in_width_ : row;
    const double f = scale_[static_cast<std::size_t>(b)];
    if (f == 1.0) return x;
    std::vector<double>& s = scaled_[static_cast<std::size_t>(b)];
    s.resize(static_cast<std::size_t>(in_width_));
    for (std::int64_t j = 0; j < in_width_; ++j) s[static_cast<std::size_t>(j)] = x[j] * f;
    return s.data();
  }

  // Every population's J s for every member: the members that need the product take it in one
  // apply_batch of the shared operator.
  void couple_all(bool from_spikes, bool fast, std::vector<const T*>& xs, std::vector<T*>& ys) {
    for (std::size_t k = 0; k < members_[0]->population_count(); ++k) {
      const Coupling<T>* J = members_[0]->coupling(k);
      if (J == nullptr) continue;
      std::int64_t n = 0;
      for (std::size_t b = 0; b < members_.size(); ++b) {
        CpuEngine<T>* m = members_[b].get();
        if (stopped_[b] == 0 && m->coupling_needs_product(k, from_spikes)) {
          xs[static_cast<std::size_t>(n)] = m->coupling_source(k);
          ys[static_cast<std::size_t>(n)] = m->coupling_target(k);
          ++n;
        }
      }
      if (n == 1) {
        J->apply(xs[0], false, ys[0]);
      } else if (n > 1) {
        J->apply_batch(xs.data(), n, ys.data(), fast);
      }
    }
  }

  // The state check of every running member: a member whose state is no longer finite stops.
  void check_finite(std::int64_t step, std::int64_t since, ObserverEngineSide& side) {
    for (std::size_t b = 0; b < members_.size(); ++b) {
      if (stopped_[b]) continue;
      try {
        members_[b]->check_finite(step, since);
      } catch (const DivergenceError& e) {
        stop(b, step, e.what(), side);
      }
    }
  }

  // Member b stops at `step`: said at once, kept in the Observer (members.csv, member_stops);
  // the others run on. When none is left the run ends with DivergenceError.
  void stop(std::size_t b, std::int64_t step, const std::string& reason, ObserverEngineSide& side) {
    stopped_[b] = 1;
    stops_[b].stopped_at = step;
    stops_[b].reason = reason;
    side.stop_member(static_cast<std::int64_t>(b), step, reason);
    std::size_t running = 0;
    for (char s : stopped_) running += s ? 0 : 1;
    log_notice("sweep: member " + std::to_string(b) + " stopped at step " + std::to_string(step) + ": " + reason +
               " (" + std::to_string(running) + " of " + std::to_string(members_.size()) + " members run on)");
    if (running == 0) {
      throw DivergenceError("every member of the sweep diverged; the last, member " + std::to_string(b) + ": " + reason);
    }
  }

  // Member b's parts of a sample row (the plan's offsets): NaN.
  void fill_nan(const RunPlan& p, T* row) const {
    const T nan = std::numeric_limits<T>::quiet_NaN();
    if (p.output_offset >= 0) std::fill(row + p.output_offset, row + p.output_offset + p.output_width, nan);
    for (const RecordItem& item : p.vars) std::fill(row + item.offset, row + item.offset + item.width, nan);
  }

  // The first value of member b's parts of a sample row that is not finite, described; "" if none.
  std::string fault_in(std::size_t b, const RunPlan& p, const T* row, std::int64_t) const {
    if (p.output_offset >= 0) {
      for (std::int64_t j = 0; j < p.output_width; ++j) {
        if (!std::isfinite(row[p.output_offset + j])) return "the network output[" + std::to_string(j) + "] is not finite";
      }
    }
    for (const RecordItem& item : p.vars) {
      for (std::int64_t j = 0; j < item.width; ++j) {
        if (std::isfinite(row[item.offset + j])) continue;
        const std::string unit = item.mean ? std::string("mean")
                                           : "neuron " + std::to_string(item.neurons.empty() ? j : item.neurons[static_cast<std::size_t>(j)]);
        return "node '" + members_[b]->node_name(item.node) + "' variable '" + var_name(item.var) + "' " + unit +
               " is " + std::to_string(static_cast<double>(row[item.offset + j]));
      }
    }
    return {};
  }

  std::vector<std::unique_ptr<CpuEngine<T>>> members_;
  std::vector<double> scale_;                 // each member's input factor
  std::vector<std::vector<double>> scaled_;   // a scaled input row per member
  std::vector<RunCarry> carries_;             // each member's output window
  std::vector<const double*> inputs_;         // each member's input row this step
  std::vector<std::exception_ptr> errors_;    // for_members: each member's exception
  bool parallel_ = false;                     // members stepped on the OpenMP threads
  std::vector<char> stopped_;                 // members stopped (diverged); kept for a resume
  std::vector<MemberCarry> stops_;            // where and why each stopped member stopped
  bool restored_ = false;                     // carries set from a checkpoint, not yet run
  std::vector<std::string> faults_;           // this step's sample: a member's first non-finite value
  bool fast_ = false;                         // dense products of all members as one GEMM
  std::int64_t in_width_ = 0;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_ensemble(const std::vector<Graph>& members, Precision precision, double dt,
                                          std::vector<double> input_scale) {
  if (precision == Precision::Float32) return std::make_unique<CpuEnsemble<float>>(members, dt, std::move(input_scale));
  return std::make_unique<CpuEnsemble<double>>(members, dt, std::move(input_scale));
}

}  // namespace qifsim::detail
