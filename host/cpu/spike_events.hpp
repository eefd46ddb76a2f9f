// host/cpu/spike_events.hpp - a CPU run's spike events (RunOptions::record_spikes): after each
// step, the spike lists of the recorded populations (SpikeLists::all, ascending) become
// (step, neuron) pairs, held until the run hands its next batch of samples to the Observer.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/engine.hpp"
#include "core/engine_layout.hpp"
#include "core/observer_engine_side.hpp"
#include "cpu/cpu_population.hpp"

namespace qifsim::detail {

template <class T>
class SpikeEvents {
 public:
  /// Marks the plan's populations so that their loops list their spikes, for this run only.
  SpikeEvents(const RunPlan& plan, std::vector<CpuPopulation<T>>& pops, const EngineLayout& layout) {
    for (int node : plan.spike_nodes) {
      CpuPopulation<T>& p = pops[static_cast<std::size_t>(layout.slots[static_cast<std::size_t>(node)].index)];
      p.record_spikes = true;
      pops_.push_back(&p);
    }
    steps_.resize(pops_.size());
    neurons_.resize(pops_.size());
  }
  ~SpikeEvents() {
    for (CpuPopulation<T>* p : pops_) p->record_spikes = false;
  }
  SpikeEvents(const SpikeEvents&) = delete;
  SpikeEvents& operator=(const SpikeEvents&) = delete;

  /// The spikes of step t (the populations' lists of the step just taken).
  void collect(std::int64_t t) {
    for (std::size_t k = 0; k < pops_.size(); ++k) {
      for (long i : pops_[k]->spikes.all) {
        steps_[k].push_back(t);
        neurons_[k].push_back(static_cast<std::int64_t>(i));
      }
    }
  }

  /// Everything collected goes to the Observer (emptied first: a refused batch is not retried).
  void flush(Observer& obs) {
    ObserverEngineSide side(obs);
    for (std::size_t k = 0; k < pops_.size(); ++k) {
      std::vector<std::int64_t> steps = std::move(steps_[k]), neurons = std::move(neurons_[k]);
      steps_[k].clear();
      neurons_[k].clear();
      side.append_spikes(k, steps.data(), neurons.data(), static_cast<std::int64_t>(steps.size()));
    }
  }

 private:
  std::vector<CpuPopulation<T>*> pops_;
  std::vector<std::vector<std::int64_t>> steps_, neurons_;
};

}  // namespace qifsim::detail
