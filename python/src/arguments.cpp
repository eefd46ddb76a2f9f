// python/src/arguments.cpp - what the bindings take from Python and give back (arguments.hpp).
#include "arguments.hpp"

#include <nanobind/stl/string.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/memory_check.hpp"  // the library's own check, before a large copy
#include "ctrl_c.hpp"
#include "model/qif_population.hpp"  // the QIF model's fields by name

namespace qifsim::python {

/// A NumPy array that owns `values` (moved, not copied).
Out1 to_numpy(std::vector<double>&& values) {
  auto* heap = new std::vector<double>(std::move(values));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  return Out1(heap->data(), {heap->size()}, owner);
}

OutInt1 to_numpy(std::vector<std::int64_t>&& values) {
  auto* heap = new std::vector<std::int64_t>(std::move(values));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<std::int64_t>*>(p); });
  return OutInt1(heap->data(), {heap->size()}, owner);
}

OutI32 to_numpy(std::vector<std::int32_t>&& values) {
  auto* heap = new std::vector<std::int32_t>(std::move(values));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<std::int32_t>*>(p); });
  return OutI32(heap->data(), {heap->size()}, owner);
}

std::vector<double> to_vector(const In1& a) { return std::vector<double>(a.data(), a.data() + a.shape(0)); }

/// A copy the engine keeps (weights); refused beforehand when the machine cannot hold it.
Matrix to_matrix(const In2& a, const std::string& what) {
  const auto rows = static_cast<std::int64_t>(a.shape(0));
  const auto cols = static_cast<std::int64_t>(a.shape(1));
  detail::require_host_bytes(static_cast<double>(a.size()) * sizeof(double), what);
  return Matrix(rows, cols, std::vector<double>(a.data(), a.data() + a.size()));
}

/// A sparse copy the engine keeps, from SciPy's CSR arrays (int64 indptr and indices, float64
/// data), refused beforehand when the machine cannot hold it. SparseMatrix::from_csr checks
/// the arrays and the values, sorts each row's columns and sums duplicates as SciPy does.
SparseMatrix to_sparse(std::int64_t rows, std::int64_t cols, const Index1& indptr, const Index1& indices,
                       const In1& data, const std::string& what) {
  detail::require_host_bytes(static_cast<double>(indptr.size() + indices.size() + data.size()) * 8.0, what);
  return SparseMatrix::from_csr(rows, cols, std::vector<std::int64_t>(indptr.data(), indptr.data() + indptr.size()),
                                std::vector<std::int64_t>(indices.data(), indices.data() + indices.size()),
                                std::vector<double>(data.data(), data.data() + data.size()), what);
}

/// A run's inputs (or targets) from Python: rows x cols, fetched piece by piece as the
/// run goes by calling `fetch(first, count)`, which returns a count x cols float64 array
/// (the Python layer slices and converts the caller's array). The engine works with the GIL
/// released; each fetch takes it for the copy, so no piece is read while Python code runs.
InputSource python_rows(std::int64_t rows, std::int64_t cols, nb::callable fetch, const char* what) {
  InputSource src;
  src.rows = rows;
  src.cols = cols;
  src.fetch = [fetch = std::move(fetch), cols, what](std::int64_t first, std::int64_t count, double* dst) {
    std::string error;
    {
      nb::gil_scoped_acquire gil;
      try {
        nb::object piece = fetch(first, count);
        In2 a;
        if (!nb::try_cast(piece, a) || static_cast<std::int64_t>(a.shape(0)) != count ||
            static_cast<std::int64_t>(a.shape(1)) != cols) {
          error = std::string(what) + " rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                  " did not arrive as a " + std::to_string(count) + " x " + std::to_string(cols) + " float64 array";
        } else {
          std::copy(a.data(), a.data() + a.size(), dst);
        }
      } catch (const nb::python_error& e) {
        // The Python exception stays on this side of the GIL; its message travels.
        error = std::string("reading ") + what + " rows " + std::to_string(first) + ".." +
                std::to_string(first + count) + " failed: " + e.what();
      }
    }
    if (!error.empty()) throw InvalidArgument(error);
  };
  return src;
}

/// A capsule that keeps a sink block alive for as long as a NumPy array views it.
nb::capsule keep_alive(const std::shared_ptr<const void>& owner) {
  auto* heap = new std::shared_ptr<const void>(owner);
  return nb::capsule(heap, [](void* p) noexcept { delete static_cast<std::shared_ptr<const void>*>(p); });
}

Progress parse_progress(const std::string& name) {
  if (name == "auto") return Progress::Auto;
  if (name == "on") return Progress::On;
  if (name == "off") return Progress::Off;
  throw InvalidArgument("progress '" + name + "' is unknown (use 'auto', 'on' or 'off')");
}


std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", bytes, units[u]);
  return buf;
}

static void set_population_param(QifPopulation& pop, const std::string& key, std::vector<double> values) {
  // The model's fields by name, from its declaration (host/model/qif_population.hpp).
  static const std::map<std::string, Param QifPopulation::*> fields = [] {
    std::map<std::string, Param QifPopulation::*> m;
    for (std::size_t i = 0; i < qifsim::model::kQifFieldCount; ++i) {
      const auto f = qifsim::model::qif_field(i);
      m.emplace(f.name, f.member);
    }
    return m;
  }();
  const auto it = fields.find(key);
  if (it == fields.end()) {
    std::string names;
    for (const auto& f : fields) names += (names.empty() ? "" : ", ") + f.first;
    throw InvalidArgument("add_population: unknown parameter '" + key + "' (parameters: " + names + ")");
  }
  pop.*(it->second) = Param(std::move(values));
}

/// A population of another model without its weights, from the Python layer's values.
NeuronPopulation make_model_population(const std::string& model, std::int64_t n,
                                       const std::map<std::string, In1>& values, const std::string& output_var) {
  NeuronPopulation pop;
  pop.model = model;
  pop.n = n;
  for (const auto& [key, v] : values) pop.values.emplace(key, Param(to_vector(v)));
  pop.output_var = output_var;
  return pop;
}

/// A population without its weights, from the Python layer's parameters.
QifPopulation make_population(std::int64_t n, const std::map<std::string, In1>& params, bool adaptation,
                              const std::string& output_var) {
  QifPopulation pop;
  pop.n = n;
  for (const auto& [key, values] : params) set_population_param(pop, key, to_vector(values));
  pop.adaptation = adaptation;
  pop.output_var = output_var;
  return pop;
}

/// Run options shared by run() and test().
Subnormals parse_subnormals(const std::string& name) {
  if (name == "auto") return Subnormals::Auto;
  if (name == "keep") return Subnormals::Keep;
  if (name == "flush") return Subnormals::Flush;
  throw InvalidArgument("subnormals='" + name + "' is unknown (use 'auto', 'keep' or 'flush')");
}

Sweep make_sweep(const SweepArgs& args) {
  const auto& [keys, values, labels, mode] = args;
  Sweep sweep;
  if (keys.empty()) return sweep;
  sweep.mode = parse_sweep_mode(mode);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    SweepKey key;
    key.key = keys[k];
    for (std::size_t i = 0; i < values.at(k).size(); ++i) {
      const std::string label = k < labels.size() && i < labels[k].size() ? labels[k][i] : std::string();
      key.values.push_back(SweepValue{values[k][i], label});
    }
    sweep.keys.push_back(std::move(key));
  }
  return sweep;
}

RunOptions make_options(std::int64_t sampling_steps, std::int64_t cutoff, const std::string& progress,
                        std::size_t memory_budget, std::int64_t batch_samples, bool cuda_graphs,
                        std::int64_t event_coupling, const std::string& subnormals, const std::string& coupling,
                        std::int64_t resync, bool reproducible) {
  RunOptions opt;
  opt.sampling_steps = sampling_steps;
  opt.cutoff = cutoff;
  opt.progress = parse_progress(progress);
  opt.memory_budget = memory_budget;
  opt.batch_samples = batch_samples;
  opt.cuda_graphs = cuda_graphs;
  opt.event_coupling = event_coupling;
  opt.subnormals = parse_subnormals(subnormals);
  opt.coupling = parse_coupling(coupling);
  opt.resync = resync;
  opt.reproducible = reproducible;
  return opt;
}

/// After a run that Ctrl-C stopped: KeyboardInterrupt, saying how to go on (GIL held).
[[noreturn]] void raise_interrupted(const Network& net, std::int64_t steps) {
  const std::string msg = "qifsim: run interrupted before step " + std::to_string(net.resume_step()) + " of " +
                          std::to_string(steps) + "; the samples so far are in this exception's .observer "
                          "(except KeyboardInterrupt as e: obs = e.observer); run(inputs, obs=obs, resume=True) "
                          "with the same inputs continues";
  raise_keyboard_interrupt(msg);
}

/// Before a run into `into`: reserve the samples it will add in the sink (one allocation,
/// no growth) and check them against the memory budget, which C++ cannot see because the
/// values live in the sink. C++ then checks the rest (step indices, ring buffer) against
/// what is left. Returns the budget to restore afterwards. Does nothing (and lets the run
/// refuse with C++'s own message) when the arguments are not valid.
std::size_t prepare_sink(const Network& net, std::int64_t steps, std::int64_t cols, const RunOptions& opt,
                         PyObserver& into) {
  const std::size_t budget = opt.memory_budget > 0 ? opt.memory_budget : into.obs.memory_budget();
  if (!net.compiled() || steps <= 0 || cols != net.input_width() || opt.sampling_steps < 1 ||
      opt.cutoff < 0 || opt.cutoff >= steps) {
    return into.obs.memory_budget();
  }
  std::vector<std::int64_t> widths;
  const RecordSpec& spec = into.obs.spec();
  try {
    if (spec.output) widths.push_back(net.output_width());
    if (spec.loss) widths.push_back(1);
    for (const auto& v : spec.vars) widths.push_back(v.mean ? 1 : net.node_size(v.node));
  } catch (const Error&) {
    return into.obs.memory_budget();  // unknown node: run() says so in its own words
  }
  std::int64_t row = 0;
  for (auto& w : widths) row += (w *= spec.members);
  const std::int64_t held = into.sink->samples();
  const std::int64_t first = opt.resume ? net.resume_step() : 0;
  const std::int64_t more =
      sample_count(steps, opt.sampling_steps, opt.cutoff) - sample_count(first, opt.sampling_steps, opt.cutoff);
  const double need = static_cast<double>(held + more) * static_cast<double>(row) * sizeof(double);
  if (need > static_cast<double>(budget)) {
    throw MemoryBudgetError("recording needs " + format_bytes(need) + " (" + std::to_string(held + more) +
                            " samples x " + std::to_string(row) + " values x 8 bytes) but the memory budget is " +
                            format_bytes(static_cast<double>(budget)) +
                            "; record fewer or neuron-averaged variables, raise sampling_steps, or raise "
                            "the budget (memory_budget=...)");
  }
  into.sink->reserve(held + more, widths);
  const std::size_t saved = into.obs.memory_budget();
  into.obs.set_memory_budget(budget - static_cast<std::size_t>(need));
  return saved;
}

}  // namespace qifsim::python
