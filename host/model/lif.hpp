// host/model/lif.hpp - RectiPy's leaky integrate-and-fire neuron (spiking_neurons.lif.lif): its
// declaration and its per-neuron step, written once for the CPU loop and the CUDA kernels.
#pragma once

#include "model/host_device.hpp"
#include "model/model_decl.hpp"
#include "model/model_params.hpp"

namespace qifsim::model {

// v' = -v/tau + k*s_in + I_ext + eta;  s' = -s/tau_s + spike (the template's s_ext input is 0).
// Spike threshold and reset are the node's spike_threshold = 1e2 and spike_reset = -1e2.
inline constexpr ParamDecl kLifParams[] = {
    {"tau", 10.0, Rule::Positive, nullptr}, {"k", 1.0, Rule::Finite, nullptr},
    {"eta", 0.0, Rule::Finite, nullptr},    {"tau_s", 0.5, Rule::Positive, nullptr},
    {"v_threshold", 100.0, Rule::Finite, nullptr}, {"v_reset", -100.0, Rule::Finite, nullptr},
};
inline constexpr StateDecl kLifStates[] = {{"v", "v0", 0.0, nullptr}, {"s", "s0", 0.0, nullptr}};
inline constexpr ModelDecl kLif = declare("lif", "neuron_model_templates.spiking_neurons.lif.lif", ModelKind::Spiking,
                                          kLifParams, kLifStates, "s", "v");
static_assert(names_unique(kLif));

/// Parameter slots of the LIF model (kLifParams order).
enum LifParam : int { kLifTau, kLifK, kLifEta, kLifTauS, kLifVThreshold, kLifVReset };
static_assert(param_index(kLif, "tau") == kLifTau && param_index(kLif, "k") == kLifK &&
              param_index(kLif, "eta") == kLifEta && param_index(kLif, "tau_s") == kLifTauS &&
              param_index(kLif, "v_threshold") == kLifVThreshold && param_index(kLif, "v_reset") == kLifVReset);

}  // namespace qifsim::model

namespace qifsim::kernels {

/// One explicit-Euler step of LIF neuron i: the spike test on v at the step's start, then
/// v += dt * (-v/tau + k*s_in + I + eta), s += dt * (-s/tau_s) + spike, and v = v_reset where it
/// spiked. Returns whether it spiked.
template <class T, class P>
QIFSIM_HD inline bool lif_step(T& v, T& s, T in, T s_in, const P& p, long i, T dt) {
  using namespace model;
  const T v0 = v;
  const bool spike = v0 >= p(kLifVThreshold, i);
  const T v1 = v0 + dt * (-v0 / p(kLifTau, i) + p(kLifK, i) * s_in + in + p(kLifEta, i));
  s = s + dt * (-s / p(kLifTauS, i)) + (spike ? T(1) : T(0));
  const T v_reset = p(kLifVReset, i);
  v = spike ? v_reset : v1;
  return spike;
}

}  // namespace qifsim::kernels
