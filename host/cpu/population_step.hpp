// host/cpu/population_step.hpp - one population's part of a CPU step: its neuron loop (the QIF
// loop or another model's), the spikes it lists, subnormals flushed, and noise and Poisson input
// added after the update (cpu/stochastic_input.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "cpu/cpu_population.hpp"
#include "cpu/model_update.hpp"
#include "cpu/neuron_update.hpp"
#include "cpu/stochastic_input.hpp"

namespace qifsim::detail {

/// The event coupling's decay of J s per step, 1 - dt/tau_s.
template <class T>
T event_decay(const CpuPopulation<T>& p, T dt) {
  return T(1) - dt / p.params[static_cast<std::size_t>(p.tau_s_slot)][0];
}

/// A rate model's r (slot S) from its v.
template <class T>
void update_rates(CpuPopulation<T>& p) {
  update_model_rates<T>(p.model, p.model_arrays(false), p.model_params(), p.n);
}

/// The QIF loop over a whole population. Events: also note which neurons spiked (for the
/// event-driven coupling of the next step), and decay J s in the same pass.
template <class T, bool Adapt, bool Events>
void update_qif(CpuPopulation<T>& p, T dt, bool flush) {
  if (p.in_uniform) std::fill(p.in_span.begin(), p.in_span.end(), p.in_value);
  const bool s_in_one = p.s_in_uniform && !Events;
  if (s_in_one) std::fill(p.s_in_span.begin(), p.s_in_span.end(), p.s_in_value);
  const T* in = p.in_uniform ? p.in_span.data() : p.input();
  if (!s_in_one) p.coupling_input();  // N values again where an earlier J s was one value
  T* s_in = s_in_one ? p.s_in_span.data() : p.s_in.data();
  const bool listed = Events || p.record_spikes || p.stochastic.active;
  NeuronArrays<T> arrays{p.v.data(), p.s.data(), p.x.data(), in, s_in, listed ? &p.spikes : nullptr,
                         Events ? event_decay(p, dt) : T(1)};
  arrays.in_repeats = p.in_uniform;
  arrays.s_in_repeats = s_in_one;
  arrays.means = p.loop_means;
  const kernels::QifParamPtrs<T> prm = p.ptrs();
  update_neurons<T, Adapt, Events>(arrays, prm, p.n, dt, true, p.scalar_slots, p.exact_inverses(), flush);
}

/// One step of population p: its loop, then its noise and Poisson input of step `clock`.
/// `events`: its coupling is event-driven this step. `flush` (QIF): subnormal s and x to 0 in
/// the loop.
template <class T>
void step_population(CpuPopulation<T>& p, T dt, bool events, bool flush, std::int64_t clock) {
  if (p.model != model::ModelId::Qif) {
    const bool listed = events || p.record_spikes || (p.stochastic.active && !p.rate);
    if (listed && p.fired.size() != static_cast<std::size_t>(p.n)) p.fired.assign(static_cast<std::size_t>(p.n), T(0));
    update_model_neurons<T>(p.model, p.model_arrays(listed), p.model_params(), p.n, dt);
    if (listed) {  // their loops flag the spikes; listed here
      p.spikes.all.clear();
      for (std::int64_t i = 0; i < p.n; ++i) {
        if (p.fired[static_cast<std::size_t>(i)] != T(0)) p.spikes.all.push_back(static_cast<long>(i));
      }
    }
  } else if (p.adapt) {
    events ? update_qif<T, true, true>(p, dt, flush) : update_qif<T, true, false>(p, dt, flush);
  } else {
    events ? update_qif<T, false, true>(p, dt, flush) : update_qif<T, false, false>(p, dt, flush);
  }
  if (p.stochastic.active) {
    const T* reset = nullptr;
    bool reset_scalar = true;
    if (!p.rate) {
      const std::vector<T>& r = p.params[static_cast<std::size_t>(p.reset_slot)];
      reset = r.data();
      reset_scalar = r.size() == 1;
    }
    add_stochastic_input<T>(p.stochastic, p.v.data(), p.n, clock, p.spikes.all, reset, reset_scalar);
    if (p.rate) update_rates(p);  // r from the new v
  }
}

/// Subnormals::Flush for populations of other models: s, x and w below the smallest normal
/// number become 0 (they only decay there; every operation on them costs a micro-code assist on
/// x86). QIF populations flush in their loop.
template <class T>
void flush_subnormal_state(CpuPopulation<T>& p) {
  constexpr T kTiny = std::numeric_limits<T>::min();
  if (p.model == model::ModelId::Qif) return;
  for (std::vector<T>* a : {&p.s, &p.x, &p.w}) {
    T* values = a->data();
    const std::size_t count = a->size();
    for (std::size_t i = 0; i < count; ++i) values[i] = std::fabs(values[i]) < kTiny ? T(0) : values[i];
  }
}

}  // namespace qifsim::detail
