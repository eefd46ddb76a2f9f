// host/api/c_api_network.cpp - the C API: status and errors, creating and building a network, its variables.
#include "api/c_api_support.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "core/memory_check.hpp"

namespace qifsim::c_api_detail {

thread_local std::string g_last_error;

}  // namespace qifsim::c_api_detail

using namespace qifsim::c_api_detail;

namespace {

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

namespace {

// CSR arrays from the caller: indptr's rows + 1 offsets are read first, then as many indices and
// values as its last offset says, once it is known to be a count that fits in memory.
qifsim::SparseMatrix csr_from_caller(const char* fn, const std::string& what, int64_t rows, int64_t cols,
                                     const int64_t* indptr, const int64_t* indices, const double* values) {
  need(indptr, fn, "indptr");
  if (rows < 0 || cols < 0) bad(fn, what + ": shape " + std::to_string(rows) + " x " + std::to_string(cols) + " is negative");
  // The row limit before indptr[rows] is read: a size past it cannot be the caller's array.
  constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();
  if (rows > kMaxDim || cols > kMaxDim) {
    bad(fn, what + ": shape " + std::to_string(rows) + " x " + std::to_string(cols) +
                " has more than 2^31 - 1 rows or columns");
  }
  const int64_t nnz = indptr[rows];
  if (nnz < 0) bad(fn, what + ": indptr[" + std::to_string(rows) + "] = " + std::to_string(nnz) + " is negative");
  if (nnz > 0) {
    need(indices, fn, "indices");
    need(values, fn, "values");
  }
  qifsim::detail::require_host_bytes(static_cast<double>(nnz) * 28.0 + static_cast<double>(rows) * 16.0,
                                     std::string(fn) + ": a copy of " + what + " (" + std::to_string(nnz) + " values)");
  const auto count = static_cast<std::size_t>(nnz);
  return qifsim::SparseMatrix::from_csr(rows, cols, std::vector<int64_t>(indptr, indptr + rows + 1),
                                        std::vector<int64_t>(indices, indices + count),
                                        std::vector<double>(values, values + count), std::string(fn) + ": " + what);
}

// A QIF population of n neurons with RectiPy's defaults and the weights `weights(fn, name)`
// makes (called once the handle, the name and n are checked).
template <class MakeWeights>
int add_population(qifsim_sim* sim, const char* fn, const char* name, int64_t n, int adaptation, MakeWeights weights) {
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const std::string label = str(name, fn, "name");
    if (n <= 0) bad(fn, "n = " + std::to_string(n) + " must be > 0");
    qifsim::QifPopulation pop;
    pop.n = n;
    pop.weights = weights(fn, label);
    pop.adaptation = adaptation != 0;
    sim->cfg.network.add_population(label, std::move(pop));
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
  return add_population(sim, "qifsim_add_population", name, n, adaptation,
                        [&](const char* fn, const std::string& label) -> qifsim::Weights {
                          if (!weights) return {};
                          // Checked before the caller's n x n values are touched: the product must
                          // fit, and the copy must fit in memory.
                          const int64_t count = qifsim::detail::checked_product(
                              n, n, std::string(fn) + ": weights of '" + label + "'");
                          qifsim::detail::require_host_bytes(
                              static_cast<double>(count) * sizeof(double),
                              std::string(fn) + ": a copy of the weights of '" + label + "' (" + std::to_string(n) +
                                  " x " + std::to_string(n) + ")");
                          return qifsim::Matrix(n, n, std::vector<double>(weights, weights + count));
                        });
}

int qifsim_add_model_population(qifsim_sim* sim, const char* name, const char* model, int64_t n,
                                const double* weights) {
  const char* fn = "qifsim_add_model_population";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    qifsim::NeuronPopulation pop;
    const std::string label = str(name, fn, "name");
    pop.model = str(model, fn, "model");
    if (n <= 0) bad(fn, "n = " + std::to_string(n) + " must be > 0");
    pop.n = n;
    if (weights) {
      const int64_t count = qifsim::detail::checked_product(n, n, std::string(fn) + ": weights of '" + label + "'");
      qifsim::detail::require_host_bytes(static_cast<double>(count) * sizeof(double),
                                         std::string(fn) + ": a copy of the weights of '" + label + "'");
      pop.weights = qifsim::Matrix(n, n, std::vector<double>(weights, weights + count));
    }
    sim->cfg.network.add_population(label, std::move(pop));
  });
}

int qifsim_add_population_csr(qifsim_sim* sim, const char* name, int64_t n, const int64_t* indptr,
                              const int64_t* indices, const double* values, int adaptation) {
  return add_population(sim, "qifsim_add_population_csr", name, n, adaptation,
                        [&](const char* fn, const std::string& label) -> qifsim::Weights {
                          return csr_from_caller(fn, "the weights of '" + label + "'", n, n, indptr, indices, values);
                        });
}

int qifsim_add_population_all_to_all(qifsim_sim* sim, const char* name, int64_t n, double value, int adaptation) {
  return add_population(sim, "qifsim_add_population_all_to_all", name, n, adaptation,
                        [&](const char*, const std::string&) { return qifsim::Weights::all_to_all(n, n, value); });
}

int qifsim_add_edge_csr(qifsim_sim* sim, const char* source, const char* target, int64_t rows, int64_t cols,
                        const int64_t* indptr, const int64_t* indices, const double* values) {
  const char* fn = "qifsim_add_edge_csr";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const std::string from = str(source, fn, "source");
    const std::string to = str(target, fn, "target");
    const int64_t want_rows = sim->cfg.network.node_size(to);
    const int64_t want_cols = sim->cfg.network.node_size(from);
    if (rows != want_rows || cols != want_cols) {
      bad(fn, "weights are " + std::to_string(rows) + " x " + std::to_string(cols) + "; the edge '" + from + "' -> '" + to +
                  "' needs " + std::to_string(want_rows) + " x " + std::to_string(want_cols) + " (target size x source size)");
    }
    sim->cfg.network.add_edge(from, to, csr_from_caller(fn, "the weights of '" + from + "' -> '" + to + "'", rows, cols,
                                                        indptr, indices, values));
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

int qifsim_add_noise(qifsim_sim* sim, const char* node, const double* sigma, int64_t count, uint64_t seed) {
  const char* fn = "qifsim_add_noise";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    const std::string name = str(node, fn, "node");
    need(sigma, fn, "sigma");
    const int64_t n = sim->cfg.network.node_size(name);
    if (count != 1 && count != n) {  // before the caller's values are read
      throw qifsim::InvalidArgument(std::string(fn) + ": count = " + std::to_string(count) + "; give 1 or one per neuron of '" +
                                    name + "' (" + std::to_string(n) + ")");
    }
    std::vector<double> values(sigma, sigma + count);
    sim->cfg.network.add_noise(name, qifsim::NoiseInput{count == 1 ? qifsim::Param(values[0]) : qifsim::Param(values), seed});
  });
}

int qifsim_add_poisson_input(qifsim_sim* sim, const char* node, double rate, double weight, int64_t sources, int shared,
                             uint64_t seed) {
  const char* fn = "qifsim_add_poisson_input";
  return guard(fn, [&] {
    need(sim, fn, "sim");
    const Hold hold(sim, fn);
    sim->cfg.network.add_poisson_input(str(node, fn, "node"), qifsim::PoissonInput{rate, weight, sources, shared != 0, seed});
  });
}

int qifsim_add_edge(qifsim_sim* sim, const char* source, const char* target, const double* weights, int64_t rows,
                    int64_t cols) {
  return qifsim_add_edge_options(sim, source, target, weights, rows, cols, nullptr, nullptr, nullptr);
}

int qifsim_add_edge_options(qifsim_sim* sim, const char* source, const char* target, const double* weights,
                            int64_t rows, int64_t cols, const int64_t* delays, const double* filter,
                            const double* mask) {
  const char* fn = delays || filter || mask ? "qifsim_add_edge_options" : "qifsim_add_edge";
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
    qifsim::EdgeOptions options;
    if (delays) options.delays.assign(delays, delays + cols);
    if (filter) {
      const int64_t square = qifsim::detail::checked_product(cols, cols, std::string(fn) + ": filter");
      options.filter = qifsim::Matrix(cols, cols, std::vector<double>(filter, filter + square));
    }
    if (mask) options.mask = qifsim::Matrix(rows, cols, std::vector<double>(mask, mask + count));
    sim->cfg.network.add_edge(from, to, qifsim::Matrix(rows, cols, std::vector<double>(weights, weights + count)),
                              std::move(options));
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
    *steps = sim->cfg.steps();
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

}  // extern "C"
