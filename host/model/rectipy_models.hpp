// host/model/rectipy_models.hpp - the neuron models a population can use besides the QIF model
// (model/qif.hpp): RectiPy 0.12.2's LIF, Izhikevich and leaky-integrator templates, each
// declared once beside its step (model/lif.hpp, izhikevich.hpp, leaky_integrator.hpp), and where
// the engines keep each model's state.
#pragma once

#include <cstddef>
#include <string>

#include "model/izhikevich.hpp"
#include "model/leaky_integrator.hpp"
#include "model/lif.hpp"
#include "model/qif.hpp"

namespace qifsim::model {

/// Every neuron model, QIF first.
enum class ModelId : unsigned char { Qif, Lif, Ik, Iku, IkBiexp, LeakyTanh, LeakySigmoid };

/// The engines keep a population's state in up to four arrays: slot 0 holds v, slot 1 the
/// variable the recurrent weights read (the synapse s, or a rate neuron's r), slots 2 and 3 the
/// others. A state's Var (core/graph.hpp) is its slot's.
inline constexpr int kStateSlots = 4;

struct ModelInfo {
  ModelId id;
  const ModelDecl* decl;
  int state_slot[kStateSlots];  ///< storage slot of declared state k (-1 past state_count)
  const char* coupled_input;    ///< the name of the recurrent input ("s_in", or "r_in" for rates)
  int v_threshold;              ///< parameter slot of the spike threshold (-1: rate model)
  int v_reset;                  ///< parameter slot of the reset value (-1: rate model)
  int tau_s;                    ///< parameter slot of the synaptic time constant of s' = -s/tau_s + spike
                                ///< (the form event-driven coupling needs), or -1
};

/// RectiPy's other templates (the QIF model is described by its QifPopulation fields).
inline constexpr ModelInfo kOtherModels[] = {
    {ModelId::Lif, &kLif, {0, 1, -1, -1}, "s_in", kLifVThreshold, kLifVReset, kLifTauS},
    {ModelId::Ik, &kIk, {0, 2, 1, -1}, "s_in", kIkVThreshold, kIkVReset, kIkTauS},
    {ModelId::Iku, &kIku, {0, 2, 1, -1}, "s_in", kIkVThreshold, kIkVReset, kIkTauS},
    {ModelId::IkBiexp, &kIkBiexp, {0, 2, 3, 1}, "s_in", kIkBiexpVThreshold, kIkBiexpVReset, -1},
    {ModelId::LeakyTanh, &kLeakyTanh, {0, -1, -1, -1}, "r_in", -1, -1, -1},
    {ModelId::LeakySigmoid, &kLeakySigmoid, {0, -1, -1, -1}, "r_in", -1, -1, -1},
};

/// The model named `name` ("lif", "ik", "iku", "ik_biexp", "tanh", "sigmoid"), or nullptr.
inline const ModelInfo* find_other_model(const std::string& name) {
  for (const ModelInfo& m : kOtherModels) {
    if (name == m.decl->name) return &m;
  }
  return nullptr;
}

/// The description of `id` (not Qif).
inline const ModelInfo& other_model(ModelId id) {
  for (const ModelInfo& m : kOtherModels) {
    if (m.id == id) return m;
  }
  return kOtherModels[0];
}

/// Names of the other models, comma separated (for messages).
inline std::string other_model_names() {
  std::string names;
  for (const ModelInfo& m : kOtherModels) names += (names.empty() ? "" : ", ") + std::string(m.decl->name);
  return names;
}

}  // namespace qifsim::model
