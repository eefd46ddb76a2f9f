// host/api/c_api_run.cpp - the C API: run settings, runs, and the last run's recording.
#include "api/c_api_support.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>

#include "core/memory_check.hpp"

using namespace qifsim::c_api_detail;

namespace {

std::vector<std::string> split_formats(const char* formats) {
  std::vector<std::string> out;
  if (!formats) return out;
  std::stringstream ss(formats);
  for (std::string f; std::getline(ss, f, ',');) {
    const auto b = f.find_first_not_of(" \t");
    const auto e = f.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(f.substr(b, e - b + 1));
  }
  return out;
}

const qifsim::Observer& last_run(const qifsim_sim* sim, const char* fn) {
  need(sim, fn, "sim");
  const Hold hold(sim, fn);
  if (!sim->last) bad(fn, "no run yet: call qifsim_run or qifsim_run_config first");
  return *sim->last;
}

// Run the config's inputs, or the caller's (read in place, not copied), into sim->last:
// after a failed run (a divergence, say) it holds the samples recorded before the failure.
void run(qifsim_sim* sim, const qifsim::MatrixView* inputs) {
  sim->last.reset();
  sim->last.emplace(qifsim::config_observer(sim->cfg, sim->keep_in_memory));
  if (inputs) {
    qifsim::run_config_into(sim->cfg, *inputs, *sim->last);
  } else {
    qifsim::run_config_into(sim->cfg, *sim->last);
  }
}

}  // namespace

extern "C" {

int qifsim_set_sampling(qifsim_sim* sim, int64_t sampling_steps, int64_t cutoff) {
  const char* fn = "qifsim_set_sampling";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    if (sampling_steps < 1) bad(fn, "sampling_steps = " + std::to_string(sampling_steps) + " must be >= 1");
    if (cutoff < 0) bad(fn, "cutoff = " + std::to_string(cutoff) + " must be >= 0");
    sim->cfg.options.sampling_steps = sampling_steps;
    sim->cfg.options.cutoff = cutoff;
  });
}

int qifsim_set_record_output(qifsim_sim* sim, int on) {
  return guard("qifsim_set_record_output", [&] {
    need(sim, "qifsim_set_record_output", "sim");
    const Hold hold(sim, "qifsim_set_record_output");
    sim->cfg.options.record_output = on != 0;
  });
}

int qifsim_add_record_var(qifsim_sim* sim, const char* node, const char* var, int mean) {
  const char* fn = "qifsim_add_record_var";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    qifsim::RecordVar rv{str(node, fn, "node"), str(var, fn, "var"), mean != 0};
    sim->cfg.network.get_var(rv.node, rv.var);  // names a node and a variable
    for (const auto& other : sim->cfg.options.record_vars) {
      if (other.node == rv.node && other.var == rv.var) bad(fn, "'" + rv.node + "." + rv.var + "' is recorded already");
    }
    sim->cfg.options.record_vars.push_back(rv);
  });
}

int qifsim_add_record_neurons(qifsim_sim* sim, const char* node, const char* var, const int64_t* neurons,
                              int64_t count) {
  const char* fn = "qifsim_add_record_neurons";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(neurons, fn, "neurons");
    if (count <= 0) bad(fn, "count = " + std::to_string(count) + " must be > 0 (qifsim_add_record_var records every neuron)");
    qifsim::RecordVar rv{str(node, fn, "node"), str(var, fn, "var"), false,
                         std::vector<std::int64_t>(neurons, neurons + count)};
    sim->cfg.network.check_record_var(rv);  // a node's state variable, each neuron of it once
    for (const auto& other : sim->cfg.options.record_vars) {
      if (other.node == rv.node && other.var == rv.var) bad(fn, "'" + rv.node + "." + rv.var + "' is recorded already");
    }
    sim->cfg.options.record_vars.push_back(rv);
  });
}

int qifsim_clear_record_vars(qifsim_sim* sim) {
  return guard("qifsim_clear_record_vars", [&] {
    need(sim, "qifsim_clear_record_vars", "sim");
    const Hold hold(sim, "qifsim_clear_record_vars");
    sim->cfg.options.record_vars.clear();
  });
}

int qifsim_add_record_spikes(qifsim_sim* sim, const char* population) {
  const char* fn = "qifsim_add_record_spikes";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const std::string pop = str(population, fn, "population");
    sim->cfg.network.check_record_spikes(pop);
    for (const auto& other : sim->cfg.options.record_spikes) {
      if (other == pop) bad(fn, "the spikes of '" + pop + "' are recorded already");
    }
    sim->cfg.options.record_spikes.push_back(pop);
  });
}

int qifsim_clear_record_spikes(qifsim_sim* sim) {
  return guard("qifsim_clear_record_spikes", [&] {
    need(sim, "qifsim_clear_record_spikes", "sim");
    const Hold hold(sim, "qifsim_clear_record_spikes");
    sim->cfg.options.record_spikes.clear();
  });
}

int qifsim_set_coupling(qifsim_sim* sim, const char* mode, int64_t resync) {
  const char* fn = "qifsim_set_coupling";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const qifsim::CouplingMode m = qifsim::parse_coupling(str(mode, fn, "mode"));
    if (resync < 0) bad(fn, "resync = " + std::to_string(resync) + " must be >= 0 (0: 1000)");
    sim->cfg.options.coupling = m;
    sim->cfg.options.resync = resync;
    sim->cfg.options.event_coupling = 0;
  });
}

int qifsim_add_sweep_key(qifsim_sim* sim, const char* key, const double* values, int64_t count, int64_t width) {
  const char* fn = "qifsim_add_sweep_key";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(values, fn, "values");
    if (count < 1 || width < 1 || count > (int64_t{1} << 40) / width) {
      bad(fn, "count = " + std::to_string(count) + " and width = " + std::to_string(width) + " must be >= 1");
    }
    qifsim::SweepKey k;
    k.key = str(key, fn, "key");
    for (int64_t i = 0; i < count; ++i) k.values.push_back(qifsim::SweepValue{{values + i * width, values + (i + 1) * width}});
    qifsim::Sweep alone;  // the key and its values refused here; how keys combine, at the run
    alone.mode = qifsim::SweepMode::Grid;
    alone.keys.push_back(k);
    sim->cfg.network.check_sweep(alone);
    sim->cfg.options.sweep.keys.push_back(std::move(k));
  });
}

int qifsim_set_sweep_mode(qifsim_sim* sim, const char* mode) {
  const char* fn = "qifsim_set_sweep_mode";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    sim->cfg.options.sweep.mode = qifsim::parse_sweep_mode(str(mode, fn, "mode"));
  });
}

int qifsim_clear_sweep(qifsim_sim* sim) {
  return guard("qifsim_clear_sweep", [&] {
    need(sim, "qifsim_clear_sweep", "sim");
    const Hold hold(sim, "qifsim_clear_sweep");
    sim->cfg.options.sweep = qifsim::Sweep{};
  });
}

int qifsim_members(const qifsim_sim* sim, int64_t* members) {
  const char* fn = "qifsim_members";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(members, fn, "members");
    *members = last_run(sim, fn).members();
  });
}

int qifsim_set_progress(qifsim_sim* sim, int mode) {
  const char* fn = "qifsim_set_progress";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    if (mode < -1 || mode > 1) bad(fn, "mode must be 0 (off), 1 (on) or -1 (automatic)");
    sim->cfg.options.progress = mode == 0 ? qifsim::Progress::Off : mode == 1 ? qifsim::Progress::On : qifsim::Progress::Auto;
  });
}

int qifsim_set_output(qifsim_sim* sim, const char* out_dir, const char* formats, int keep_in_memory) {
  const char* fn = "qifsim_set_output";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    std::vector<std::string> f = split_formats(formats);
    const auto known = qifsim::file_formats();
    for (const auto& x : f) {
      if (x != "h5" && std::find(known.begin(), known.end(), x) == known.end()) {
        bad(fn, "unknown format '" + x + "' (formats: npy, hdf5, csv)");
      }
    }
    if (!f.empty() && (!out_dir || !*out_dir)) bad(fn, "out_dir is empty");
    if (f.empty() && keep_in_memory == 0) bad(fn, "keep_in_memory = 0 without files would keep nothing");
    sim->cfg.out_dir = out_dir ? out_dir : "";
    sim->cfg.formats = std::move(f);
    sim->keep_in_memory = keep_in_memory != 0;
  });
}

int qifsim_run(qifsim_sim* sim, const double* inputs, int64_t steps, int64_t width) {
  const char* fn = "qifsim_run";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(inputs, fn, "inputs");
    if (steps <= 0 || width <= 0) bad(fn, "steps and width must be > 0");
    if (!sim->cfg.network.compiled()) bad(fn, "call qifsim_compile first");
    const int64_t m = sim->cfg.network.input_width();
    if (width != m) {
      bad(fn, "width = " + std::to_string(width) + ": the input node '" + sim->cfg.network.input_node() + "' takes " +
                  std::to_string(m) + " inputs per step");
    }
    qifsim::detail::checked_product(steps, width, std::string(fn) + ": inputs");
    const qifsim::MatrixView view(inputs, steps, width);
    run(sim, &view);
  });
}

int qifsim_run_config(qifsim_sim* sim) {
  const char* fn = "qifsim_run_config";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    if (sim->cfg.steps() == 0) bad(fn, "this network was not made from a config; use qifsim_run");
    run(sim, nullptr);
  });
}

int qifsim_samples(const qifsim_sim* sim, int64_t* samples) {
  const char* fn = "qifsim_samples";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(samples, fn, "samples");
    *samples = last_run(sim, fn).samples();
  });
}

int qifsim_series_count(const qifsim_sim* sim, int64_t* count) {
  const char* fn = "qifsim_series_count";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(count, fn, "count");
    *count = static_cast<int64_t>(last_run(sim, fn).keys().size());
  });
}

int qifsim_series_name(const qifsim_sim* sim, int64_t index, char* buf, int64_t capacity) {
  const char* fn = "qifsim_series_name";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(buf, fn, "buf");
    const auto keys = last_run(sim, fn).keys();
    if (index < 0 || index >= static_cast<int64_t>(keys.size())) {
      bad(fn, "index " + std::to_string(index) + " is out of range (" + std::to_string(keys.size()) + " series)");
    }
    const std::string& k = keys[static_cast<std::size_t>(index)];
    if (capacity < static_cast<int64_t>(k.size()) + 1) {
      bad(fn, "buf holds " + std::to_string(capacity) + " bytes; '" + k + "' needs " + std::to_string(k.size() + 1));
    }
    std::memcpy(buf, k.c_str(), k.size() + 1);
  });
}

int qifsim_series_width(const qifsim_sim* sim, const char* key, int64_t* width) {
  const char* fn = "qifsim_series_width";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(width, fn, "width");
    *width = last_run(sim, fn).width(str(key, fn, "key"));
  });
}

int qifsim_copy_series(const qifsim_sim* sim, const char* key, double* out, int64_t capacity) {
  const char* fn = "qifsim_copy_series";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(out, fn, "out");
    const qifsim::Matrix m = last_run(sim, fn).to_matrix(str(key, fn, "key"));
    need_capacity(capacity, static_cast<int64_t>(m.data.size()), fn);
    copy_out(out, m.data.data(), m.data.size());
  });
}

int qifsim_spike_count(const qifsim_sim* sim, const char* population, int64_t* count) {
  const char* fn = "qifsim_spike_count";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(count, fn, "count");
    *count = last_run(sim, fn).spike_count(str(population, fn, "population"));
  });
}

int qifsim_copy_spikes(const qifsim_sim* sim, const char* population, int64_t* steps, int64_t* neurons,
                       int64_t capacity) {
  const char* fn = "qifsim_copy_spikes";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const qifsim::Observer& obs = last_run(sim, fn);
    const std::string pop = str(population, fn, "population");
    const std::vector<std::int64_t>& s = obs.spike_steps(pop);
    need_capacity(capacity, static_cast<int64_t>(s.size()), fn);
    if (steps) copy_out(steps, s.data(), s.size());
    if (neurons) copy_out(neurons, obs.spike_neurons(pop).data(), s.size());
  });
}

int qifsim_copy_steps(const qifsim_sim* sim, int64_t* out, int64_t capacity) {
  const char* fn = "qifsim_copy_steps";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(out, fn, "out");
    const auto& steps = last_run(sim, fn).steps();
    need_capacity(capacity, static_cast<int64_t>(steps.size()), fn);
    copy_out(out, steps.data(), steps.size());
  });
}

int qifsim_copy_times(const qifsim_sim* sim, double* out, int64_t capacity) {
  const char* fn = "qifsim_copy_times";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(out, fn, "out");
    const std::vector<double> t = last_run(sim, fn).times();
    need_capacity(capacity, static_cast<int64_t>(t.size()), fn);
    copy_out(out, t.data(), t.size());
  });
}

int qifsim_save(const qifsim_sim* sim, const char* dir, const char* formats) {
  const char* fn = "qifsim_save";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const qifsim::Observer& obs = last_run(sim, fn);
    std::vector<std::string> f = split_formats(formats);
    if (f.empty()) bad(fn, "no formats given (npy, hdf5, csv)");
    qifsim::save_recording(obs, str(dir, fn, "dir"), f, sim->cfg.recording_info());
  });
}

}  // extern "C"
