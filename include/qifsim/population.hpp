// qifsim/population.hpp - parameters of a QIF population node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/matrix.hpp"
#include "qifsim/weights.hpp"

namespace qifsim {

/// A parameter that is either one value for the whole population or one value per neuron.
struct Param {
  std::vector<double> values;  ///< size 1 (scalar) or N (per neuron)

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

}  // namespace qifsim
