// host/cpu/spike_events.hpp - a CPU run's spike events (RunOptions::record_spikes): after each
// step, the spike lists of the recorded populations (SpikeLists::all, ascending) become
// (step, neuron) pairs (an ensemble's (step, member, neuron)), held until the run hands its
// next batch of samples to the Observer, or until many are held or flush_seconds have passed
// (HeldSpikes::flush_if_due).
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/engine.hpp"
#include "core/engine_layout.hpp"
#include "core/observer_engine_side.hpp"
#include "cpu/cpu_population.hpp"

namespace qifsim::detail {

/// Spike events of the recorded populations not handed to the Observer yet.
class HeldSpikes {
 public:
  /// `pops` recorded populations; `members`: an ensemble's events, with the member of each.
  HeldSpikes(std::size_t pops, bool members) : members_(members), events_(pops) {}

  /// The neurons in `spiked` (ascending) fired in step t: events of recorded population k
  /// (of member `member` in an ensemble).
  void add(std::size_t k, std::int64_t t, const std::vector<long>& spiked, std::int64_t member = 0) {
    Events& e = events_[k];
    for (long i : spiked) {
      e.steps.push_back(t);
      if (members_) e.members.push_back(member);
      e.neurons.push_back(static_cast<std::int64_t>(i));
    }
    held_ += static_cast<std::int64_t>(spiked.size());
  }

  /// Hand the events over without waiting for a batch of samples once many are held (at most
  /// kHeld of them, 16 or 24 bytes each) or, with flush_seconds, once that long has passed since
  /// the last hand-over (the clock read every 1024 steps): a run that samples rarely, or only
  /// records spikes, holds no more than that, and its files stay current.
  void flush_if_due(Observer& obs, std::int64_t t, double flush_seconds) {
    const bool many = held_ >= kHeld;
    const bool late = flush_seconds > 0.0 && held_ > 0 && (t & 1023) == 0 &&
                      std::chrono::duration<double>(Clock::now() - last_flush_).count() >= flush_seconds;
    if (many || late) flush(obs);
  }

  /// Everything collected goes to the Observer (emptied first: a refused batch is not retried).
  void flush(Observer& obs) {
    held_ = 0;
    last_flush_ = Clock::now();
    ObserverEngineSide side(obs);
    for (std::size_t k = 0; k < events_.size(); ++k) {
      const Events e = std::move(events_[k]);
      events_[k] = Events{};
      side.append_spikes(k, e.steps.data(), e.neurons.data(), static_cast<std::int64_t>(e.steps.size()),
                         members_ ? e.members.data() : nullptr);
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::int64_t kHeld = std::int64_t{1} << 16;
  struct Events {
    std::vector<std::int64_t> steps, members, neurons;
  };
  bool members_;
  std::vector<Events> events_;  // per recorded population
  std::int64_t held_ = 0;       // events collected since the last hand-over
  Clock::time_point last_flush_ = Clock::now();
};

/// One engine's recorded populations, marked for this run so that their loops list their
/// spikes, and their events.
template <class T>
class SpikeEvents {
 public:
  /// Marks the plan's populations so that their loops list their spikes, for this run only.
  SpikeEvents(const RunPlan& plan, std::vector<CpuPopulation<T>>& pops, const EngineLayout& layout)
      : held_(plan.spike_nodes.size(), false) {
    for (int node : plan.spike_nodes) {
      CpuPopulation<T>& p = pops[static_cast<std::size_t>(layout.slots[static_cast<std::size_t>(node)].index)];
      p.record_spikes = true;
      pops_.push_back(&p);
    }
  }
  ~SpikeEvents() {
    for (CpuPopulation<T>* p : pops_) p->record_spikes = false;
  }
  SpikeEvents(const SpikeEvents&) = delete;
  SpikeEvents& operator=(const SpikeEvents&) = delete;

  /// The spikes of step t (the populations' lists of the step just taken).
  void collect(std::int64_t t) {
    for (std::size_t k = 0; k < pops_.size(); ++k) held_.add(k, t, pops_[k]->spikes.all);
  }
  void flush_if_due(Observer& obs, std::int64_t t, double flush_seconds) { held_.flush_if_due(obs, t, flush_seconds); }
  void flush(Observer& obs) { held_.flush(obs); }

 private:
  std::vector<CpuPopulation<T>*> pops_;
  HeldSpikes held_;
};

}  // namespace qifsim::detail
