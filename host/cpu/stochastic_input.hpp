// host/cpu/stochastic_input.hpp - noise and Poisson input on the CPU backend: after a
// population's step, v += sqrt(dt) * sigma * xi + sum_k weight_k * count_k, on the neurons that
// did not spike (model/stochastic.hpp draws the numbers).
#pragma once

#include <omp.h>

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
  return d;
}

/// Adds the input of step `step` (counted since compile() or reset()) to v[0..n-1], then sets the
/// neurons in `spiked` (ascending local indices) back to their reset value: reset[0] for all
/// when reset_scalar, else reset[i]. reset == nullptr: no spikes (a rate model).
template <class T>
void add_stochastic_input(const CpuStochasticInput& d, T* v, std::int64_t n, std::int64_t step,
                          const std::vector<long>& spiked, const T* reset, bool reset_scalar) {
  const auto t = static_cast<std::uint64_t>(step);
  // Shared Poisson input: one count per input for the whole population this step.
  std::vector<double> shared(d.poisson.size(), 0.0);
  for (std::size_t k = 0; k < d.poisson.size(); ++k) {
    const auto& p = d.poisson[k];
    if (p.shared) {
      shared[k] = p.weight * static_cast<double>(model::poisson_count(p.law, p.seed, d.key,
                                                                      model::kPoissonStream + static_cast<std::uint32_t>(k), 0, t));
    }
  }
  const auto span = [&](long begin, long end) {
    double kick[kNeuronSpan];
    const long len = end - begin;
    if (d.noise) {
      const bool scalar = d.sigma_sqrt_dt.size() == 1;
      // One Box-Muller pair per two neurons (global indices 2j, 2j+1), as model::standard_normal.
      for (long i = 0; i < len; ++i) {
        const auto g = static_cast<std::uint64_t>(d.first + begin + i);
        if ((g & 1u) == 1u && i > 0) continue;  // filled with its pair
        const auto w = model::random_words(d.noise_seed, d.key, model::kNoiseStream, 0, g >> 1, t);
        const r123::double2 z = r123::boxmuller(model::word64(w[0], w[1]), model::word64(w[2], w[3]));
        const double first = (g & 1u) != 0 ? z.y : z.x;
        kick[i] = (scalar ? d.sigma_sqrt_dt[0] : d.sigma_sqrt_dt[static_cast<std::size_t>(begin + i)]) * first;
        if ((g & 1u) == 0 && i + 1 < len) {
          kick[i + 1] = (scalar ? d.sigma_sqrt_dt[0] : d.sigma_sqrt_dt[static_cast<std::size_t>(begin + i + 1)]) * z.y;
        }
      }
    } else {
      for (long i = 0; i < len; ++i) kick[i] = 0.0;
    }
    for (std::size_t k = 0; k < d.poisson.size(); ++k) {
      const auto& p = d.poisson[k];
      if (p.shared) {
        for (long i = 0; i < len; ++i) kick[i] += shared[k];
        continue;
      }
      const std::uint32_t stream = model::kPoissonStream + static_cast<std::uint32_t>(k);
      for (long i = 0; i < len; ++i) {
        const auto g = static_cast<std::uint64_t>(d.first + begin + i);
        kick[i] += p.weight * static_cast<double>(model::poisson_count(p.law, p.seed, d.key, stream, g, t));
      }
    }
    for (long i = 0; i < len; ++i) v[begin + i] = static_cast<T>(static_cast<double>(v[begin + i]) + kick[i]);
  };
  const long count = static_cast<long>(n);
  if (count >= kParallelNeurons) {
#pragma omp parallel for schedule(static)
    for (long b = 0; b < count; b += kNeuronSpan) span(b, b + kNeuronSpan < count ? b + kNeuronSpan : count);
  } else {
    for (long b = 0; b < count; b += kNeuronSpan) span(b, b + kNeuronSpan < count ? b + kNeuronSpan : count);
  }
  if (reset != nullptr) {
    for (long i : spiked) v[i] = reset_scalar ? reset[0] : reset[i];
  }
}

}  // namespace qifsim::detail
