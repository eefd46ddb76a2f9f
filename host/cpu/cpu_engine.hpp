// host/cpu/cpu_engine.hpp - the CPU backend: BLAS coupling, OpenMP neuron update, host ring
// buffer for recordings. It is the reference backend and a real one. Its step is also offered
// in parts (prepare_inputs, coupling_needs_product, take_sample, advance_state, ...), so that
// an ensemble (cpu/cpu_ensemble.cpp) steps many members in lockstep and applies each shared
// coupling operator to all of them at once.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <string>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "model/qif_population.hpp"
#include "model/activation.hpp"
#include "model/reduction.hpp"
#include "cpu/cpu_gather.hpp"
#include "cpu/cpu_population.hpp"
#include "cpu/population_step.hpp"
#include "cpu/spike_events.hpp"
#include "cpu/edge_memory.hpp"
#include "cpu/make_coupling.hpp"
#include "cpu/ordered_sum.hpp"
#include "cpu/host_ring.hpp"
#include "core/engine.hpp"
#include "core/engine_layout.hpp"
#include "core/exchange_ops.hpp"
#include "core/partition.hpp"
#include "core/row_slice.hpp"
#include "core/memory_check.hpp"
#include "core/node_slots.hpp"
#include "cpu/neuron_update.hpp"
#include "cpu/model_update.hpp"
#include "core/progress.hpp"
#include "qifsim/error.hpp"
#include "model/sample_schedule.hpp"

namespace qifsim::detail {

template <class T>
class CpuEngine final : public Engine {
 public:
  /// `share`: a member of the same ensemble built from a graph of the same structure and
  /// weights; this engine then holds no operators of its own but uses the other's (J is held
  /// once for every member), and takes its coupling choice.
  /// `exchange` of more than one rank: this engine is one rank's part of the network (SplitRanks
  /// below): each population's neurons of partition_range, its rows of J and of the edges into
  /// it; function nodes whole on every rank.
  explicit CpuEngine(const Graph& graph, double dt, const CpuEngine* share = nullptr, Exchange* exchange = nullptr)
      : dt_(static_cast<T>(dt)), layout_(graph) {
    if (exchange != nullptr && exchange->size() > 1) {
      if (share != nullptr) throw BackendError("an ensemble runs in one process: its members are not split over ranks");
      x_ = exchange;
      for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const Node& node = graph.nodes[i];
        if (node.kind != NodeKind::Population) continue;
        const NeuronRange r = partition_range(node.size, x_->size(), x_->rank());
        layout_.shapes[i] = StateShape{1, node.size, r.lo, r.hi};
      }
    }
    layout_.build(
        graph, pops_, funcs_, edges_,
        [dt, share, this](const Node& node, const StateShape& shape) {
          // A member sharing another's operators takes its weights' facts too (not a scan of J).
          const WeightsFacts* facts = share != nullptr ? &share->pops_[pops_.size()].facts : nullptr;
          return make_cpu_population<T>(node, shape, dt, facts);
        },
        [](const Node& node, const StateShape& shape) {
          if (!shape.is_whole()) throw BackendError("node '" + node.name + "': the CPU engine holds whole nodes only");
          Func f;
          f.n = shape.size();
          f.act = node.activation;
          f.in.assign(static_cast<std::size_t>(f.n), T(0));
          f.out.assign(static_cast<std::size_t>(f.n), T(0));
          return f;
        },
        [share, this](const Edge& e) {
          EdgeW w;
          w.source = e.source;
          const StateShape& target = layout_.shapes[static_cast<std::size_t>(e.target)];
          // Into a split population: its rows only (the facts, and so the storage chosen, global).
          w.weights = target.is_whole() ? e.weights : row_slice(e.weights, target.lo, target.hi);
          if (share != nullptr) {  // the other member's operator, facts and storage: nothing made
            const EdgeW& o = share->edges_[edges_.size()];
            w.facts = o.facts;
            w.storage = o.storage;
            w.w = o.w;
          } else {
            w.facts = weights_facts(e.weights);
            w.storage = choose_edge_storage(w.facts, CouplingMode::Auto);
            w.w = make_coupling<T>(w.weights, w.facts, w.storage);
          }
          w.memory = EdgeMemory<T>(e.memory, e.weights.cols());
          return w;
        });
    for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
      if (layout_.slots[node].pop) pops_[static_cast<std::size_t>(layout_.slots[node].index)].name = layout_.starts[node].name;
    }
    if (x_ != nullptr) split_.build(graph, layout_, pops_, x_->size());
    reset();  // every population's initial state
    if (share != nullptr) {
      share_coupling(*share);
    } else {
      set_coupling(CouplingMode::Auto, kDefaultResync);
    }
  }

  /// Use `o`'s operators and coupling choice (o: an engine of the same structure, whose
  /// set_coupling has run). Called again after each set_coupling of `o`.
  void share_coupling(const CpuEngine& o) {
    bool keep_events = events_valid_;
    const bool restoring = restoring_events();
    for (std::size_t i = 0; i < pops_.size(); ++i) {
      Pop& p = pops_[i];
      const Pop& q = o.pops_[i];
      // The event state stays valid where the population stays event-coupled through the same
      // operator, or holds a checkpoint's event state.
      keep_events = keep_events && (!q.events || (p.events && p.J == q.J) || restoring);
      p.J = q.J;
      p.storage = q.storage;
      p.events = q.events;
      if (p.events && p.model != model::ModelId::Qif) p.fired.resize(static_cast<std::size_t>(p.n), T(0));
    }
    for (std::size_t i = 0; i < edges_.size(); ++i) {
      edges_[i].w = o.edges_[i].w;
      edges_[i].storage = o.edges_[i].storage;
    }
    requested_ = o.requested_;
    resync_ = o.resync_;
    events_valid_ = keep_events;
  }

  void check_coupling(CouplingMode requested) const override { (void)coupling_choices(requested); }

  // Every population's operator for `requested`, throwing where it cannot apply (nothing is
  // changed or allocated here). Over ranks every rank decides alike (global facts, tau_s as
  // any rank sees it), and a rank whose memory cannot hold its part stops every rank.
  std::vector<CouplingChoice> coupling_choices(CouplingMode requested) const {
    std::vector<CouplingChoice> choices;
    std::string memory_error;  // over ranks: this rank's refusal, told to all at the end
    for (std::size_t k = 0; k < pops_.size(); ++k) {
      const Pop& p = pops_[k];
      if (p.weights.empty()) {
        choices.push_back({});
        continue;
      }
      if (requested == CouplingMode::Events && p.tau_s_slot < 0) {
        throw InvalidArgument("coupling = events: population '" + p.name + "' (model '" + model_name_of(p) +
                              "') has no synapse s' = -s/tau_s + spike, which events need (use auto, dense, sparse "
                              "or procedural)");
      }
      const bool one_tau_s = p.tau_s_slot >= 0 && !tau_s_varies(p) && !(k < tau_s_varies_.size() && tau_s_varies_[k]);
      choices.push_back(choose_coupling(p.name, p.facts, one_tau_s, requested));
      const CouplingChoice& c = choices.back();
      if (!p.J || c.storage != p.storage || (c.events && !p.events) ||
          (p.events && !c.events && p.storage == CouplingMode::Dense)) {  // refused before anything is freed
        try {
          require_host_bytes(coupling_bytes(local_facts(p), c, sizeof(T)), "coupling = " + to_string(requested) +
                                                                               ": the weights of population '" + p.name +
                                                                               "' as " + describe(c));
        } catch (const MemoryBudgetError& e) {
          if (x_ == nullptr) throw;
          if (memory_error.empty()) memory_error = e.what();
        }
      }
    }
    if (x_ != nullptr) {
      const RankFailure failure = exchange_status(*x_, memory_error);
      if (failure.failed()) {
        throw MemoryBudgetError("rank " + std::to_string(failure.rank) + " of " + std::to_string(x_->size()) + ": " +
                                failure.message);
      }
    }
    return choices;
  }

  // True where population p holds one tau_s per neuron. Over ranks, as any rank sees it (a
  // rank holding one neuron cannot tell one value per neuron from one for all; collective).
  bool tau_s_varies(const CpuPopulation<T>& p) const {
    const bool here = p.tau_s_slot >= 0 && p.params[static_cast<std::size_t>(p.tau_s_slot)].size() != 1;
    if (x_ == nullptr) return here;
    const std::vector<std::int64_t> all = x_->allgather_one(here ? 1 : 0);
    return std::any_of(all.begin(), all.end(), [](std::int64_t v) { return v != 0; });
  }

  // The facts of this engine's rows of p's J (a rank's share), for what its operator takes.
  WeightsFacts local_facts(const CpuPopulation<T>& p) const {
    if (x_ == nullptr || p.shape.global_n == 0) return p.facts;
    return rows_share(p.facts, static_cast<double>(p.shape.local_n()) / static_cast<double>(p.shape.global_n));
  }

  std::string set_coupling(CouplingMode requested, std::int64_t resync) override {
    // Every choice first (they may throw), then the conversions.
    const std::vector<CouplingChoice> choices = coupling_choices(requested);
    std::string line;
    bool keep_events = events_valid_;  // J s and the spikes still describe the last step
    const bool restoring = restoring_events();
    for (std::size_t i = 0; i < pops_.size(); ++i) {
      Pop& p = pops_[i];
      if (p.weights.empty()) continue;
      const CouplingChoice c = choices[i];
      // A dense J prepared for events is held transposed: the plain product takes it as given.
      const bool transposed = p.events && !c.events && p.storage == CouplingMode::Dense;
      const bool same = p.J && c.storage == p.storage && !transposed && p.events == c.events;
      keep_events = keep_events && (!c.events || same || restoring);
      if (!p.J || c.storage != p.storage || transposed) {
        p.J.reset();  // the old operator's memory first
        p.J = make_coupling<T>(p.weights, p.facts, c.storage);
        p.storage = c.storage;
      }
      p.events = c.events;
      if (p.events) {
        p.J->prepare_events();
        if (p.model != model::ModelId::Qif) p.fired.resize(static_cast<std::size_t>(p.n), T(0));
      }
      line += (line.empty() ? "" : "; ") + ("'" + p.name + "': " + describe(c)) +
              (c.events ? " (resync " + std::to_string(resync) + ")" : "");
    }
    for (EdgeW& e : edges_) {
      const CouplingMode storage = choose_edge_storage(e.facts, requested);
      if (storage != e.storage) {
        e.w.reset();
        e.w = make_coupling<T>(e.weights, e.facts, storage);
        e.storage = storage;
      }
    }
    requested_ = requested;
    resync_ = resync;
    events_valid_ = keep_events;
    if (x_ != nullptr) set_fixed_order(true);  // over ranks: always (set_fixed_order)
    return line;
  }

  void forward(const double* x, double* y) override {
    prepare(x, false);
    const T* out = output_values(layout_.output);
    for (std::int64_t j = 0; j < layout_.out_width; ++j) y[j] = static_cast<double>(out[j]);
    for (Pop& p : pops_) {  // the state at the step's start, for get_var after forward
      p.v_start = p.v;
      p.s_start = p.s;
      p.x_start = p.x;
      p.w_start = p.w;
    }
    advance<false>(false, clock);
    events_valid_ = false;
  }

  void run(const RunPlan& plan, Observer& obs, RunCarry& carry) override {
    HostRing<T> ring(obs, plan.batch_samples, plan.row_width, plan.flush_seconds);
    carry.y_sum.resize(static_cast<std::size_t>(layout_.out_width), 0.0);
    std::int64_t t = carry.next_step;
    begin_run(plan);
    const std::int64_t resync = resync_;
    // Spike events: every step's spikes of the recorded populations, collected here and handed
    // to the Observer before each batch of samples.
    SpikeEvents events(plan, pops_, layout_);
    ring.set_before_flush([&events, &obs]() { events.flush(obs); });
    const FixedOrderScope fixed_order(*this, plan.reproducible);
    run_then_flush(ring, t, carry.next_step, [&] {
      for (; t < plan.steps; ++t) {
        if (stop_now(plan, t)) break;
        ring.flush_if_due(t);
        if (plan.divergence_every > 0 && t % plan.divergence_every == 0 && t > carry.next_step) {
          check_finite(t, plan.divergence_every);
        }
        // Event-driven coupling: J s from the previous step's J s and spikes, except on
        // every resync-th step and where that state is not current (a new run, set_var()).
        prepare(plan.inputs->row(t), events_valid_ && t % resync != 0);
        if (t >= plan.schedule.cutoff) accumulate(plan, carry, t);
        const bool sample = plan.schedule.is_sample(t);
        if (sample) take_sample(plan, carry, ring.next_row());
        request_loop_means(sample);
        advance_state(plan, t);
        if (t >= plan.schedule.cutoff) {
          events.collect(t);
          events.flush_if_due(obs, t, plan.flush_seconds);  // never held for long, samples or not
        }
        if (sample) {
          gather_after_step(plan, ring.next_row());
          ring.commit(t);
        }
        if (plan.progress) plan.progress->tick(t + 1);
      }
      if (plan.divergence_every > 0) {
        const std::int64_t since = t % plan.divergence_every;
        check_finite(t, since == 0 ? plan.divergence_every : since);
      }
    });
  }

  std::vector<double> get_var(int node, Var var, bool at_last_step_start) const override {
    const Slot slot = layout_.slots[static_cast<std::size_t>(node)];
    std::vector<double> out;
    if (!slot.pop) {
      const Func& f = funcs_[static_cast<std::size_t>(slot.index)];
      const auto& src = var == Var::In ? f.in : f.out;
      return std::vector<double>(src.begin(), src.end());
    }
    const Pop& p = pops_[static_cast<std::size_t>(slot.index)];
    if (x_ != nullptr) return split_get_var(p, var, at_last_step_start);
    out.resize(static_cast<std::size_t>(p.n));
    if (is_parameter(var)) {
      const auto& values = *p.param(var);
      for (std::int64_t i = 0; i < p.n; ++i) out[static_cast<std::size_t>(i)] = values[values.size() == 1 ? 0 : static_cast<std::size_t>(i)];
      return out;
    }
    std::vector<T> values(static_cast<std::size_t>(p.n));
    gather_pop(p, var, Gathered<T>{values.data(), false}, at_last_step_start);
    std::copy(values.begin(), values.end(), out.begin());
    return out;
  }

  void set_var(int node, Var var, const std::vector<double>& values) override {
    events_valid_ = false;
    const Slot slot = layout_.slots[static_cast<std::size_t>(node)];
    Pop& p = pops_[static_cast<std::size_t>(slot.index)];
    if (is_parameter(var)) {
      *p.param(var) = local_param<T>(Param(values), p.shape);
      p.per_neuron_valid = false;
      return;
    }
    *p.state(var) = member_major<T>(Param(values), p.shape);
    if (p.rate) update_rates(p);
  }

  void reset() override {
    events_valid_ = false;
    for (EdgeW& e : edges_) e.memory.reset();
    for (std::size_t i = 0; i < layout_.slots.size(); ++i) {
      const Slot slot = layout_.slots[i];
      if (slot.pop) {
        Pop& p = pops_[static_cast<std::size_t>(slot.index)];
        const NodeStart& init = layout_.starts[i];
        for (int k = 0; k < model::kStateSlots; ++k) {
          *p.state(state_var(k)) = (p.held >> k & 1u) != 0
                                       ? member_major<T>(init.initial[static_cast<std::size_t>(k)], p.shape)
                                       : std::vector<T>{};
        }
        if (p.rate) update_rates(p);
        std::fill(p.in.begin(), p.in.end(), T(0));
        p.in_uniform = false;
        p.in_stale = false;
        std::fill(p.s_in.begin(), p.s_in.end(), T(0));
        p.s_in_uniform = false;
        p.s_in_stale = false;
      } else {
        Func& f = funcs_[static_cast<std::size_t>(slot.index)];
        std::fill(f.in.begin(), f.in.end(), T(0));
        std::fill(f.out.begin(), f.out.end(), T(0));
      }
    }
  }

  std::size_t staging_bytes(const RunPlan& plan) const override {
    return static_cast<std::size_t>(plan.batch_samples * plan.row_width) * sizeof(T) +
           static_cast<std::size_t>(plan.batch_samples) * sizeof(std::int64_t);
  }

  // ---- The step in parts: run() below, and an ensemble stepping its members in lockstep. ----

  /// RunOptions::reproducible for one run: every operator sums in the fixed order while it
  /// lives (forward() and later runs choose again).
  class FixedOrderScope {
   public:
    FixedOrderScope(CpuEngine& engine, bool fixed) : e_(engine) { e_.set_fixed_order(fixed); }
    ~FixedOrderScope() { e_.set_fixed_order(false); }
    FixedOrderScope(const FixedOrderScope&) = delete;
    FixedOrderScope& operator=(const FixedOrderScope&) = delete;

   private:
    CpuEngine& e_;
  };

  using Slot = NodeSlot;
  using Pop = CpuPopulation<T>;
  struct Func {
    std::int64_t n = 0;
    Activation act = Activation::Identity;
    std::vector<T> in, out;
  };
  struct EdgeW {
    int source = -1;
    Weights weights;  // as given (shared with the graph)
    WeightsFacts facts;
    CouplingMode storage = CouplingMode::Dense;
    std::shared_ptr<Coupling<T>> w;  // target size x source size (shared by an ensemble's members)
    EdgeMemory<T> memory;  // delays and a filter (cpu/edge_memory.hpp)
  };

  // A counted step (t >= cutoff): the output and the loss join the current window's sums.
  void accumulate(const RunPlan& plan, RunCarry& carry, std::int64_t t) const {
    const T* y = output_values(layout_.output);
    const std::int64_t k = layout_.out_width;
    if (plan.output_offset >= 0) {
      double* y_sum = carry.y_sum.data();
      for (std::int64_t j = 0; j < k; ++j) y_sum[j] += y[j];
    }
    if (plan.targets) {
      const double l = step_loss(plan.loss, y, plan.targets->row(t), k);
      carry.loss_window += l;
      carry.loss_total += l;
      ++carry.loss_steps;
    }
    ++carry.window;
  }

  // A sample step: the window means of the output and the loss, then the recorded variables,
  // into `row`; the window starts again.
  void take_sample(const RunPlan& plan, RunCarry& carry, T* row) const {
    const std::int64_t k = layout_.out_width;
    const double inv = 1.0 / static_cast<double>(carry.window);
    if (plan.output_offset >= 0) {
      double* y_sum = carry.y_sum.data();
      for (std::int64_t j = 0; j < k; ++j) {
        row[plan.output_offset + j] = static_cast<T>(y_sum[j] * inv);
        y_sum[j] = 0.0;
      }
    }
    if (plan.loss_offset >= 0) row[plan.loss_offset] = static_cast<T>(carry.loss_window * inv);
    carry.loss_window = 0.0;
    carry.window = 0;
    for (const auto& item : plan.vars) {
      if (!after_step(item) && !loop_mean(item)) gather(item, row + item.offset);
    }
  }

  bool loop_mean(const RecordItem& item) const {  // summed by the QIF loop this run (plan_loop_mean)
    const Slot slot = layout_.slots[static_cast<std::size_t>(item.node)];
    return item.mean && slot.pop && loop_mean_index(pops_[static_cast<std::size_t>(slot.index)], item.var) >= 0;
  }
  // Before a run: which recorded means each QIF population's loop sums (in plan order).
  void plan_loop_means(const RunPlan& plan) {
    for (Pop& p : pops_) p.loop_mean_vars.clear();
    for (const auto& item : plan.vars) {
      const Slot slot = layout_.slots[static_cast<std::size_t>(item.node)];
      if (item.mean && slot.pop) plan_loop_mean(pops_[static_cast<std::size_t>(slot.index)], item.var);
    }
  }

  // A rate population's state is recorded after its step (RectiPy's RateNet records y after
  // the update, as get_var shows it after forward()); everything else at the step's start.
  bool after_step(const RecordItem& item) const {
    const Slot slot = layout_.slots[static_cast<std::size_t>(item.node)];
    return slot.pop && pops_[static_cast<std::size_t>(slot.index)].rate;
  }
  void gather_after_step(const RunPlan& plan, T* row) const {
    for (const auto& item : plan.vars) {
      if (after_step(item)) {
        gather(item, row + item.offset);
      } else if (loop_mean(item)) {
        const Pop& p = pops_[static_cast<std::size_t>(layout_.slots[static_cast<std::size_t>(item.node)].index)];
        row[item.offset] = static_cast<T>(x_ != nullptr ? split_loop_mean(p, item.var) : loop_mean_value(p, item.var));
      }
    }
  }

  // Phase 2 of a step: every population's state advances (keeping what event-driven coupling
  // needs of this step when it is on).
  void advance_state(const RunPlan& plan, std::int64_t t) {
    advance<true>(plan.flush_subnormals, plan.clock0 + t);
    if (x_ != nullptr) gather_spike_lists();
    events_valid_ = true;
    for (Pop& p : pops_) p.events_restored = false;
    if (plan.flush_subnormals) flush_subnormals();  // other models (QIF flushes in its loop)
  }

  T* input_values(int node) { return node_input(layout_.slots, pops_, funcs_, node); }
  // A split population's output is its whole vector, gathered at the step's start (prepare).
  const T* output_values(int node) const {
    const Slot s = layout_.slots[static_cast<std::size_t>(node)];
    if (x_ != nullptr && s.pop) {
      const auto& whole = split_.pops[static_cast<std::size_t>(s.index)];
      return pops_[static_cast<std::size_t>(s.index)].out_is_v ? whole.v.data() : whole.s.data();
    }
    return node_output(layout_.slots, pops_, funcs_, node);
  }

  // The QIF population at `node` where every incoming edge's rows are one value (so its input
  // is one value per step), else null.
  Pop* uniform_input_pop(int node) {
    const Slot s = layout_.slots[static_cast<std::size_t>(node)];
    if (!s.pop) return nullptr;
    Pop& p = pops_[static_cast<std::size_t>(s.index)];
    const auto& incoming = layout_.incoming[static_cast<std::size_t>(node)];
    bool uniform = p.model == model::ModelId::Qif && !incoming.empty();
    for (int e : incoming) uniform = uniform && edges_[static_cast<std::size_t>(e)].w->uniform_rows();
    p.in_uniform = uniform;
    if (!uniform) {
      p.input();  // `in` whole again before the edges write it
      return nullptr;
    }
    const auto span = static_cast<std::size_t>(std::min<std::int64_t>(p.n, kNeuronSpan));
    if (p.in_span.size() != span) p.in_span.assign(span, T(0));
    return &p;
  }

  // Phase 1 of a step: every node's input and function outputs, then every population's
  // coupling J s. Nothing here changes the state.
  void prepare(const double* x, bool from_spikes) {
    if (x_ != nullptr) gather_sources(from_spikes);
    prepare_inputs(x);
    for (std::size_t k = 0; k < pops_.size(); ++k) {
      if (coupling_needs_product(k, from_spikes)) pops_[k].J->apply(coupling_source(k), false, pops_[k].s_in.data());
    }
  }

  std::vector<double> edge_state(int edge) const override {
    return edges_.at(static_cast<std::size_t>(edge)).memory.state();
  }

  void set_edge_state(int edge, const std::vector<double>& values) override {
    edges_.at(static_cast<std::size_t>(edge)).memory.set_state(values);
  }

  std::vector<EventState> event_state() const override {
    std::vector<EventState> out;
    if (!events_valid_ || x_ != nullptr) return out;  // split: J s is computed afresh
    const bool restoring = restoring_events();
    for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
      const Slot slot = layout_.slots[node];
      if (!slot.pop) continue;
      const Pop& p = pops_[static_cast<std::size_t>(slot.index)];
      // Restored and not stepped since: only the populations the restored state held.
      if (!p.events || (restoring && !p.events_restored)) continue;
      EventState& e = out.emplace_back();
      e.node = static_cast<int>(node);
      e.s_in.assign(p.s_in.begin(), p.s_in.end());
      e.spiked.assign(p.spikes.all.begin(), p.spikes.all.end());
    }
    return out;
  }

  void set_event_state(const std::vector<EventState>& states) override {
    if (x_ != nullptr && !states.empty()) throw InvalidArgument("set_event_state: not over several ranks");
    for (Pop& p : pops_) p.events_restored = false;  // only what `states` holds counts as restored
    for (const EventState& e : states) {
      const Slot slot = layout_.slots.at(static_cast<std::size_t>(e.node));
      if (!slot.pop) throw InvalidArgument("set_event_state: node " + std::to_string(e.node) + " is not a population");
      Pop& p = pops_[static_cast<std::size_t>(slot.index)];
      if (static_cast<std::int64_t>(e.s_in.size()) != p.n) {
        throw InvalidArgument("set_event_state: population '" + p.name + "' has " + std::to_string(p.n) +
                              " neurons; the state holds " + std::to_string(e.s_in.size()));
      }
      std::transform(e.s_in.begin(), e.s_in.end(), p.s_in.begin(), [](double x) { return static_cast<T>(x); });
      p.s_in_uniform = false;
      p.s_in_stale = false;
      p.spikes.all.assign(e.spiked.begin(), e.spiked.end());
      p.events_restored = true;
    }
    // Valid until the next step changes it; begin_run checks every event-coupled population has it.
    if (!states.empty()) events_valid_ = true;
  }

  // Every operator's sums in the library's fixed order (or as each operator chooses). Over
  // ranks always the fixed order: a product of another order (OpenBLAS) may round a row
  // differently with another count of rows, and a split network is one process's network.
  void set_fixed_order(bool fixed) {
    fixed = fixed || x_ != nullptr;
    for (Pop& p : pops_) {
      if (p.J) p.J->set_fixed_order(fixed);
    }
    for (EdgeW& e : edges_) {
      if (e.w) e.w->set_fixed_order(fixed);
    }
  }

  void flush_subnormals() {
    for (Pop& p : pops_) flush_subnormal_state(p);
  }

  // Event-driven coupling: J s from the last step's J s and spikes (s <- c s + spikes). The
  // QIF loop has already decayed J s (NeuronArrays::decay); other models' loops have not.
  void couple_from_spikes(Pop& p) {
    const T c = p.model == model::ModelId::Qif ? T(1) : event_decay(p, dt_);
    p.J->apply_spikes(p.spikes.all, c, p.s_in.data());
  }

  // Phase 2: the fused per-neuron update of every population (population_step.hpp), as step
  // `at` since compile() or reset(). `flush`: Subnormals::Flush inside the QIF loop.
  template <bool Events>
  void advance(bool flush, std::int64_t at) {
    for (Pop& p : pops_) step_population(p, dt_, Events && p.events, flush, at);
  }

  // Throw DivergenceError naming the first non-finite state value, if any. `since` steps
  // ago the state was last seen finite.
  void check_finite(std::int64_t step, std::int64_t since) const {
    if (x_ == nullptr) {
      check_finite_here(step, since);
      return;
    }
    // Over ranks: every rank checks its own neurons, then all learn the lowest failing rank's
    // message, so that all stop at the same step.
    std::string error;
    try {
      check_finite_here(step, since);
    } catch (const DivergenceError& e) {
      error = e.what();
    }
    const RankFailure failure = exchange_status(*x_, error);
    if (failure.failed()) {
      throw DivergenceError("rank " + std::to_string(failure.rank) + " of " + std::to_string(x_->size()) + ": " +
                            failure.message);
    }
  }
  void check_finite_here(std::int64_t step, std::int64_t since) const {
    for (std::size_t node = 0; node < layout_.slots.size(); ++node) {
      const Slot slot = layout_.slots[node];
      if (slot.pop) {
        const Pop& p = pops_[static_cast<std::size_t>(slot.index)];
        const std::vector<T>* arrays[] = {&p.v, &p.s, &p.x, &p.w};
        for (int a = 0; a < model::kStateSlots; ++a) {
          const bool qif_unused = p.model == model::ModelId::Qif && a == 2 && !p.adapt;
          if ((p.held >> a & 1u) == 0 || qif_unused) continue;
          const std::int64_t i = first_nonfinite(*arrays[a]);
          if (i >= 0) {
            throw_divergence(node, p.state_names[static_cast<std::size_t>(a)].c_str(), i + p.shape.lo,
                             static_cast<double>((*arrays[a])[static_cast<std::size_t>(i)]), step, since);
          }
        }
      } else {
        const Func& f = funcs_[static_cast<std::size_t>(slot.index)];
        const std::int64_t i = first_nonfinite(f.out);
        if (i >= 0) throw_divergence(node, "out", i, static_cast<double>(f.out[static_cast<std::size_t>(i)]), step, since);
      }
    }
  }

  [[noreturn]] void throw_divergence(std::size_t node, const char* var, std::int64_t index, double value,
                                     std::int64_t step, std::int64_t since) const {
    throw_divergence_error(layout_.starts[node].name, var, index, value, step, since);
  }

  // Write the values of one recorded item (at the step's start) to dst, or their mean.
  void gather(const RecordItem& item, T* dst) const {
    const Slot slot = layout_.slots[static_cast<std::size_t>(item.node)];
    Gathered<T> g{dst, item.mean, &item.neurons};
    if (slot.pop && x_ != nullptr) {
      split_gather(pops_[static_cast<std::size_t>(slot.index)], item, dst);
    } else if (slot.pop) {
      gather_pop(pops_[static_cast<std::size_t>(slot.index)], item.var, g);
    } else {
      const Func& f = funcs_[static_cast<std::size_t>(slot.index)];
      const T* src = item.var == Var::In ? f.in.data() : f.out.data();
      emit(f.n, [src](std::int64_t i) { return src[i]; }, g, mean_partials_);
    }
  }

  void gather_pop(const Pop& p, Var var, Gathered<T> g, bool at_last_step_start = false) const {
    gather_population(p, var, dt_, g, mean_partials_, at_last_step_start);
  }

  /// Before a run's first step: coupling still valid for the parameters, which means the QIF
  /// loops sum.
  void begin_run(const RunPlan& plan) {
    // A checkpoint's event state: valid where every population coupled by events now was so
    // then (else J s is computed afresh, as after set_var).
    if (restoring_events()) {
      for (const Pop& p : pops_) events_valid_ = events_valid_ && (!p.events || p.events_restored);
    }
    // set_var() may have given a population one tau_s per neuron since the choice was made:
    // events no longer apply there (auto chooses again; an explicit request is refused).
    for (const Pop& p : pops_) {
      if (p.events && tau_s_varies(p)) {
        set_coupling(requested_, resync_);
        break;
      }
    }
    plan_loop_means(plan);
  }

  void request_loop_means(bool sample) {
    for (Pop& p : pops_) detail::request_loop_means(p, sample);
  }

  std::size_t population_count() const { return pops_.size(); }
  /// An ensemble's other members give population k one tau_s per neuron (events cannot apply
  /// to the ensemble there, whatever this member's tau_s is).
  void set_tau_s_varies(std::size_t k, bool varies) {
    tau_s_varies_.resize(pops_.size(), false);
    tau_s_varies_[k] = varies;
  }
  /// True where population k holds one tau_s per neuron.
  bool tau_s_per_neuron(std::size_t k) const {
    const Pop& p = pops_[k];
    return p.tau_s_slot >= 0 && p.params[static_cast<std::size_t>(p.tau_s_slot)].size() != 1;
  }
  /// True where a population's J s is a dense product each step (dense storage, no events).
  bool dense_product() const {
    for (const Pop& p : pops_) {
      if (p.J && p.storage == CouplingMode::Dense && !p.events) return true;
    }
    return false;
  }
  /// Population `node` lists its spikes in each step (an ensemble's spike events), or not.
  void set_record_spikes(int node, bool on) {
    pops_[static_cast<std::size_t>(layout_.slots[static_cast<std::size_t>(node)].index)].record_spikes = on;
  }
  /// The neurons of population `node` that spiked in the step just taken, ascending (listed
  /// where set_record_spikes is on).
  const std::vector<long>& spiked(int node) const {
    return pops_[static_cast<std::size_t>(layout_.slots[static_cast<std::size_t>(node)].index)].spikes.all;
  }
  /// The name of node `node` (the graph's index).
  const std::string& node_name(int node) const { return layout_.starts[static_cast<std::size_t>(node)].name; }
  /// The most neurons of any population (0 without populations).
  std::int64_t largest_population() const {
    std::int64_t n = 0;
    for (const Pop& p : pops_) n = std::max(n, p.n);
    return n;
  }
  /// Population k's coupling operator (null: uncoupled), its state s and its J s.
  const Coupling<T>* coupling(std::size_t k) const { return pops_[k].J.get(); }
  const T* coupling_source(std::size_t k) const { return x_ != nullptr ? split_.pops[k].s.data() : pops_[k].s.data(); }
  T* coupling_target(std::size_t k) { return pops_[k].s_in.data(); }
  bool events_valid() const { return events_valid_; }
  /// A checkpoint's event state set (set_event_state) and not stepped since: operator changes
  /// keep it where the populations it holds stay event-coupled.
  bool restoring_events() const {
    return std::any_of(pops_.begin(), pops_.end(), [](const Pop& p) { return p.events_restored; });
  }
  std::int64_t resync() const { return resync_; }

  /// Population k's J s for this step where it needs no product: from the spikes (events,
  /// `from_spikes`) or as one value (rows of one value). Returns true where J s must still be
  /// computed as the product J s into coupling_target(k) (the caller does it, for one engine
  /// or for a whole ensemble at once); false where it is done or the population is uncoupled.
  bool coupling_needs_product(std::size_t k, bool from_spikes) {
    Pop& p = pops_[k];
    if (!p.J) return false;
    if (from_spikes && p.events) {
      couple_from_spikes(p);
      return false;
    }
    if (!p.events && p.model == model::ModelId::Qif && p.J->uniform_rows()) {
      p.s_in_value = p.J->row_value(coupling_source(k));  // one value for every neuron, not N
      p.s_in_uniform = true;
      p.s_in_stale = true;
      const auto span = static_cast<std::size_t>(std::min<std::int64_t>(p.n, kNeuronSpan));
      if (p.s_in_span.size() != span) p.s_in_span.assign(span, T(0));
      return false;
    }
    p.s_in_uniform = false;
    p.s_in_stale = false;
    return true;
  }

  // Phase 1 of a step, first part: every node's input (in topological order) and function
  // outputs. Nothing here changes the state.
  void prepare_inputs(const double* x) {
    for (int node : layout_.order) {
      T* in = input_values(node);
      if (node == layout_.input) {
        // A split population as the input node takes its own neurons' columns of the row.
        const StateShape& shape = layout_.shapes[static_cast<std::size_t>(node)];
        const double* mine = x + shape.lo;
        for (std::int64_t j = 0; j < shape.local_n(); ++j) in[j] = static_cast<T>(mine[j]);
      } else if (Pop* p = uniform_input_pop(node)) {  // one value for every neuron, not N
        T value = T(0);
        bool first = true;
        for (int e : layout_.incoming[static_cast<std::size_t>(node)]) {
          EdgeW& w = edges_[static_cast<std::size_t>(e)];
          const T v = w.w->row_value(w.memory.advance(output_values(w.source)));
          value = first ? v : T(1) * value + v;  // the bits apply() would write, edge by edge
          first = false;
        }
        p->in_value = value;
        p->in_stale = true;
      } else {
        bool first = true;
        for (int e : layout_.incoming[static_cast<std::size_t>(node)]) {
          EdgeW& w = edges_[static_cast<std::size_t>(e)];
          w.w->apply(w.memory.advance(output_values(w.source)), !first, in);
          first = false;
        }
      }
      const Slot s = layout_.slots[static_cast<std::size_t>(node)];
      if (!s.pop) {
        Func& f = funcs_[static_cast<std::size_t>(s.index)];
        apply_activation(f.act, f.in.data(), f.out.data(), f.n);
      }
    }
  }


  // ---- Over ranks (an Exchange of more than one rank given): this engine holds one rank's
  // part of the network, each population's neurons of partition_range. What a step reads of
  // other ranks is gathered in the order one process reads it, so that every rank computes the
  // bits one process does (in RunOptions::reproducible, where every row sums in a fixed order):
  //   - at the step's start, s of each coupled population whole (a row of J s reads every
  //     column), and the output of each population an edge reads (prepare);
  //   - after the step, the ascending global indices of the neurons that spiked, where event
  //     coupling or spike recording reads them (every rank then holds the whole list);
  //   - a recorded mean from the ranks' 256-neuron block sums added in block order; recorded
  //     per-neuron values gathered whole (every rank's Observer holds the same samples);
  //   - a stop request decided by rank 0 every kControlSteps steps; a divergence found on any
  //     rank stops every rank at the same check, with that rank's message.
  static constexpr std::int64_t kControlSteps = 256;

  struct SplitRanks {
    struct Whole {
      std::vector<std::int64_t> counts;  // each rank's neurons
      std::vector<T> s, v;               // gathered at the step's start (s: coupled or read; v: read)
      std::vector<long> spiked;          // the step's spikes of every rank (swapped with the lists)
      bool source = false;               // an edge reads its output, or it is the network's output
    };
    std::vector<Whole> pops;
    void build(const Graph& graph, const EngineLayout& layout, const std::vector<Pop>& ps, int ranks) {
      pops.resize(ps.size());
      for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
        const NodeSlot slot = layout.slots[i];
        if (!slot.pop) continue;
        const Pop& p = ps[static_cast<std::size_t>(slot.index)];
        Whole& w = pops[static_cast<std::size_t>(slot.index)];
        for (const NeuronRange& r : partition(p.shape.global_n, ranks)) w.counts.push_back(r.size());
        w.source = static_cast<int>(i) == layout.output ||
                   std::any_of(graph.edges.begin(), graph.edges.end(),
                               [i](const Edge& e) { return e.source == static_cast<int>(i); });
        const auto n = static_cast<std::size_t>(p.shape.global_n);
        if (!p.weights.empty() || (w.source && !p.out_is_v)) w.s.resize(n);
        if (w.source && p.out_is_v) w.v.resize(n);
      }
    }
  };

  bool stop_now(const RunPlan& plan, std::int64_t t) const {
    if (x_ == nullptr) return stop_requested(plan, t);
    if (t == plan.stop_at) return true;
    if (t % kControlSteps != 0) return false;
    return decided_by_root(*x_, plan.stop != nullptr && plan.stop->load(std::memory_order_relaxed));
  }

  void gather_sources(bool from_spikes) {
    for (std::size_t k = 0; k < pops_.size(); ++k) {
      const Pop& p = pops_[k];
      auto& whole = split_.pops[k];
      const bool product = p.J && !(from_spikes && p.events);
      if (product || (whole.source && !p.out_is_v)) x_->allgather(p.s.data(), whole.counts, whole.s.data());
      if (whole.source && p.out_is_v) x_->allgather(p.v.data(), whole.counts, whole.v.data());
    }
  }

  void gather_spike_lists() {
    for (Pop& p : pops_) {
      if (p.rate || !(p.events || p.record_spikes)) continue;
      std::vector<long>& list = p.spikes.all;
      for (long& i : list) i += static_cast<long>(p.shape.lo);
      std::vector<long>& all = split_.pops[static_cast<std::size_t>(&p - pops_.data())].spiked;
      gather_spikes(*x_, list, all);
      list.swap(all);  // both keep their capacity: no allocation per step
    }
  }

  // This rank's values of `var` (its range).
  std::vector<T> local_values(const Pop& p, Var var, bool at_last_step_start = false) const {
    std::vector<T> local(static_cast<std::size_t>(p.n));
    gather_pop(p, var, Gathered<T>{local.data(), false}, at_last_step_start);
    return local;
  }

  // The sum over every rank's neurons of values `local` (this rank's), in the one order.
  double sum_over_ranks(const Pop& p, const std::vector<T>& local) const {
    std::vector<double> sums(static_cast<std::size_t>(reduction_blocks(p.n)));
    const T* values = local.data();
    for (std::size_t b = 0; b < sums.size(); ++b) {
      sums[b] = model::ordered_block_sum(static_cast<std::int64_t>(b), p.n, [values](std::int64_t i) { return values[i]; });
    }
    return ordered_sum_over_ranks(*x_, p.shape.global_n, sums);
  }

  double split_loop_mean(const Pop& p, Var var) const {
    const std::vector<double>& sums = p.loop_mean_partials[static_cast<std::size_t>(loop_mean_index(p, var))];
    return ordered_sum_over_ranks(*x_, p.shape.global_n, sums) / static_cast<double>(p.shape.global_n);
  }

  void split_gather(const Pop& p, const RecordItem& item, T* dst) const {
    const std::vector<T> local = local_values(p, item.var);
    if (item.mean) {
      *dst = static_cast<T>(sum_over_ranks(p, local) / static_cast<double>(p.shape.global_n));
      return;
    }
    if (item.neurons.empty()) {  // straight into the sample row
      x_->allgather(local.data(), split_.pops[static_cast<std::size_t>(&p - pops_.data())].counts, dst);
      return;
    }
    // Chosen neurons: each rank sends those it holds (their places in the row, and values), not
    // its whole range.
    std::vector<std::int64_t> places;
    std::vector<T> values;
    for (std::size_t k = 0; k < item.neurons.size(); ++k) {
      const std::int64_t i = item.neurons[k];
      if (i < p.shape.lo || i >= p.shape.hi) continue;
      places.push_back(static_cast<std::int64_t>(k));
      values.push_back(local[static_cast<std::size_t>(i - p.shape.lo)]);
    }
    const std::vector<std::int64_t> counts = x_->allgather_one(static_cast<std::int64_t>(places.size()));
    std::vector<std::int64_t> all_places(item.neurons.size());
    std::vector<T> all_values(item.neurons.size());
    x_->allgather(places.data(), counts, all_places.data());
    x_->allgather(values.data(), counts, all_values.data());
    for (std::size_t k = 0; k < all_places.size(); ++k) dst[all_places[k]] = all_values[k];
  }

  std::vector<double> split_get_var(const Pop& p, Var var, bool at_last_step_start) const {
    std::vector<T> local;
    if (is_parameter(var)) {  // one value per neuron here (one for all: repeated), then gathered
      const std::vector<T>& held = *p.param(var);
      local = held.size() == 1 ? std::vector<T>(static_cast<std::size_t>(p.n), held[0]) : held;
    } else {
      local = local_values(p, var, at_last_step_start);
    }
    const std::vector<T> all = gather_population(*x_, p.shape.global_n, local);
    return std::vector<double>(all.begin(), all.end());
  }

 private:
  Exchange* x_ = nullptr;  // more than one rank: this engine is one rank's part (see above)
  SplitRanks split_;
  T dt_;
  mutable std::vector<double> mean_partials_;  // block sums of a recorded mean (emit)
  EngineLayout layout_;  // order, input and output, slots, incoming edges, initial states
  std::vector<Pop> pops_;
  std::vector<Func> funcs_;
  std::vector<EdgeW> edges_;
  bool events_valid_ = false;  // s_in and the spike flags describe the last step taken
  std::int64_t resync_ = kDefaultResync;  // events: a fresh product every this many steps
  CouplingMode requested_ = CouplingMode::Auto;  // what the operators were chosen for
  std::vector<bool> tau_s_varies_;  // per population: another member's tau_s per neuron (ensembles)
};

}  // namespace qifsim::detail
