// host/api/observer_spikes.cpp - the Observer's spike events (RecordSpec::spikes): every spike
// of a recorded population as (step, neuron), appended step by step in order, held in memory
// and/or passed to the sinks, and kept in checkpoints.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "core/text.hpp"
#include "io/binary_io.hpp"
#include "io/npy_writer.hpp"
#include "io/output_files.hpp"
#include "io/spike_files.hpp"
#include "qifsim/error.hpp"
#include "qifsim/observer.hpp"

namespace qifsim {

const Observer::Spikes& Observer::spikes_of(const std::string& population, bool stored) const {
  for (std::size_t i = 0; i < spec_.spikes.size(); ++i) {
    if (spec_.spikes[i] != population) continue;
    const Spikes& e = spikes_[i];
    if (stored && !keep_in_memory_ && e.count > 0) {
      throw InvalidArgument("Observer: the spikes of '" + population +
                            "' went to the sinks only (set_keep_in_memory(false)); read them from there");
    }
    return e;
  }
  throw InvalidArgument("Observer: the spikes of '" + population + "' were not recorded (" +
                        (spec_.spikes.empty() ? std::string("no population's spikes were")
                                              : "spikes recorded: " + detail::join(spec_.spikes)) +
                        ")");
}

const std::vector<std::int64_t>& Observer::spike_steps(const std::string& population) const {
  return spikes_of(population, true).steps;
}

const std::vector<std::int64_t>& Observer::spike_neurons(const std::string& population) const {
  return spikes_of(population, true).neurons;
}

const std::vector<std::int64_t>& Observer::spike_members(const std::string& population) const {
  return spikes_of(population, true).members;
}

std::vector<double> Observer::spike_times(const std::string& population) const {
  const std::vector<std::int64_t>& steps = spike_steps(population);
  std::vector<double> t(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) t[i] = static_cast<double>(steps[i]) * dt_;
  return t;
}

std::int64_t Observer::spike_count(const std::string& population) const { return spikes_of(population, false).count; }

void Observer::append_spikes(std::size_t pop, const std::int64_t* steps, const std::int64_t* neurons,
                             std::int64_t count, const std::int64_t* members) {
  if (count <= 0) return;
  Spikes& e = spikes_.at(pop);
  const double per_spike = members != nullptr ? 24.0 : 16.0;
  if (keep_in_memory_) {
    // The samples this run has yet to append were counted against the budget before it began.
    const double need = static_cast<double>(bytes_held()) + per_spike * static_cast<double>(count) +
                        static_cast<double>(pending_samples_) * static_cast<double>(bytes_per_sample());
    if (need > static_cast<double>(budget_)) {
      throw MemoryBudgetError("recording the spikes of '" + spec_.spikes[pop] + "' needs " +
                              detail::format_bytes(need) + " (" + std::to_string(e.count + count) +
                              " spikes x 16 bytes, and the run's samples) but the memory budget is " +
                              detail::format_bytes(static_cast<double>(budget_)) + "; the " +
                              std::to_string(e.count) +
                              " spikes before these are kept. Raise the budget (RunOptions::memory_budget), "
                              "or write the recording to files only");
    }
  }
  for (const auto& sink : sinks_) {
    if (members != nullptr) {
      sink->write_member_spikes(*this, pop, count, steps, members, neurons);
    } else {
      sink->write_spikes(*this, pop, count, steps, neurons);
    }
  }
  if (keep_in_memory_) {
    e.steps.insert(e.steps.end(), steps, steps + count);
    e.neurons.insert(e.neurons.end(), neurons, neurons + count);
    if (members != nullptr) e.members.insert(e.members.end(), members, members + count);
  }
  e.count += count;
}

void Observer::save_spikes(const std::string& dir, const std::string& fmt, std::vector<std::string>& written) const {
  for (const std::string& pop : spec_.spikes) {
    const Spikes& e = spikes_of(pop, true);
    const std::string path = (std::filesystem::path(dir) / detail::spike_file_name(pop, fmt)).string();
    const bool ensemble = spec_.members > 1;  // rows (step, member, neuron)
    if (fmt == "npy") {
      std::vector<std::int64_t> rows;
      const auto count = static_cast<std::int64_t>(e.steps.size());
      const std::size_t w = detail::spike_rows(count, e.steps.data(), ensemble ? e.members.data() : nullptr,
                                               e.neurons.data(), rows);
      detail::write_npy(path, rows.data(), {count, static_cast<std::int64_t>(w)});
    } else {
      detail::OutputFile file = detail::create_output_file(path);
      std::fprintf(file.get(), ensemble ? "step,time,member,neuron\n" : "step,time,neuron\n");
      for (std::size_t k = 0; k < e.steps.size(); ++k) {
        std::fprintf(file.get(), "%lld,%.17g,", static_cast<long long>(e.steps[k]), static_cast<double>(e.steps[k]) * dt_);
        if (ensemble) std::fprintf(file.get(), "%lld,", static_cast<long long>(e.members[k]));
        std::fprintf(file.get(), "%lld\n", static_cast<long long>(e.neurons[k]));
      }
      detail::close_output_file(file, path);
    }
    written.push_back(path);
  }
}

void Observer::write_spike_state(std::ostream& out) const {
  if (!keep_in_memory_) {
    for (const Spikes& e : spikes_) {
      if (e.count > 0) throw InvalidArgument("Observer: spikes went to the sinks only; a checkpoint cannot hold them");
    }
  }
  detail::BinaryWriter w(out);
  w.pod<std::uint64_t>(spikes_.size());
  for (std::size_t i = 0; i < spikes_.size(); ++i) {
    w.str(spec_.spikes[i]);
    w.vec(spikes_[i].steps);
    w.vec(spikes_[i].neurons);
    if (spec_.members > 1) w.vec(spikes_[i].members);  // an ensemble's (never in a single network's)
  }
}

std::vector<Observer::Spikes> Observer::read_spike_state(std::istream& in, const std::string& source) const {
  detail::BinaryReader r(in, source);
  const auto count = r.pod<std::uint64_t>();
  if (count != spikes_.size()) {
    throw InvalidArgument(source + ": the saved observer records the spikes of " + std::to_string(count) +
                          " populations; this one of " + std::to_string(spikes_.size()));
  }
  std::vector<Spikes> loaded(spikes_.size());
  for (std::size_t i = 0; i < spikes_.size(); ++i) {
    const std::string name = r.str();
    if (name != spec_.spikes[i]) {
      throw InvalidArgument(source + ": saved spikes " + std::to_string(i) + " are of '" + name +
                            "', this observer's of '" + spec_.spikes[i] + "'");
    }
    Spikes& e = loaded[i];
    e.steps = r.vec<std::int64_t>();
    e.neurons = r.vec<std::int64_t>();
    if (spec_.members > 1) e.members = r.vec<std::int64_t>();
    if (e.steps.size() != e.neurons.size() || (spec_.members > 1 && e.members.size() != e.steps.size())) {
      r.fail("the spikes of '" + name + "' have unequal step, member and neuron counts");
    }
    // In order of step, then member (an ensemble's), then neuron.
    const auto key = [&e](std::size_t k) {
      return std::make_tuple(e.steps[k], e.members.empty() ? 0 : e.members[k], e.neurons[k]);
    };
    for (std::size_t k = 0; k < e.steps.size(); ++k) {
      const bool ordered = k == 0 || key(k) > key(k - 1);
      const bool member_ok = e.members.empty() || (e.members[k] >= 0 && e.members[k] < spec_.members);
      if (e.steps[k] < 0 || e.neurons[k] < 0 || !member_ok || !ordered) {
        r.fail("corrupt spike event " + std::to_string(k) + " of '" + name + "'");
      }
    }
    e.count = static_cast<std::int64_t>(e.steps.size());
  }
  return loaded;
}

}  // namespace qifsim
