// host/cpu/cpu_population.hpp - one population's storage on the CPU backend: its state, inputs,
// parameters (as given and laid out for the neuron loop), coupling operator and the spikes
// event-driven coupling reads; built from a graph node by make_cpu_population.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/coupling_choice.hpp"
#include "core/graph.hpp"
#include "core/node_slots.hpp"
#include "core/row_slice.hpp"
#include "core/state_shape.hpp"
#include "cpu/coupling.hpp"
#include "cpu/model_update.hpp"
#include "cpu/neuron_update.hpp"
#include "cpu/stochastic_input.hpp"
#include "model/qif_population.hpp"

namespace qifsim::detail {

template <class T>
struct CpuPopulation {
  StateShape shape;     // how its arrays are laid out (core/state_shape.hpp)
  std::int64_t n = 0;   // values per state array: shape.size()
  model::ModelId model = model::ModelId::Qif;
  bool rate = false;            // a rate model: s holds r = f(v)
  int tau_s_slot = model::kTauS;  // parameter slot of tau_s in s' = -s/tau_s + spike, or -1
  int th_slot = model::kVThreshold;  // parameter slot of the spike threshold (-1: rate model)
  int reset_slot = model::kVReset;   // parameter slot of the reset value (-1: rate model)
  CpuStochasticInput stochastic;     // noise and Poisson input on v (inactive: none)
  std::array<std::string, model::kStateSlots> state_names;  // the model's name of each state slot
  unsigned held = 0;            // the state slots it holds (state_slots_of)
  bool adapt = false;
  bool out_is_v = false;
  std::string name;
  Weights weights;                 // as given (shared with the graph)
  WeightsFacts facts;
  CouplingMode storage = CouplingMode::Dense;  // what J works on
  bool events = false;             // J s from the spikes (set_coupling)
  bool events_restored = false;    // s_in and spikes set from a checkpoint's event state, not stepped since
  std::shared_ptr<Coupling<T>> J;  // the recurrent coupling (N x N), or null; an ensemble's
                                   // members share it
  std::vector<T> v, s, x;      // state (slots V, S, X; model::ModelInfo says what each holds)
  std::vector<T> w;            // state slot W (ik_biexp's x); a slot not held is empty
  mutable std::vector<T> in;   // this step's external input (see input())
  mutable std::vector<T> s_in;  // this step's coupling input (see coupling_input())
  // The same for J s where J's rows are one value (all-to-all, procedural): s_in filled from
  // s_in_value only when read; the neuron loop reads s_in_span.
  bool s_in_uniform = false;
  mutable bool s_in_stale = false;
  T s_in_value = T(0);
  std::vector<T> s_in_span;
  // A QIF population fed only through operators whose rows are one value (an all-to-all edge
  // from a small input node): this step's input as that one value, `in` filled from it only
  // when read (input()); the neuron loop reads in_span, kNeuronSpan copies.
  bool in_uniform = false;
  mutable bool in_stale = false;
  T in_value = T(0);
  std::vector<T> in_span;
  std::vector<T> v_start, s_start, x_start, w_start;  // the state at the start of the last forward()
  SpikeLists spikes;                 // event-driven coupling, spike events: who spiked in the last step
  bool record_spikes = false;        // this run records its spike events (the loop lists them)
  LoopMeans loop_means;              // recorded means the neuron loop sums this step (count 0: none)
  std::vector<Var> loop_mean_vars;   // ... which, for this run (at most LoopMeans::kMax)
  std::vector<std::vector<double>> loop_mean_partials;  // ... their block sums
  std::vector<T> fired;              // ... other models' loops: 1 where spiked (then listed)
  // The model's parameters in declared order (model::QifParam for QIF), 1 or N values each.
  std::vector<std::vector<T>> params;

  // The external input as N values (filled from in_value where it arrived as one value).
  const T* input() const {
    if (in_stale) {
      std::fill(in.begin(), in.end(), in_value);
      in_stale = false;
    }
    return in.data();
  }

  // The coupling input as N values (filled from s_in_value where it was one value).
  const T* coupling_input() const {
    if (s_in_stale) {
      std::fill(s_in.begin(), s_in.end(), s_in_value);
      s_in_stale = false;
    }
    return s_in.data();
  }

  std::vector<T>* state(Var var) {
    switch (var) {
      case Var::V: return &v;
      case Var::S: return &s;
      case Var::X: return &x;
      default: return &w;
    }
  }
  // Another model's parameters as its step reads them (stride 0 for one value).
  kernels::ModelParams<T> model_params() const {
    kernels::ModelParams<T> mp{};
    for (std::size_t a = 0; a < params.size(); ++a) {
      mp.slot[a] = kernels::ParamRef<T>{params[a].data(), params[a].size() == 1 ? 0 : 1};
    }
    return mp;
  }
  ModelArrays<T> model_arrays(bool with_events) {
    return ModelArrays<T>{{v.data(), s.data(), x.empty() ? nullptr : x.data(), w.empty() ? nullptr : w.data()},
                          input(), coupling_input(), with_events ? fired.data() : nullptr};
  }

  std::vector<T>* param(Var var) {
    return const_cast<std::vector<T>*>(static_cast<const CpuPopulation*>(this)->param(var));
  }
  const std::vector<T>* param(Var var) const {
    return is_parameter(var) ? &params[static_cast<std::size_t>(param_slot(var))] : nullptr;
  }
  // The parameters in slot order (rebuilt after set_var), as the neuron loop reads them with
  // stride 1 so that it vectorises: N values for a per-neuron parameter; for a scalar one,
  // min(N, kNeuronSpan) copies that every span reads again (bit `slot` of scalar_slots).
  std::vector<T> per_neuron;
  std::array<std::size_t, model::kQifParamCount> offsets{};
  std::uint32_t scalar_slots = 0;
  bool per_neuron_valid = false;

  // tau and tau_s where each is one power of two: their inverses, which the neuron loop
  // multiplies by instead of dividing (the same bits; kernels::ExactDivisor).
  ExactInverses<T> exact_inverses() const {
    ExactInverses<T> inv;
    const std::vector<T>& tau = params[model::kTau];
    const std::vector<T>& tau_s = params[model::kTauS];
    if (tau.size() == 1) inv.tau = kernels::power_of_two_inverse(tau[0]);
    if (tau_s.size() == 1) inv.tau_s = kernels::power_of_two_inverse(tau_s[0]);
    return inv;
  }

  kernels::QifParamPtrs<T> ptrs() {
    if (!per_neuron_valid) {
      const auto count = static_cast<std::size_t>(n);
      const auto span = static_cast<std::size_t>(std::min<std::int64_t>(n, kNeuronSpan));
      std::size_t total = 0;
      scalar_slots = 0;
      for (std::size_t a = 0; a < model::kQifParamCount; ++a) {
        offsets[a] = total;
        const bool scalar = params[a].size() == 1;
        if (scalar) scalar_slots |= 1u << a;
        total += scalar ? span : count;
      }
      per_neuron.resize(total);
      for (std::size_t a = 0; a < model::kQifParamCount; ++a) {
        const std::vector<T>& values = params[a];
        T* dst = per_neuron.data() + offsets[a];
        const std::size_t len = values.size() == 1 ? span : count;
        for (std::size_t i = 0; i < len; ++i) dst[i] = values[values.size() == 1 ? 0 : i];
      }
      per_neuron_valid = true;
    }
    std::array<const T*, model::kQifParamCount> slots{};
    for (std::size_t a = 0; a < slots.size(); ++a) slots[a] = per_neuron.data() + offsets[a];
    return kernels::qif_params<kernels::QifParamPtrs<T>>(slots);
  }
};

// The arrays of `node` laid out by `shape`: the whole population ({1, n, 0, n}) or one rank's
// range of it ({1, n, lo, hi}: its neurons' state and parameters, and rows lo .. hi - 1 of J;
// the columns, and the facts the coupling choice reads, stay global so that every rank chooses
// alike). A member axis is the ensemble's (cpu/cpu_ensemble.cpp), not the population's.
template <class T>
CpuPopulation<T> make_cpu_population(const Node& node, const StateShape& shape, double dt,
                                     const WeightsFacts* facts = nullptr) {
  if (shape.members != 1) {
    throw BackendError("population '" + node.name + "': the CPU engine holds one member per population (state shape {" +
                       std::to_string(shape.members) + ", ...})");
  }
  const QifPopulation& q = node.pop;
  CpuPopulation<T> p;
  p.shape = shape;
  p.n = shape.size();
  p.weights = shape.is_whole() || q.weights.empty() ? q.weights : row_slice(q.weights, shape.lo, shape.hi);
  p.facts = facts != nullptr ? *facts : weights_facts(q.weights);  // given: a member of an ensemble
  p.in.assign(static_cast<std::size_t>(p.n), T(0));
  p.s_in.assign(static_cast<std::size_t>(p.n), T(0));
  for (int k = 0; k < model::kStateSlots; ++k) p.state_names[static_cast<std::size_t>(k)] = var_name(node, state_var(k));
  p.held = state_slots_of(node);  // the state itself: reset()
  p.out_is_v = q.output_var == "v";
  p.stochastic = make_stochastic_input(node, shape, dt);
  if (const model::ModelInfo* m = other_model_of(node)) {
    p.model = m->id;
    p.rate = m->decl->kind == model::ModelKind::Rate;
    p.tau_s_slot = m->tau_s;
    p.th_slot = m->v_threshold;
    p.reset_slot = m->v_reset;
    for (const Param& a : node.params) p.params.push_back(local_param<T>(a, shape));
    return p;
  }
  p.adapt = q.adaptation;
  for (std::size_t a = 0; a < model::kQifParamCount; ++a) {
    p.params.push_back(local_param<T>(q.*model::kQifParamFields[a], shape));
  }
  return p;
}

template <class T>
const char* model_name_of(const CpuPopulation<T>& p) {
  return p.model == model::ModelId::Qif ? model::kQif.name : model::other_model(p.model).decl->name;
}

}  // namespace qifsim::detail
