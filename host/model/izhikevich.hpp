// host/model/izhikevich.hpp - RectiPy's Izhikevich neurons (spiking_neurons.ik: ik, iku with a
// recovery variable driven by population means, ik_biexp with bi-exponential synapses): their
// declarations and one per-neuron step, written once for the CPU loop and the CUDA kernels.
#pragma once

#include "model/host_device.hpp"
#include "model/model_decl.hpp"
#include "model/model_params.hpp"

namespace qifsim::model {

// ik:  v' = (k*(v-v_r)*(v-v_theta) - u + I_ext + eta + g*s_in*(E_r - v)) / C
//      u' = (b*(v-v_r) - u) / tau_u + kappa*spike;  s' = -s/tau_s + spike
inline constexpr ParamDecl kIkParams[] = {
    {"C", 100.0, Rule::Positive, nullptr},   {"k", 0.7, Rule::Finite, nullptr},
    {"v_r", -60.0, Rule::Finite, nullptr},   {"v_theta", -40.0, Rule::Finite, nullptr},
    {"eta", 0.0, Rule::Finite, nullptr},     {"g", 1.0, Rule::Finite, nullptr},
    {"E_r", 0.0, Rule::Finite, nullptr},     {"b", -2.0, Rule::Finite, nullptr},
    {"tau_u", 33.33, Rule::Positive, nullptr}, {"kappa", 10.0, Rule::Finite, nullptr},
    {"tau_s", 6.0, Rule::Positive, nullptr},
    {"v_threshold", 100.0, Rule::Finite, nullptr}, {"v_reset", -100.0, Rule::Finite, nullptr},
};
inline constexpr StateDecl kIkStates[] = {
    {"v", "v0", -60.0, nullptr}, {"u", "u0", 0.0, nullptr}, {"s", "s0", 0.0, nullptr}};
inline constexpr ModelDecl kIk = declare("ik", "neuron_model_templates.spiking_neurons.ik.ik", ModelKind::Spiking,
                                         kIkParams, kIkStates, "s", "v");

// iku: ik with u' = (b*(mean(v)-v_r) - u) / tau_u + kappa*mean(spike).
inline constexpr ModelDecl kIku = declare("iku", "neuron_model_templates.spiking_neurons.ik.iku", ModelKind::Spiking,
                                          kIkParams, kIkStates, "s", "v", nullptr, /*population_means=*/true);

// ik_biexp: iku's v and u;  s' = -s/tau_d + x;  x' = -x/tau_r + spike. tau_r and tau_d take
// tau_s's place, so that the slots of the parameters before it are ik's.
inline constexpr ParamDecl kIkBiexpParams[] = {
    {"C", 100.0, Rule::Positive, nullptr},   {"k", 0.7, Rule::Finite, nullptr},
    {"v_r", -60.0, Rule::Finite, nullptr},   {"v_theta", -40.0, Rule::Finite, nullptr},
    {"eta", 0.0, Rule::Finite, nullptr},     {"g", 1.0, Rule::Finite, nullptr},
    {"E_r", 0.0, Rule::Finite, nullptr},     {"b", -2.0, Rule::Finite, nullptr},
    {"tau_u", 33.33, Rule::Positive, nullptr}, {"kappa", 10.0, Rule::Finite, nullptr},
    {"tau_r", 2.0, Rule::Positive, nullptr}, {"tau_d", 6.0, Rule::Positive, nullptr},
    {"v_threshold", 100.0, Rule::Finite, nullptr}, {"v_reset", -100.0, Rule::Finite, nullptr},
};
inline constexpr StateDecl kIkBiexpStates[] = {
    {"v", "v0", -60.0, nullptr}, {"u", "u0", 0.0, nullptr}, {"x", "x0", 0.0, nullptr}, {"s", "s0", 0.0, nullptr}};
inline constexpr ModelDecl kIkBiexp = declare("ik_biexp", "neuron_model_templates.spiking_neurons.ik.ik_biexp",
                                              ModelKind::Spiking, kIkBiexpParams, kIkBiexpStates, "s", "v", nullptr,
                                              /*population_means=*/true);
static_assert(names_unique(kIk) && names_unique(kIku) && names_unique(kIkBiexp));

/// Parameter slots shared by ik, iku and ik_biexp (up to kappa), then each one's own.
enum IkParam : int { kIkC, kIkK, kIkVr, kIkVtheta, kIkEta, kIkG, kIkEr, kIkB, kIkTauU, kIkKappa,
                     kIkTauS = 10, kIkVThreshold = 11, kIkVReset = 12,            // ik, iku
                     kIkTauR = 10, kIkTauD = 11, kIkBiexpVThreshold = 12, kIkBiexpVReset = 13 };  // ik_biexp
static_assert(param_index(kIk, "kappa") == kIkKappa && param_index(kIk, "tau_s") == kIkTauS &&
              param_index(kIk, "v_threshold") == kIkVThreshold && param_index(kIk, "v_reset") == kIkVReset &&
              param_index(kIk, "C") == kIkC && param_index(kIk, "E_r") == kIkEr && param_index(kIk, "tau_u") == kIkTauU);
static_assert(param_index(kIkBiexp, "kappa") == kIkKappa && param_index(kIkBiexp, "tau_r") == kIkTauR &&
              param_index(kIkBiexp, "tau_d") == kIkTauD &&
              param_index(kIkBiexp, "v_threshold") == kIkBiexpVThreshold &&
              param_index(kIkBiexp, "v_reset") == kIkBiexpVReset);

/// The three variants of the step.
enum class IkVariant { Ik, Iku, Biexp };

}  // namespace qifsim::model

namespace qifsim::kernels {

/// One explicit-Euler step of Izhikevich neuron i (u: recovery, s: synapse, x: ik_biexp's rise
/// variable). The spike test is on v at the step's start; every right-hand side reads the state
/// at the step's start; v = v_reset where it spiked. `means`: mean(v) and the fraction spiking
/// at the step's start (iku, ik_biexp). Returns whether it spiked.
template <model::IkVariant V, class T, class P>
QIFSIM_HD inline bool ik_step(T& v, T& u, T& s, T& x, T in, T s_in, const P& p, long i, T dt,
                              const PopulationMeans<T>& means) {
  using namespace model;
  constexpr bool biexp = V == IkVariant::Biexp;
  const T v0 = v, u0 = u;
  const bool spike = v0 >= p(biexp ? kIkBiexpVThreshold : kIkVThreshold, i);
  const T spike_value = spike ? T(1) : T(0);
  const T v_r = p(kIkVr, i);
  const T dv = (p(kIkK, i) * (v0 - v_r) * (v0 - p(kIkVtheta, i)) - u0 + in + p(kIkEta, i) +
                p(kIkG, i) * s_in * (p(kIkEr, i) - v0)) / p(kIkC, i);
  const T v_drive = V == IkVariant::Ik ? v0 : means.v;
  const T u_jump = V == IkVariant::Ik ? spike_value : means.spike;
  u = u0 + dt * ((p(kIkB, i) * (v_drive - v_r) - u0) / p(kIkTauU, i)) + p(kIkKappa, i) * u_jump;
  if constexpr (biexp) {
    const T x0 = x;
    s = s + dt * (-s / p(kIkTauD, i) + x0);
    x = x0 + dt * (-x0 / p(kIkTauR, i)) + spike_value;
  } else {
    s = s + dt * (-s / p(kIkTauS, i)) + spike_value;
  }
  const T v1 = v0 + dt * dv;
  const T v_reset = p(biexp ? kIkBiexpVReset : kIkVReset, i);
  v = spike ? v_reset : v1;
  return spike;
}

}  // namespace qifsim::kernels
