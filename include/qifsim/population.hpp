// qifsim/population.hpp - parameters of a population node: QIF (QifPopulation) or one of
// RectiPy's other neuron templates (NeuronPopulation).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qifsim/matrix.hpp"
#include "qifsim/weights.hpp"

namespace qifsim {

/// A parameter that is either one value for the whole population or one value per neuron.
struct Param {
  std::vector<double> values;  ///< size 1 (scalar) or N (per neuron)

  Param() = default;  ///< no values yet (refused until given)
  Param(double v) : values{v} {}  // NOLINT: implicit on purpose, `p.eta = -5.0`
  Param(std::vector<double> v) : values(std::move(v)) {}  // NOLINT
  Param(std::initializer_list<double> v) : values(v) {}
  bool is_scalar() const { return values.size() == 1; }
  /// The value for neuron i (the scalar for every i when is_scalar()).
  double at(std::int64_t i) const { return is_scalar() ? values[0] : values[static_cast<std::size_t>(i)]; }
};

/// A population of N quadratic integrate-and-fire neurons (RectiPy's `qif` template, or
/// `qif_sfa` when `adaptation` is set). Defaults are RectiPy's. One step:
///   spike = v >= v_threshold;  s_in = J s;
///   v += dt * ((v^2 + eta - x + I) / tau + k * s_in);  s += dt * (-s / tau_s) + spike;
///   x += dt * (-x / tau_x) + alpha * spike (adaptation only);  v = v_reset where spike.
struct QifPopulation {
  std::int64_t n = 1;          ///< number of neurons N
  Weights weights;             ///< J (N x N, row i = weights onto neuron i: dense, sparse or all-to-all); empty = no coupling
  Param eta = -5.0;            ///< excitability
  Param tau = 1.0;             ///< membrane time constant
  Param k = 1.0;               ///< coupling gain
  Param tau_s = 1.0;           ///< synaptic time constant
  Param v0 = -2.0;             ///< initial membrane variable
  Param s0 = 0.0;              ///< initial synaptic output
  Param v_threshold = 100.0;   ///< spike when v >= v_threshold (state at the step's start)
  Param v_reset = -100.0;      ///< v after a spike
  bool adaptation = false;     ///< spike-frequency adaptation (RectiPy's qif_sfa)
  Param alpha = 1.0;           ///< adaptation jump per spike
  Param tau_x = 10.0;          ///< adaptation time constant
  Param x0 = 0.0;              ///< initial adaptation
  std::string output_var = "s";  ///< the node's output: "s" (default) or "v"
};

/// A population of one of RectiPy's other neuron templates, integrated with explicit Euler as
/// RectiPy does (host/model/ holds each model's declaration and step):
///   "lif"      v' = -v/tau + k*s_in + I + eta;  s' = -s/tau_s + spike
///              (tau 10, k 1, eta 0, tau_s 0.5; v0 0, s0 0)
///   "ik"       v' = (k*(v-v_r)*(v-v_theta) - u + I + eta + g*s_in*(E_r - v)) / C
///              u' = (b*(v-v_r) - u)/tau_u + kappa*spike;  s' = -s/tau_s + spike
///              (C 100, k 0.7, v_r -60, v_theta -40, eta 0, g 1, E_r 0, b -2, tau_u 33.33,
///              kappa 10, tau_s 6; v0 -60, u0 0, s0 0)
///   "iku"      ik with u' = (b*(mean(v)-v_r) - u)/tau_u + kappa*mean(spike)
///   "ik_biexp" iku with s' = -s/tau_d + x, x' = -x/tau_r + spike (tau_r 2, tau_d 6; x0 0)
///   "tanh"     rate neuron v' = -v/tau + k*r_in + I + eta, r = tanh(v) (tau 10, k 1, eta 0;
///              v_init 0)
///   "sigmoid"  the same with r = r_max / (1 + exp(s*(v0 - v))) (r_max 1, s 1, v0 0)
/// Spiking models spike when v >= v_threshold (100) at a step's start and continue from v_reset
/// (-100); the weights J act on s (the rate r for rate neurons). Parameters and initial values
/// not given take RectiPy's defaults.
struct NeuronPopulation {
  std::string model;              ///< "lif", "ik", "iku", "ik_biexp", "tanh" or "sigmoid"
  std::int64_t n = 1;             ///< number of neurons N
  Weights weights;                ///< J (N x N) onto each neuron's coupling input; empty = none
  std::map<std::string, Param> values;  ///< parameters and initial values ("v0", "v_init", ...) by name
  std::string output_var;         ///< the node's output: a state or "r"; empty: the model's ("s", or "r")
};

/// Gaussian white noise on a population's membrane variable v (Network::add_noise), integrated
/// with Euler-Maruyama: after each step's deterministic update,
///   v += sqrt(dt) * sigma * xi,  xi ~ N(0, 1) per neuron and step,
/// except on neurons that spiked in the step (their v is the reset value). A rate model's r is
/// then computed from the new v. sigma = 0 adds nothing.
struct NoiseInput {
  Param sigma = 0.0;         ///< amplitude (one value, or one per neuron), >= 0
  std::uint64_t seed = 0;    ///< members with one seed see the same numbers
};

/// Poisson spike input onto a population's v (Network::add_poisson_input), the event form of
/// Brian2's PoissonInput: each step every neuron receives a count ~ Poisson(sources * rate *
/// dt) of input spikes and v moves by weight * count (after the step's update, spiking neurons
/// excepted, as NoiseInput).
struct PoissonInput {
  double rate = 0.0;           ///< spikes per source per unit of model time (the unit of dt), >= 0
  double weight = 0.0;         ///< jump of v per input spike
  std::int64_t sources = 1;    ///< independent source trains per neuron (their counts add), >= 1
  bool shared = false;         ///< true: every neuron receives the same count (common input)
  std::uint64_t seed = 0;
};

}  // namespace qifsim
