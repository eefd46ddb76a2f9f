// host/cpu/model_update.hpp - the CPU backend's per-neuron loop for RectiPy's other neuron models
// (model/lif.hpp, izhikevich.hpp, leaky_integrator.hpp): each model's one step over a population.
#pragma once

#include <cstdint>

#include "model/model_params.hpp"
#include "model/rectipy_models.hpp"

namespace qifsim::detail {

/// One population's state slots (model::ModelInfo::state_slot) and this step's inputs.
template <class T>
struct ModelArrays {
  T* slot[model::kStateSlots];  ///< v, the coupled variable (s or r), then the others (null if unused)
  const T* in;                  ///< this step's external input
  const T* s_in;                ///< this step's coupling input (J s, or J r)
  T* fired = nullptr;           ///< events: 1 where the neuron spiked, else 0
};

/// One step of neurons 0..n-1 of model `id` (not Qif). Spiking models test v against their
/// threshold at the step's start; iku and ik_biexp first take mean(v) and the fraction spiking
/// in the one reduction order (model/reduction.hpp). A rate model's slot 1 holds r, set from the
/// new v after the step.
template <class T>
void update_model_neurons(model::ModelId id, const ModelArrays<T>& a, const kernels::ModelParams<T>& p,
                          std::int64_t n, T dt);

/// A rate model's r = f(v) for every neuron (slot 1 from slot 0); nothing for spiking models.
template <class T>
void update_model_rates(model::ModelId id, const ModelArrays<T>& a, const kernels::ModelParams<T>& p,
                        std::int64_t n);

}  // namespace qifsim::detail
