// host/cpu/stochastic_input.hpp - noise and Poisson input on the CPU backend: after a
// population's step, v += sqrt(dt) * sigma * xi + sum_k weight_k * count_k, on the neurons that
// did not spike (model/stochastic.hpp draws the numbers).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/graph.hpp"
#include "core/state_shape.hpp"
#include "cpu/neuron_update.hpp"
#include "model/stochastic.hpp"

namespace qifsim::detail {

/// One population's noise and Poisson input, ready for the step loop.
struct CpuStochasticInput {
  struct Poisson {
    model::PoissonLaw law;
    double weight = 0.0;
    bool shared = false;
    std::uint64_t seed = 0;
  };
  bool active = false;
  bool noise = false;
  std::vector<double> sigma_sqrt_dt;  // sqrt(dt) * sigma: 1 value or one per local neuron
  std::uint64_t noise_seed = 0;
  std::uint32_t key = 0;              // model::population_key of the population's name
  std::int64_t first = 0;             // global index of local neuron 0 (StateShape::lo)
  std::vector<Poisson> poisson;
  /// Scratch of add_stochastic_input (one per input, sized here): this step's weight * count of
  /// each shared input, so that a step allocates nothing.
  mutable std::vector<double> shared_kick;
};

inline CpuStochasticInput make_stochastic_input(const Node& node, const StateShape& shape, double dt) {
  CpuStochasticInput d;
  d.active = has_stochastic_input(node);
  if (!d.active) return d;
  d.key = model::population_key(node.name.c_str());
  d.first = shape.lo;
  const double root = std::sqrt(dt);
  for (double s : node.noise.sigma.values) d.noise = d.noise || s != 0.0;
  if (d.noise) {
    d.noise_seed = node.noise.seed;
    if (node.noise.sigma.is_scalar()) {
      d.sigma_sqrt_dt = {root * node.noise.sigma.values[0]};
    } else {
      for (std::int64_t i = shape.lo; i < shape.hi; ++i) d.sigma_sqrt_dt.push_back(root * node.noise.sigma.at(i));
    }
  }
  for (const PoissonInput& in : node.poisson) {
    d.poisson.push_back({model::poisson_law(static_cast<double>(in.sources) * in.rate * dt), in.weight, in.shared, in.seed});
  }
  d.shared_kick.assign(d.poisson.size(), 0.0);
  return d;
}

/// Adds the input of step `step` (counted since compile() or reset()) to v[0..n-1], then sets the
/// neurons in `spiked` (ascending local indices) back to their reset value: reset[0] for all
/// when reset_scalar, else reset[i]. reset == nullptr: no spikes (a rate model). Each neuron's
/// numbers are model::standard_normal's and model::poisson_count's (stochastic_input.cpp).
template <class T>
void add_stochastic_input(const CpuStochasticInput& d, T* v, std::int64_t n, std::int64_t step,
                          const std::vector<long>& spiked, const T* reset, bool reset_scalar);

}  // namespace qifsim::detail
