// host/cpu/cpu_gather.hpp - what the CPU engine reads out of a population: the values of a
// recorded variable (or their mean in the spec's one reduction order), the means the QIF loop
// sums in its own pass, and the first non-finite state value (divergence checks).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/cpu_population.hpp"
#include "cpu/ordered_sum.hpp"
#include "model/qif.hpp"
#include "model/reduction.hpp"
#include "qifsim/error.hpp"

namespace qifsim::detail {

/// Where gathered values go: a row of n values, or their one mean value.
template <class T>
struct Gathered {
  T* dst;
  bool mean;
  const std::vector<std::int64_t>* neurons = nullptr;  // only these, in this order (null or empty: all)
};

/// value(i) for i < n into g (the mean: the one reduction order over the neuron index,
/// model/reduction.hpp; `partials` is scratch for the block sums), or for the chosen neurons.
template <class T, class F>
void emit(std::int64_t n, F value, Gathered<T> g, std::vector<double>& partials) {
  if (g.mean) {
    *g.dst = static_cast<T>(ordered_sum_threaded(n, value, partials) / static_cast<double>(n));
  } else if (g.neurons != nullptr && !g.neurons->empty()) {
    const std::size_t count = g.neurons->size();
    for (std::size_t k = 0; k < count; ++k) g.dst[k] = static_cast<T>(value((*g.neurons)[k]));
  } else {
    for (std::int64_t i = 0; i < n; ++i) g.dst[i] = static_cast<T>(value(i));
  }
}

/// Variable `var` of population p into g: the state now, or at the start of the last forward()
/// (`at_last_step_start`); the coupling and external input of this step; spikes from v.
template <class T>
void gather_population(const CpuPopulation<T>& p, Var var, T dt, Gathered<T> g, std::vector<double>& partials,
                       bool at_last_step_start = false) {
  const T* src = nullptr;
  const bool start = at_last_step_start && p.v_start.size() == p.v.size();
  const T* v_src = start ? p.v_start.data() : p.v.data();
  switch (var) {
    case Var::V: src = v_src; break;
    case Var::S: src = start ? p.s_start.data() : p.s.data(); break;
    case Var::X: src = start ? p.x_start.data() : p.x.data(); break;
    case Var::W: src = start ? p.w_start.data() : p.w.data(); break;
    case Var::SIn: src = p.coupling_input(); break;
    case Var::IExt: src = p.input(); break;
    case Var::Spike: {
      const std::vector<T>& v_th = p.params[static_cast<std::size_t>(p.th_slot)];
      const kernels::ParamRef<T> th{v_th.data(), v_th.size() == 1 ? 0 : 1};
      const T* v = v_src;
      emit(p.n, [v, th, dt](std::int64_t i) { return kernels::spike_record(kernels::qif_spikes(v[i], th[i]), dt); },
           g, partials);
      return;
    }
    default:
      throw InvalidArgument(std::string("variable '") + var_name(var) + "' cannot be read here");
  }
  emit(p.n, [src](std::int64_t i) { return src[i]; }, g, partials);
}

/// The LoopMeans kind of a recorded mean of `var` (-1: the QIF loop does not sum it).
inline int loop_mean_kind(Var var) {
  switch (var) {
    case Var::V: return LoopMeans::V;
    case Var::S: return LoopMeans::S;
    case Var::X: return LoopMeans::X;
    case Var::Spike: return LoopMeans::Spike;
    default: return -1;
  }
}

/// Where `var` sits in p's loop means for this run (-1: not there; at most LoopMeans::kMax).
template <class T>
int loop_mean_index(const CpuPopulation<T>& p, Var var) {
  const auto it = std::find(p.loop_mean_vars.begin(), p.loop_mean_vars.end(), var);
  return it == p.loop_mean_vars.end() ? -1 : static_cast<int>(it - p.loop_mean_vars.begin());
}

/// Before a run: p's loop sums a recorded mean of `var` where its model and room allow.
template <class T>
void plan_loop_mean(CpuPopulation<T>& p, Var var) {
  const int kind = loop_mean_kind(var);
  if (p.model != model::ModelId::Qif || kind < 0 || (kind == LoopMeans::X && !p.adapt)) return;
  if (static_cast<int>(p.loop_mean_vars.size()) >= LoopMeans::kMax) return;
  p.loop_mean_vars.push_back(var);
  const auto blocks = static_cast<std::size_t>((p.n + model::kReductionBlock - 1) / model::kReductionBlock);
  p.loop_mean_partials.resize(p.loop_mean_vars.size());
  p.loop_mean_partials.back().assign(blocks, 0.0);
}

/// On a step: the loop means p's next update sums (none where `sample` is false).
template <class T>
void request_loop_means(CpuPopulation<T>& p, bool sample) {
  p.loop_means.count = 0;
  if (!sample) return;
  for (std::size_t k = 0; k < p.loop_mean_vars.size(); ++k) {
    p.loop_means.kind[k] = static_cast<LoopMeans::Kind>(loop_mean_kind(p.loop_mean_vars[k]));
    p.loop_means.partials[k] = p.loop_mean_partials[k].data();
  }
  p.loop_means.count = static_cast<int>(p.loop_mean_vars.size());
}

/// The mean the loop summed for `var`: its block sums added in block order, from 0.
template <class T>
double loop_mean_value(const CpuPopulation<T>& p, Var var) {
  double total = 0.0;
  for (double b : p.loop_mean_partials[static_cast<std::size_t>(loop_mean_index(p, var))]) total += b;
  return total / static_cast<double>(p.n);
}

/// The index of the first value that is not finite, or -1.
template <class T>
std::int64_t first_nonfinite(const std::vector<T>& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) return static_cast<std::int64_t>(i);
  }
  return -1;
}

}  // namespace qifsim::detail
