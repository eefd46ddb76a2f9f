// src/model/rectipy_models.hpp - RectiPy 0.12.2's other neuron templates, declared in the form
// of model/model_decl.hpp (names and defaults from its neuron_model_templates/*.yaml; spike
// threshold and reset from the node's spike_threshold = 1e2, spike_reset = -1e2). Their steps
// and engines come with RectiPy's models; the declarations show the form holds them: a second
// synaptic state (ik_biexp), population means inside the step (iku), a rate node with a value
// derived from its state (the leaky integrator's tanh and sigmoid outputs).
#pragma once

#include "model/model_decl.hpp"

namespace qifsim::model {

// spiking_neurons.lif.lif: v' = -v/tau + k*s_in + I_ext + eta;  s' = -s/tau_s + spike + s_ext
inline constexpr ParamDecl kLifParams[] = {
    {"tau", 10.0, Rule::Positive, nullptr}, {"k", 1.0, Rule::Finite, nullptr},
    {"eta", 0.0, Rule::Finite, nullptr},    {"tau_s", 0.5, Rule::Positive, nullptr},
    {"v_threshold", 100.0, Rule::Finite, nullptr}, {"v_reset", -100.0, Rule::Finite, nullptr},
};
inline constexpr StateDecl kLifStates[] = {{"v", "v0", 0.0, nullptr}, {"s", "s0", 0.0, nullptr}};
inline constexpr ModelDecl kLif = declare("lif", "neuron_model_templates.spiking_neurons.lif.lif", ModelKind::Spiking,
                                          kLifParams, kLifStates, "s", "v");

// spiking_neurons.ik.ik:
//   v' = (k*(v-v_r)*(v-v_theta) - u + I_ext + eta + g*s_in*(E_r - v)) / C
//   u' = (b*(v-v_r) - u) / tau_u + kappa*spike;  s' = -s/tau_s + spike
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

// spiking_neurons.ik.iku: ik with u' = (b*(mean(v)-v_r) - u) / tau_u + kappa*mean(spike).
inline constexpr ModelDecl kIku = declare("iku", "neuron_model_templates.spiking_neurons.ik.iku", ModelKind::Spiking,
                                          kIkParams, kIkStates, "s", "v", nullptr, /*population_means=*/true);

// spiking_neurons.ik.ik_biexp: iku's v and u;  s' = -s/tau_d + x;  x' = -x/tau_r + spike.
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

// rate_neurons.leaky_integrator.tanh / .sigmoid: v' = -v/tau + k*r_in + I_ext + eta, then
// r = tanh(v) or r = r_max / (1 + exp(s*(v0-v))) (sigmoid_op's own v0 and s, not initial values).
inline constexpr ParamDecl kLeakyTanhParams[] = {
    {"tau", 10.0, Rule::Positive, nullptr}, {"k", 1.0, Rule::Finite, nullptr}, {"eta", 0.0, Rule::Finite, nullptr}};
inline constexpr ParamDecl kLeakySigmoidParams[] = {
    {"tau", 10.0, Rule::Positive, nullptr}, {"k", 1.0, Rule::Finite, nullptr}, {"eta", 0.0, Rule::Finite, nullptr},
    {"r_max", 1.0, Rule::Finite, nullptr},  {"s", 1.0, Rule::Finite, nullptr},  {"v0", 0.0, Rule::Finite, nullptr}};
inline constexpr StateDecl kLeakyStates[] = {{"v", "v_init", 0.0, nullptr}};
inline constexpr ModelDecl kLeakyTanh = declare("tanh", "neuron_model_templates.rate_neurons.leaky_integrator.tanh",
                                                ModelKind::Rate, kLeakyTanhParams, kLeakyStates, "r", nullptr, nullptr,
                                                false, "r = tanh(v)");
inline constexpr ModelDecl kLeakySigmoid = declare("sigmoid", "neuron_model_templates.rate_neurons.leaky_integrator.sigmoid",
                                                   ModelKind::Rate, kLeakySigmoidParams, kLeakyStates, "r", nullptr,
                                                   nullptr, false, "r = r_max / (1 + exp(s*(v0-v)))");

static_assert(names_unique(kLif) && names_unique(kIk) && names_unique(kIku) && names_unique(kIkBiexp) &&
              names_unique(kLeakyTanh) && names_unique(kLeakySigmoid),
              "a model's parameters, states and initial values have distinct names");

}  // namespace qifsim::model
