// host/model/qif.hpp - the QIF neuron model: its declaration (parameters, state, defaults,
// rules) and its per-neuron step, written once for the CPU loop and the CUDA kernel (plain C++
// under g++, __host__ __device__ under nvcc).
#pragma once

#include <cmath>

#include "model/host_device.hpp"
#include "model/model_decl.hpp"
#include "model/model_params.hpp"

namespace qifsim::model {

/// RectiPy's qif (and, with adaptation, qif_sfa) template; v_threshold and v_reset are the
/// node's spike_threshold and spike_reset. The parameters' order is the engines' storage order
/// and the checkpoint's (QifParam below).
inline constexpr ParamDecl kQifParams[] = {
    {"eta", -5.0, Rule::Finite, nullptr},
    {"tau", 1.0, Rule::Positive, nullptr},
    {"k", 1.0, Rule::Finite, nullptr},
    {"tau_s", 1.0, Rule::Positive, nullptr},
    {"v_threshold", 100.0, Rule::Finite, nullptr},
    {"v_reset", -100.0, Rule::Finite, nullptr},
    {"alpha", 1.0, Rule::Finite, "adaptation"},
    {"tau_x", 10.0, Rule::Positive, "adaptation"},
};
inline constexpr StateDecl kQifStates[] = {
    {"v", "v0", -2.0, nullptr},
    {"s", "s0", 0.0, nullptr},
    {"x", "x0", 0.0, "adaptation"},
};
inline constexpr ModelDecl kQif = declare("qif", "neuron_model_templates.spiking_neurons.qif.qif",
                                          ModelKind::Spiking, kQifParams, kQifStates, "s", "v", "adaptation");
static_assert(names_unique(kQif));

/// Parameter slots, in the declaration's order (the step and the engines index by them).
enum QifParam : int { kEta, kTau, kK, kTauS, kVThreshold, kVReset, kAlpha, kTauX, kQifParamCount };
static_assert(kQifParamCount == static_cast<int>(kQif.param_count));
static_assert(param_index(kQif, "eta") == kEta && param_index(kQif, "tau") == kTau &&
              param_index(kQif, "k") == kK && param_index(kQif, "tau_s") == kTauS &&
              param_index(kQif, "v_threshold") == kVThreshold && param_index(kQif, "v_reset") == kVReset &&
              param_index(kQif, "alpha") == kAlpha && param_index(kQif, "tau_x") == kTauX,
              "QifParam follows kQifParams");

}  // namespace qifsim::model

namespace qifsim::kernels {

/// Parameters of a QIF population, as seen by the per-neuron step (members in QifParam order).
template <class T>
struct QifParamRefs {
  ParamRef<T> eta, tau, k, tau_s, v_th, v_reset;
  ParamRef<T> alpha, tau_x;  // adaptation only
};

/// The same parameters as plain per-neuron arrays (stride 1 known at compile time): what
/// the CPU backend passes, so that its neuron loop vectorises.
template <class T>
struct QifParamPtrs {
  const T *eta, *tau, *k, *tau_s, *v_th, *v_reset;
  const T *alpha, *tau_x;  // adaptation only
};

/// A divisor that is a power of two, applied as a multiplication by its inverse: x / d and
/// x * (1 / d) are the same real number (1 / d is exact), each rounded once, so they give the
/// same bits in every case (subnormal, infinite and NaN x included), and a multiplication
/// costs a fraction of a division. power_of_two_inverse says where it applies.
template <class T>
struct ExactDivisor {
  T inverse;
};
template <class T>
QIFSIM_HD inline T operator/(T x, ExactDivisor<T> d) {
  return x * d.inverse;
}
/// One power-of-two value for every neuron, read by the step as an ExactDivisor.
template <class T>
struct ExactDivisorParam {
  T inverse;
  QIFSIM_HD ExactDivisor<T> operator[](long) const { return {inverse}; }
};

/// 1 / d where d is a power of two whose inverse is a finite T (so x * (1/d) == x / d bit for
/// bit), else 0.
template <class T>
inline T power_of_two_inverse(T d) {
  if (!std::isnormal(d) || d < T(0)) return T(0);
  int e = 0;
  if (std::frexp(d, &e) != T(0.5)) return T(0);
  const T inv = T(1) / d;
  return std::isfinite(inv) && inv * d == T(1) ? inv : T(0);
}

/// The step's parameters from slots held in QifParam order (an engine's storage): `a[i]` is
/// a ParamRef<T> (QifParamRefs) or a const T* (QifParamPtrs).
template <class Params, class Slots>
inline Params qif_params(const Slots& a) {
  return Params{a[model::kEta], a[model::kTau], a[model::kK], a[model::kTauS],
                a[model::kVThreshold], a[model::kVReset], a[model::kAlpha], a[model::kTauX]};
}

/// Spike test on the state at the step's start.
template <class T>
QIFSIM_HD inline bool qif_spikes(T v, T v_th) {
  return v >= v_th;
}

/// What a recorded (or read) `spike` holds: 1 / dt on a spike step, else 0 (RectiPy's delta
/// spike / dt, whose mean over neurons is the population rate in 1/time). The steps themselves
/// are qif_spikes'; s jumps by 1 per spike either way.
template <class T>
QIFSIM_HD inline T spike_record(bool spike, T dt) {
  return spike ? T(1) / dt : T(0);
}

/// One explicit-Euler step of neuron i (RectiPy's qif / qif_sfa): `in` is its external
/// input, `s_in` its coupling input (J s)_i, both for this step. Updates v, s (and x with
/// Adapt) in place and returns whether the neuron spiked (v >= v_th at the step's start).
/// The order of the arithmetic is the reference's: float64 results match it exactly.
/// Params is QifParamRefs<T> or QifParamPtrs<T> (anything whose members index by neuron).
template <class T, bool Adapt, class Params>
QIFSIM_HD inline bool qif_step(T& v, T& s, T& x, T in, T s_in, const Params& p, long i, T dt) {
  const T v0 = v;
  const bool spike = qif_spikes(v0, p.v_th[i]);
  const T spike_value = spike ? T(1) : T(0);
  T drive = p.eta[i];
  if constexpr (Adapt) drive = drive - x;
  const T v1 = v0 + dt * ((v0 * v0 + drive + in) / p.tau[i] + p.k[i] * s_in);
  s = s + dt * (-s / p.tau_s[i]) + spike_value;
  if constexpr (Adapt) x = x + dt * (-x / p.tau_x[i]) + p.alpha[i] * spike_value;
  const T v_reset = p.v_reset[i];  // loaded unconditionally: the select then vectorises
  v = spike ? v_reset : v1;
  return spike;
}

}  // namespace qifsim::kernels
