// src/api/c_api.cpp - the C API: a handle around RunConfig, status codes, thread-local errors.
//
// Every entry point runs its body inside guard(), which turns any exception into a status
// code and a message for qifsim_last_error(); no exception leaves this file.
#include "qifsim/qifsim.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <optional>
#include <sstream>
#include <string>

#include "core/memory_check.hpp"
#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"

struct qifsim_sim {
  qifsim::RunConfig cfg;  // network, run options, inputs (config only), output folder, formats
  bool keep_in_memory = true;
  std::optional<qifsim::Observer> last;  // the last run's recording
  mutable qifsim::detail::CallOwner owner;  // one thread at a time (see qifsim.h)
};

namespace {

thread_local std::string g_last_error;

template <class F>
int guard(const char* fn, F&& body) {
  try {
    body();
    return QIFSIM_OK;
  } catch (const qifsim::ConfigError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_CONFIG;
  } catch (const qifsim::GraphError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_GRAPH;
  } catch (const qifsim::DivergenceError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_DIVERGED;
  } catch (const qifsim::MemoryBudgetError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_MEMORY;
  } catch (const qifsim::BusyError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_BUSY;
  } catch (const qifsim::IoError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_IO;
  } catch (const qifsim::BackendError& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_BACKEND;
  } catch (const qifsim::InvalidArgument& e) {
    g_last_error = e.what();
    return QIFSIM_ERR_ARGUMENT;
  } catch (const std::bad_alloc&) {
    g_last_error = std::string(fn) + ": out of memory";
    return QIFSIM_ERR_MEMORY;
  } catch (const std::exception& e) {
    g_last_error = std::string(fn) + ": " + e.what();
    return QIFSIM_ERR_INTERNAL;
  } catch (...) {
    g_last_error = std::string(fn) + ": unknown error";
    return QIFSIM_ERR_INTERNAL;
  }
}

/// Holds a handle for one call: a call from a second thread meanwhile is QIFSIM_ERR_BUSY.
class Hold {
 public:
  Hold(const qifsim_sim* sim, const char* fn) : owner_(sim->owner) {
    owner_.enter(fn, "this qifsim_sim handle");
  }
  ~Hold() { owner_.leave(); }
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;

 private:
  qifsim::detail::CallOwner& owner_;
};

/// memcpy of n items that is also defined for n = 0 (an empty vector's data() may be NULL).
template <class T>
void copy_out(T* dst, const T* src, std::size_t n) {
  if (n > 0) std::memcpy(dst, src, n * sizeof(T));
}

[[noreturn]] void bad(const char* fn, const std::string& what) {
  throw qifsim::InvalidArgument(std::string(fn) + ": " + what);
}

void need(const void* p, const char* fn, const char* what) {
  if (!p) bad(fn, std::string(what) + " is NULL");
}

std::string str(const char* s, const char* fn, const char* what) {
  need(s, fn, what);
  return s;
}

void need_capacity(int64_t have, int64_t want, const char* fn) {
  if (have < want) {
    bad(fn, "the buffer holds " + std::to_string(have) + " values; " + std::to_string(want) + " are needed");
  }
}

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

int create(qifsim_sim** out, const char* fn, qifsim::RunConfig cfg, bool from_config) {
  return guard(fn, [&] {
    need(out, fn, "out");
    *out = nullptr;
    auto* sim = new qifsim_sim{std::move(cfg), true, std::nullopt, {}};
    if (!from_config) {
      sim->cfg.formats.clear();
      sim->cfg.options.progress = qifsim::Progress::Off;
    }
    *out = sim;
  });
}

// Run the config's inputs, or the caller's (read in place, not copied), into sim->last:
// after a failed run (a divergence, say) it holds the samples recorded before the failure.
void run(qifsim_sim* sim, const qifsim::MatrixView* inputs) {
  sim->last.reset();
  sim->last.emplace(qifsim::config_observer(sim->cfg, sim->keep_in_memory));
  qifsim::run_config_into(sim->cfg, inputs ? *inputs : qifsim::MatrixView(sim->cfg.inputs), *sim->last);
}

// qifsim_get_var (RectiPy's view) and qifsim_get_next_state (the state now).
int copy_var(const qifsim_sim* sim, const char* fn, const char* node, const char* var, double* out, int64_t capacity,
             int64_t* count, bool next) {
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const std::string label = str(node, fn, "node");
    const std::string name = str(var, fn, "var");
    // Every variable has one value per unit: the size is known before anything is copied.
    const int64_t n = sim->cfg.network.node_size(label);
    if (!out) {
      if (capacity > 0) bad(fn, "out is NULL");
      const auto names = sim->cfg.network.var_names(label);  // a size query: the name only
      if (std::find(names.begin(), names.end(), name) == names.end()) sim->cfg.network.get_var(label, name);
      if (count) *count = n;
      return;
    }
    need_capacity(capacity, n, fn);
    const std::vector<double> v = next ? sim->cfg.network.next_state(label, name) : sim->cfg.network.get_var(label, name);
    if (count) *count = static_cast<int64_t>(v.size());
    copy_out(out, v.data(), v.size());
  });
}

}  // namespace

extern "C" {

const char* qifsim_version(void) { return QIFSIM_VERSION_STRING; }
const char* qifsim_last_error(void) { return g_last_error.c_str(); }

const char* qifsim_status_name(int status) {
  switch (status) {
    case QIFSIM_OK: return "ok";
    case QIFSIM_ERR_ARGUMENT: return "invalid argument";
    case QIFSIM_ERR_CONFIG: return "config error";
    case QIFSIM_ERR_GRAPH: return "graph error";
    case QIFSIM_ERR_MEMORY: return "memory error";
    case QIFSIM_ERR_IO: return "i/o error";
    case QIFSIM_ERR_BACKEND: return "backend error";
    case QIFSIM_ERR_INTERNAL: return "internal error";
    case QIFSIM_ERR_BUSY: return "busy";
    case QIFSIM_ERR_DIVERGED: return "diverged";
    default: return "unknown status";
  }
}

int qifsim_has_feature(const char* name) {
  if (!name) return 0;
  const std::string n(name);
  if (n == "toml") return qifsim::config_supported() ? 1 : 0;
  if (n == "hdf5") return qifsim::hdf5_supported() ? 1 : 0;
  return 0;
}

int qifsim_load_config(const char* path, qifsim_sim** out) {
  const char* fn = "qifsim_load_config";
  qifsim::RunConfig cfg;
  const int rc = guard(fn, [&] { cfg = qifsim::load_config(str(path, fn, "path")); });
  if (rc != QIFSIM_OK) {
    if (out) *out = nullptr;
    return rc;
  }
  return create(out, fn, std::move(cfg), true);
}

int qifsim_parse_config(const char* toml_text, const char* base_dir, qifsim_sim** out) {
  const char* fn = "qifsim_parse_config";
  qifsim::RunConfig cfg;
  const int rc = guard(fn, [&] { cfg = qifsim::parse_config(str(toml_text, fn, "toml_text"), base_dir ? base_dir : "."); });
  if (rc != QIFSIM_OK) {
    if (out) *out = nullptr;
    return rc;
  }
  return create(out, fn, std::move(cfg), true);
}

int qifsim_create(double dt, const char* backend, const char* precision, qifsim_sim** out) {
  const char* fn = "qifsim_create";
  qifsim::RunConfig cfg;
  const int rc = guard(fn, [&] {
    // "cuda:N" picks GPU N.
    std::string name = backend ? backend : "auto";
    int gpu = 0;
    if (name.rfind("cuda:", 0) == 0 && name.size() > 5 && name.size() <= 9 &&
        name.find_first_not_of("0123456789", 5) == std::string::npos) {
      gpu = std::stoi(name.substr(5));
      name = "cuda";
    }
    cfg.network = qifsim::Network(dt, qifsim::parse_backend(name), qifsim::parse_precision(precision ? precision : "float64"));
    cfg.network.set_cuda_device(gpu);
  });
  if (rc != QIFSIM_OK) {
    if (out) *out = nullptr;
    return rc;
  }
  return create(out, fn, std::move(cfg), false);
}

int qifsim_add_population(qifsim_sim* sim, const char* name, int64_t n, const double* weights, int adaptation) {
  const char* fn = "qifsim_add_population";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const std::string label = str(name, fn, "name");
    if (n <= 0) bad(fn, "n = " + std::to_string(n) + " must be > 0");
    qifsim::QifPopulation pop;
    pop.n = n;
    if (weights) {
      // Checked before the caller's n x n values are touched: the product must fit, and the
      // copy must fit in memory.
      const int64_t count = qifsim::detail::checked_product(n, n, std::string(fn) + ": weights of '" + label + "'");
      qifsim::detail::require_host_bytes(static_cast<double>(count) * sizeof(double),
                                         std::string(fn) + ": a copy of the weights of '" + label + "' (" +
                                             std::to_string(n) + " x " + std::to_string(n) + ")");
      pop.weights = qifsim::Matrix(n, n, std::vector<double>(weights, weights + count));
    }
    pop.adaptation = adaptation != 0;
    sim->cfg.network.add_population(label, std::move(pop));
  });
}

int qifsim_add_function(qifsim_sim* sim, const char* name, int64_t size, const char* activation) {
  const char* fn = "qifsim_add_function";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    sim->cfg.network.add_function(str(name, fn, "name"), size,
                                  qifsim::parse_activation(activation ? activation : "identity"));
  });
}

int qifsim_add_edge(qifsim_sim* sim, const char* source, const char* target, const double* weights, int64_t rows,
                    int64_t cols) {
  const char* fn = "qifsim_add_edge";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(weights, fn, "weights");
    const std::string from = str(source, fn, "source");
    const std::string to = str(target, fn, "target");
    // The shape must be the nodes' before the caller's rows x cols values are read.
    const int64_t want_rows = sim->cfg.network.node_size(to);
    const int64_t want_cols = sim->cfg.network.node_size(from);
    if (rows != want_rows || cols != want_cols) {
      bad(fn, "weights are " + std::to_string(rows) + " x " + std::to_string(cols) + "; the edge '" + from +
                  "' -> '" + to + "' needs " + std::to_string(want_rows) + " x " + std::to_string(want_cols) +
                  " (target size x source size)");
    }
    const int64_t count = qifsim::detail::checked_product(rows, cols, std::string(fn) + ": weights");
    qifsim::detail::require_host_bytes(static_cast<double>(count) * sizeof(double),
                                       std::string(fn) + ": a copy of the weights of '" + from + "' -> '" + to + "'");
    sim->cfg.network.add_edge(from, to, qifsim::Matrix(rows, cols, std::vector<double>(weights, weights + count)));
  });
}

int qifsim_compile(qifsim_sim* sim) {
  return guard("qifsim_compile", [&] {
    need(sim, "qifsim_compile", "sim");
    const Hold hold(sim, "qifsim_compile");
    sim->cfg.network.compile();
  });
}

void qifsim_destroy(qifsim_sim* sim) { delete sim; }

int qifsim_input_width(const qifsim_sim* sim, int64_t* width) {
  const char* fn = "qifsim_input_width";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(width, fn, "width");
    *width = sim->cfg.network.input_width();
  });
}

int qifsim_output_width(const qifsim_sim* sim, int64_t* width) {
  const char* fn = "qifsim_output_width";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(width, fn, "width");
    *width = sim->cfg.network.output_width();
  });
}

int qifsim_node_size(const qifsim_sim* sim, const char* node, int64_t* size) {
  const char* fn = "qifsim_node_size";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(size, fn, "size");
    *size = sim->cfg.network.node_size(str(node, fn, "node"));
  });
}

int qifsim_config_steps(const qifsim_sim* sim, int64_t* steps) {
  const char* fn = "qifsim_config_steps";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(steps, fn, "steps");
    *steps = sim->cfg.inputs.rows;
  });
}

int qifsim_forward(qifsim_sim* sim, const double* x, double* y) {
  const char* fn = "qifsim_forward";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(x, fn, "x");
    need(y, fn, "y");
    if (!sim->cfg.network.compiled()) bad(fn, "call qifsim_compile first");
    sim->cfg.network.forward(x, y);
  });
}

int qifsim_get_var(const qifsim_sim* sim, const char* node, const char* var, double* out, int64_t capacity,
                   int64_t* count) {
  return copy_var(sim, "qifsim_get_var", node, var, out, capacity, count, false);
}

int qifsim_get_next_state(const qifsim_sim* sim, const char* node, const char* var, double* out, int64_t capacity,
                          int64_t* count) {
  return copy_var(sim, "qifsim_get_next_state", node, var, out, capacity, count, true);
}

int qifsim_set_var(qifsim_sim* sim, const char* node, const char* var, const double* values, int64_t count) {
  const char* fn = "qifsim_set_var";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    need(values, fn, "values");
    const std::string label = str(node, fn, "node");
    const int64_t size = sim->cfg.network.node_size(label);
    if (count != 1 && count != size) {
      bad(fn, "count = " + std::to_string(count) + ": '" + label + "' takes 1 value or " + std::to_string(size) +
                  " (one per unit)");
    }
    sim->cfg.network.set_var(label, str(var, fn, "var"), std::vector<double>(values, values + count));
  });
}

int qifsim_reset(qifsim_sim* sim) {
  return guard("qifsim_reset", [&] {
    need(sim, "qifsim_reset", "sim");
    const Hold hold(sim, "qifsim_reset");
    sim->cfg.network.reset();
  });
}

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

int qifsim_clear_record_vars(qifsim_sim* sim) {
  return guard("qifsim_clear_record_vars", [&] {
    need(sim, "qifsim_clear_record_vars", "sim");
    const Hold hold(sim, "qifsim_clear_record_vars");
    sim->cfg.options.record_vars.clear();
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
    if (sim->cfg.inputs.rows == 0) bad(fn, "this network was not made from a config; use qifsim_run");
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
