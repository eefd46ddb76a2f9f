// host/model/leaky_integrator.hpp - RectiPy's leaky-integrator rate neurons
// (rate_neurons.leaky_integrator: tanh and sigmoid): their declarations and their per-neuron
// step and rate, written once for the CPU loop and the CUDA kernels.
#pragma once

#include <cmath>

#include "model/host_device.hpp"
#include "model/model_decl.hpp"
#include "model/model_params.hpp"

namespace qifsim::model {

// v' = -v/tau + k*r_in + I_ext + eta, then r = tanh(v) or r = r_max / (1 + exp(s*(v0-v)))
// (sigmoid_op's own v0 and s, which is why the initial value of v is called v_init).
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
static_assert(names_unique(kLeakyTanh) && names_unique(kLeakySigmoid));

/// Parameter slots of the leaky integrators (the sigmoid's last three only for it).
enum LeakyParam : int { kLeakyTau, kLeakyK, kLeakyEta, kLeakyRMax, kLeakyS, kLeakyV0 };
static_assert(param_index(kLeakySigmoid, "tau") == kLeakyTau && param_index(kLeakySigmoid, "k") == kLeakyK &&
              param_index(kLeakySigmoid, "eta") == kLeakyEta && param_index(kLeakySigmoid, "r_max") == kLeakyRMax &&
              param_index(kLeakySigmoid, "s") == kLeakyS && param_index(kLeakySigmoid, "v0") == kLeakyV0 &&
              param_index(kLeakyTanh, "eta") == kLeakyEta);

}  // namespace qifsim::model

namespace qifsim::kernels {

/// The rate of neuron i from its v: tanh(v), or r_max / (1 + exp(s*(v0 - v))) with Sigmoid.
template <bool Sigmoid, class T, class P>
QIFSIM_HD inline T leaky_rate(T v, const P& p, long i) {
  using namespace model;
  using std::exp;
  using std::tanh;
  if constexpr (Sigmoid) {
    return p(kLeakyRMax, i) / (T(1) + exp(p(kLeakyS, i) * (p(kLeakyV0, i) - v)));
  } else {
    return tanh(v);
  }
}

/// One explicit-Euler step of leaky integrator i: v += dt * (-v/tau + k*r_in + I + eta), where
/// r_in is the coupling input (J r) computed from the rates at the step's start.
template <class T, class P>
QIFSIM_HD inline void leaky_step(T& v, T in, T r_in, const P& p, long i, T dt) {
  using namespace model;
  const T v0 = v;
  v = v0 + dt * (-v0 / p(kLeakyTau, i) + p(kLeakyK, i) * r_in + in + p(kLeakyEta, i));
}

}  // namespace qifsim::kernels
