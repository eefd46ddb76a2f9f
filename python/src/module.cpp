// python/src/module.cpp - qifsim._qifsim: the C++ Network and Observer for Python (nanobind).
//
// A thin layer: NumPy arrays in and out, names as in C++. RectiPy's argument names and the
// template mapping live in Python (qifsim/network.py); the simulation is the C++ library's.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/memory_check.hpp"
#include "qifsim/generators.hpp"  // the library's own check, before a large copy
#include "arguments.hpp"
#include "ctrl_c.hpp"
#include "model/qif_population.hpp"  // the QIF model's fields by name
#include "numpy_sink.hpp"
#include "qifsim/config.hpp"
#include "qifsim/qifsim.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace qifsim::python {
namespace {

void raise_as(const char* name, const char* what) {
  try {
    nb::object cls = nb::module_::import_("qifsim.errors").attr(name);
    PyErr_SetString(cls.ptr(), what);
  } catch (const std::exception&) {
    PyErr_SetString(PyExc_RuntimeError, what);
  }
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const DivergenceError& e) {
    const std::string what = std::string(e.what()) + " (in this exception's .observer)";
    raise_as("DivergenceError", what.c_str());
  } catch (const BusyError& e) {
    raise_as("BusyError", e.what());
  } catch (const MemoryBudgetError& e) {
    raise_as("MemoryBudgetError", e.what());
  } catch (const InvalidArgument& e) {
    raise_as("InvalidArgument", e.what());
  } catch (const GraphError& e) {
    raise_as("GraphError", e.what());
  } catch (const IoError& e) {
    raise_as("IoError", e.what());
  } catch (const BackendError& e) {
    raise_as("BackendError", e.what());
  } catch (const Error& e) {
    raise_as("Error", e.what());
  }
}

/// Notices (the backend and coupling lines) of calls made in this thread are not shown
/// while > 0: run(verbose=False) and its kin (Notices in Python).
thread_local int t_quiet_notices = 0;

struct PyNotices {
  explicit PyNotices(bool shown) : show(shown) {}
  bool show;
};

/// A Ctrl-C span around a block of Python code (CtrlC in Python).
struct PyCtrlC {
  explicit PyCtrlC(std::string text) : message(std::move(text)) {}
  std::string message;
  std::unique_ptr<CtrlCSpan> span;
};

}  // namespace
}  // namespace qifsim::python

NB_MODULE(_qifsim, m) {
  using namespace qifsim;
  using namespace qifsim::python;
  m.doc() = "qifsim's C++ engine (Network, Observer) for Python; use the qifsim package's wrappers.";
  m.attr("__version__") = QIFSIM_VERSION_STRING;
  nb::register_exception_translator(translate);
  init_ctrl_c();
  // The library's notices on stderr, as by default, unless this thread asked for quiet. A
  // warning ("warning: ...") is a Python RuntimeWarning where this thread holds the GIL
  // (verbose=False does not silence it), else a line on stderr.
  set_log_handler([](const std::string& line) {
    constexpr char kWarning[] = "warning: ";
    if (line.rfind(kWarning, 0) == 0) {
      if (PyGILState_Check() == 1) {
        if (PyErr_WarnEx(PyExc_RuntimeWarning, line.c_str() + sizeof kWarning - 1, 1) != 0) {
          PyErr_Clear();  // warnings turned into errors cannot stop the C++ call that warned
          std::fprintf(stderr, "qifsim: %s\n", line.c_str());
        }
      } else {
        std::fprintf(stderr, "qifsim: %s\n", line.c_str());
      }
      return;
    }
    if (t_quiet_notices == 0) std::fprintf(stderr, "qifsim: %s\n", line.c_str());
  });

  m.def("built_with_cuda", &built_with_cuda, "True when this build contains the CUDA backend.");
  m.def(
      "cuda_device_status",
      [](int device) {
        const DeviceStatus s = cuda_device_status(device);
        return std::make_pair(s.usable, s.description);
      },
      "device"_a = 0, "(usable, description) of a GPU for the CUDA backend.");
  nb::class_<PyCtrlC>(m, "CtrlC",
                      "with CtrlC(message) as active: a Ctrl-C anywhere in the block stops a run in it at the next "
                      "step (KeyboardInterrupt from the run), or raises KeyboardInterrupt(message) as the block "
                      "ends; none reaches Python afterwards. Blocks nest; active is False outside Python's main "
                      "thread or under a SIGINT handler of the caller's.")
      .def(nb::init<std::string>(), "message"_a)
      .def("__enter__",
           [](PyCtrlC& c) {
             c.span = std::make_unique<CtrlCSpan>();
             return c.span->active();
           })
      .def(
          "__exit__",
          [](PyCtrlC& c, nb::handle type, nb::handle, nb::handle) {
            const bool unanswered = c.span && c.span->leave();
            c.span.reset();
            // With an exception on its way, a Ctrl-C goes with it.
            if (unanswered && type.is_none()) raise_keyboard_interrupt(c.message);
            return false;
          },
          "type"_a.none(), "value"_a.none(), "traceback"_a.none());
  nb::class_<PyNotices>(m, "Notices",
                        "with Notices(show): the library's notices (backend and coupling lines) of calls made in "
                        "this thread are shown on stderr unless show is False; blocks nest.")
      .def(nb::init<bool>(), "show"_a)
      .def("__enter__", [](PyNotices& n) { t_quiet_notices += n.show ? 0 : 1; })
      .def(
          "__exit__",
          [](PyNotices& n, nb::handle, nb::handle, nb::handle) {
            t_quiet_notices -= n.show ? 0 : 1;
            return false;
          },
          "type"_a.none(), "value"_a.none(), "traceback"_a.none());
  m.def("cuda_device_count", &cuda_device_count, "Number of usable CUDA devices.");
  m.def("default_memory_budget", &default_memory_budget,
        "Bytes a recording may take by default (half the machine's memory).");
  m.def("config_supported", &config_supported, "True when this build reads TOML configs.");
  m.def(
      "sweep_members",
      [](const SweepArgs& sweep) {
        const Sweep s = make_sweep(sweep);
        std::vector<std::vector<std::size_t>> at;
        for (std::int64_t b = 0; b < s.members(); ++b) at.push_back(s.member_values(b));
        return at;
      },
      "sweep"_a, "For each member of `sweep` ((keys, values, labels, mode)), the index of its value of each key.");
  // The config's sparse generators (qifsim/generators.hpp), as CSR arrays (indptr, indices,
  // values) moved into NumPy arrays (no copy). kind: "constant" (a), "uniform" (a, b = low,
  // high) or "normal" (a, b = mean, std).
  const auto distribution = [](const std::string& kind, double a, double b) {
    ValueDistribution d;
    d.kind = kind == "uniform" ? ValueDistribution::Kind::Uniform
             : kind == "normal" ? ValueDistribution::Kind::Normal
                                : ValueDistribution::Kind::Constant;
    d.a = a;
    d.b = b;
    return d;
  };
  const auto csr = [](SparseMatrix&& mat) {
    return nb::make_tuple(to_numpy(std::move(mat.indptr)), to_numpy(std::move(mat.indices)), to_numpy(std::move(mat.values)));
  };
  m.def(
      "sparse_matrix_csr",
      [distribution, csr](std::int64_t rows, std::int64_t cols, double p, const std::string& kind, double a, double b,
                          std::uint64_t seed) {
        SparseMatrix mat;
        {
          const nb::gil_scoped_release quiet;
          mat = sparse_matrix(rows, cols, p, distribution(kind, a, b), seed);
        }
        return csr(std::move(mat));
      },
      "rows"_a, "cols"_a, "p"_a, "kind"_a, "a"_a, "b"_a, "seed"_a);
  m.def(
      "fixed_indegree_csr",
      [distribution, csr](std::int64_t rows, std::int64_t cols, std::int64_t k, const std::string& kind, double a, double b,
                          std::uint64_t seed, bool autapses) {
        SparseMatrix mat;
        {
          const nb::gil_scoped_release quiet;
          mat = fixed_indegree(rows, cols, k, distribution(kind, a, b), seed, autapses);
        }
        return csr(std::move(mat));
      },
      "rows"_a, "cols"_a, "k"_a, "kind"_a, "a"_a, "b"_a, "seed"_a, "autapses"_a);
  m.def(
      "run_config",
      [](const std::string& config, const std::vector<std::string>& sets, const std::string& out_dir,
         const std::vector<std::string>& formats, bool set_formats, const std::string& resume, bool allow_changes,
         double checkpoint_seconds, double flush_seconds, const std::string& progress) {
        CtrlCSpan ctrl_c;  // from the start: a Ctrl-C while the config loads counts
        RunConfig cfg = resume.empty() ? load_config(config, sets) : resume_config(resume, config, sets);
        if (resume.empty()) {
          if (!out_dir.empty()) cfg.out_dir = out_dir;
          if (set_formats) cfg.formats = formats;
        }
        cfg.allow_changes = allow_changes;
        if (checkpoint_seconds >= 0) cfg.checkpoint_seconds = checkpoint_seconds;
        if (flush_seconds >= 0) cfg.options.flush_seconds = flush_seconds;
        cfg.options.progress = parse_progress(progress);
        cfg.options.stop = ctrl_c.flag();
        RunReport report;
        {
          nb::gil_scoped_release release;
          Observer obs = config_observer(cfg, /*keep_in_memory=*/cfg.formats.empty());
          report = run_config_into(cfg, obs);
        }
        if (ctrl_c.pending()) {
          ctrl_c.take();
          if (report.interrupted()) {
            raise_keyboard_interrupt("qifsim: run interrupted at step " + std::to_string(report.next_step) + " of " +
                                     std::to_string(cfg.steps()) + "; " + std::to_string(report.samples) +
                                     " samples are in '" + cfg.out_dir + "'; qifsim.run_config(resume='" +
                                     cfg.out_dir + "') continues it");
          }
          raise_keyboard_interrupt("qifsim: Ctrl-C as the run ended: it is complete, its " +
                                   std::to_string(report.samples) + " samples are in '" + cfg.out_dir + "'");
        }
        nb::dict out;
        out["out_dir"] = cfg.out_dir;
        out["files"] = report.files;
        out["samples"] = report.samples;
        out["steps"] = cfg.steps();
        out["first_step"] = report.first_step;
        out["next_step"] = report.next_step;
        out["checkpoint"] = report.checkpoint;
        out["changes"] = report.changes;
        return out;
      },
      "config"_a, "sets"_a, "out_dir"_a, "formats"_a, "set_formats"_a, "resume"_a, "allow_changes"_a,
      "checkpoint_seconds"_a, "flush_seconds"_a, "progress"_a,
      "Run a TOML config (or continue the run in the folder `resume`) into its output folder.");

  nb::class_<PyObserver>(m, "Observer",
                         "Recordings of a run or a hand-written loop, stored batch by batch in NumPy-shared blocks.")
      .def(
          "__init__",
          [](PyObserver* self, double dt, bool record_output, bool record_loss,
             const std::vector<std::tuple<std::string, std::string, bool, std::vector<std::int64_t>>>& record_vars,
             std::vector<std::string> record_spikes, std::int64_t members) {
            std::vector<RecordVar> vars;
            for (const auto& [node, var, mean, neurons] : record_vars) vars.push_back(RecordVar{node, var, mean, neurons});
            new (self) PyObserver(dt, record_output, record_loss, std::move(vars), std::move(record_spikes), members);
          },
          "dt"_a, "record_output"_a = true, "record_loss"_a = false, "record_vars"_a = nb::list(),
          "record_spikes"_a = nb::list(), "members"_a = 1)
      .def("member_stops",
           [](const PyObserver& o) {
             std::vector<std::tuple<std::int64_t, std::string, std::int64_t>> out;
             const auto& stops = o.obs.member_stops();
             for (std::size_t b = 0; b < stops.size(); ++b) {
               out.emplace_back(stops[b].step, stops[b].reason, o.obs.member_samples(static_cast<std::int64_t>(b)));
             }
             return out;
           },
           "Per member of a sweep: (the step it stopped at or -1, why, its samples before the stop).")
      .def_prop_ro("members", [](const PyObserver& o) { return o.obs.members(); },
                   "Members of a sweep (every series: samples x members x width); 1 for a single network.")
      .def_prop_ro("record_spikes", [](const PyObserver& o) { return o.obs.spec().spikes; })
      .def("record_var_neurons", [](const PyObserver& o) {
        std::vector<std::vector<std::int64_t>> out;
        for (const auto& v : o.obs.spec().vars) out.push_back(v.neurons);
        return out;
      }, "The chosen neurons of each recorded variable (empty: all).")
      .def(
          "spike_events",
          [](const PyObserver& o, const std::string& pop) {
            const auto& pops = o.obs.spec().spikes;
            const auto it = std::find(pops.begin(), pops.end(), pop);
            if (it == pops.end()) (void)o.obs.spike_count(pop);  // the Observer's message naming what was recorded
            auto [steps, neurons] = o.sink->spikes(static_cast<std::size_t>(it - pops.begin()));
            return nb::make_tuple(to_numpy(std::move(steps)), to_numpy(std::move(neurons)));
          },
          "population"_a, "(steps, neurons) of every spike of `population`, int64 copies.")
      .def(
          "spike_members",
          [](const PyObserver& o, const std::string& pop) {
            const auto& pops = o.obs.spec().spikes;
            const auto it = std::find(pops.begin(), pops.end(), pop);
            if (it == pops.end()) (void)o.obs.spike_count(pop);
            return to_numpy(o.sink->spike_members(static_cast<std::size_t>(it - pops.begin())));
          },
          "population"_a, "A sweep's: the member of every spike of `population` (int64 copy; empty otherwise).")
      .def(
          "record",
          [](PyObserver& o, std::int64_t step, const In1& output, double loss, const std::vector<In1>& vars) {
            std::vector<std::vector<double>> values;
            values.reserve(vars.size());
            for (const auto& v : vars) values.push_back(to_vector(v));
            o.obs.record(step, to_vector(output), loss, values);
          },
          "step"_a, "output"_a, "loss"_a, "vars"_a, "Store one sample as given (manual use).")
      .def_prop_ro("dt", [](const PyObserver& o) { return o.obs.dt(); })
      .def_prop_ro("samples", [](const PyObserver& o) { return o.sink->samples(); })
      .def_prop_ro("batches", [](const PyObserver& o) { return o.sink->batches(); },
                   "Batches received from the engine (or one per manual record()).")
      .def("keys", [](const PyObserver& o) { return o.sink->keys(); })
      .def("recorded_state_variables", [](const PyObserver& o) {
        std::vector<std::tuple<std::string, std::string, bool>> out;
        for (const auto& v : o.obs.spec().vars) out.emplace_back(v.node, v.var, v.mean);
        return out;
      })
      .def(
          "chosen_neurons",
          [](const PyObserver& o, const std::string& node, const std::string& var) {
            for (const auto& v : o.obs.spec().vars) {
              if (v.node == node && v.var == var) return v.neurons;
            }
            return std::vector<std::int64_t>{};
          },
          "node"_a, "var"_a, "The neurons recorded of node.var, in order (empty: all, or their mean).")
      .def_prop_ro("record_output", [](const PyObserver& o) { return o.obs.spec().output; })
      .def_prop_ro("record_loss", [](const PyObserver& o) { return o.obs.spec().loss; })
      .def(
          "series",
          [](const PyObserver& o, const std::string& key) {
            const auto& keys = o.sink->keys();
            const auto it = std::find(keys.begin(), keys.end(), key);
            if (it == keys.end()) {
              std::string names;
              for (const auto& k : keys) names += (names.empty() ? "" : ", ") + k;
              throw InvalidArgument("Observer: no series '" + key + "' was recorded (series: " +
                                    (names.empty() ? std::string("none") : names) + ")");
            }
            const SeriesView v = o.sink->series(static_cast<std::size_t>(it - keys.begin()));
            static const double empty = 0.0;
            if (!v.data) return View2(&empty, {0, static_cast<std::size_t>(v.width)}, nb::handle());
            return View2(v.data, {static_cast<std::size_t>(v.rows), static_cast<std::size_t>(v.width)},
                         keep_alive(v.owner));
          },
          "key"_a, "Samples x width, read-only, sharing the stored values (no copy).")
      .def_prop_ro(
          "steps",
          [](const PyObserver& o) {
            const SeriesView v = o.sink->steps();
            static const std::int64_t empty = 0;
            if (!v.data) return StepsView(&empty, {0}, nb::handle());
            return StepsView(v.data, {static_cast<std::size_t>(v.rows)}, keep_alive(v.owner));
          },
          nb::rv_policy::move, "Step index of every sample, read-only (no copy).")
      .def_prop_rw(
          "memory_budget", [](const PyObserver& o) { return o.obs.memory_budget(); },
          [](PyObserver& o, std::size_t bytes) { o.obs.set_memory_budget(bytes); })
      .def_prop_ro("bytes_held", [](const PyObserver& o) { return o.sink->bytes_held(); });

  nb::class_<Network>(m, "Network", "A compiled network of QIF populations and function nodes (C++ API names).")
      .def(
          "__init__",
          [](Network* self, double dt, const std::string& backend, const std::string& precision) {
            new (self) Network(dt, parse_backend(backend), parse_precision(precision));
          },
          "dt"_a = 1e-3, "backend"_a = "cpu", "precision"_a = "float64")
      .def(
          "add_population",
          [](Network& net, const std::string& name, std::int64_t n, const In2& weights,
             const std::map<std::string, In1>& params, bool adaptation, const std::string& output_var) {
            QifPopulation pop = make_population(n, params, adaptation, output_var);
            if (weights.size() > 0) pop.weights = to_matrix(weights, "add_population('" + name + "'): weights");
            net.add_population(name, std::move(pop));
          },
          "name"_a, "n"_a, "weights"_a, "params"_a, "adaptation"_a = false, "output_var"_a = "s")
      .def(
          "add_noise",
          [](Network& net, const std::string& node, const In1& sigma, std::uint64_t seed) {
            std::vector<double> values = to_vector(sigma);
            net.add_noise(node, NoiseInput{values.size() == 1 ? Param(values[0]) : Param(std::move(values)), seed});
          },
          "node"_a, "sigma"_a, "seed"_a = 0)
      .def(
          "add_poisson_input",
          [](Network& net, const std::string& node, double rate, double weight, std::int64_t sources, bool shared,
             std::uint64_t seed) { net.add_poisson_input(node, PoissonInput{rate, weight, sources, shared, seed}); },
          "node"_a, "rate"_a, "weight"_a, "sources"_a = 1, "shared"_a = false, "seed"_a = 0)
      .def(
          "add_population_csr",
          [](Network& net, const std::string& name, std::int64_t n, std::int64_t rows, std::int64_t cols,
             const Index1& indptr, const Index1& indices, const In1& data, const std::map<std::string, In1>& params,
             bool adaptation, const std::string& output_var) {
            QifPopulation pop = make_population(n, params, adaptation, output_var);
            pop.weights = to_sparse(rows, cols, indptr, indices, data, "population '" + name + "': sparse weights");
            net.add_population(name, std::move(pop));
          },
          "name"_a, "n"_a, "rows"_a, "cols"_a, "indptr"_a, "indices"_a, "data"_a, "params"_a, "adaptation"_a = false,
          "output_var"_a = "s",
          "A population whose weights J (rows x cols, N x N when valid) are SciPy's CSR arrays: int64 indptr and "
          "indices, float64 data (copied; unsorted columns sorted, duplicates summed).")
      .def(
          "add_population_all_to_all",
          [](Network& net, const std::string& name, std::int64_t n, double value,
             const std::map<std::string, In1>& params, bool adaptation, const std::string& output_var) {
            QifPopulation pop = make_population(n, params, adaptation, output_var);
            pop.weights = Weights::all_to_all(n, n, value);
            net.add_population(name, std::move(pop));
          },
          "name"_a, "n"_a, "value"_a, "params"_a, "adaptation"_a = false, "output_var"_a = "s",
          "A population whose weights J are all `value` (J_ij = value; no matrix stored).")
      .def(
          "add_model_population",
          [](Network& net, const std::string& name, const std::string& model, std::int64_t n, const In2& weights,
             const std::map<std::string, In1>& values, const std::string& output_var) {
            NeuronPopulation pop = make_model_population(model, n, values, output_var);
            if (weights.size() > 0) pop.weights = to_matrix(weights, "add_population('" + name + "'): weights");
            net.add_population(name, std::move(pop));
          },
          "name"_a, "model"_a, "n"_a, "weights"_a, "values"_a, "output_var"_a = "",
          "A population of another neuron model (lif, ik, iku, ik_biexp, tanh, sigmoid): parameters and initial "
          "values by name, RectiPy's defaults for the rest.")
      .def(
          "add_model_population_csr",
          [](Network& net, const std::string& name, const std::string& model, std::int64_t n, std::int64_t rows,
             std::int64_t cols, const Index1& indptr, const Index1& indices, const In1& data,
             const std::map<std::string, In1>& values, const std::string& output_var) {
            NeuronPopulation pop = make_model_population(model, n, values, output_var);
            pop.weights = to_sparse(rows, cols, indptr, indices, data, "population '" + name + "': sparse weights");
            net.add_population(name, std::move(pop));
          },
          "name"_a, "model"_a, "n"_a, "rows"_a, "cols"_a, "indptr"_a, "indices"_a, "data"_a, "values"_a,
          "output_var"_a = "", "add_model_population with SciPy's CSR arrays as the weights.")
      .def(
          "add_function",
          [](Network& net, const std::string& name, std::int64_t size, const std::string& activation) {
            net.add_function(name, size, parse_activation(activation));
          },
          "name"_a, "size"_a, "activation"_a)
      .def(
          "add_edge",
          [](Network& net, const std::string& source, const std::string& target, const In2& weights) {
            net.add_edge(source, target, to_matrix(weights, "add_edge('" + source + "', '" + target + "'): weights"));
          },
          "source"_a, "target"_a, "weights"_a)
      .def(
          "add_edge_with",
          [](Network& net, const std::string& source, const std::string& target, const In2& weights,
             std::vector<std::int64_t> delays, const In2& filter, bool rectipy_write) {
            const std::string who = "add_edge('" + source + "', '" + target + "')";
            EdgeOptions options;
            options.delays = std::move(delays);
            if (filter.size() > 0) options.filter = to_matrix(filter, who + ": filter_weights");
            options.rectipy_buffer_write = rectipy_write;
            net.add_edge(source, target, to_matrix(weights, who + ": weights"), std::move(options));
          },
          "source"_a, "target"_a, "weights"_a, "delays"_a, "filter"_a, "rectipy_write"_a,
          "An edge with RectiPy's delays (one per source unit) and/or filter (source x source; empty: none).")
      .def(
          "add_edge_csr",
          [](Network& net, const std::string& source, const std::string& target, std::int64_t rows, std::int64_t cols,
             const Index1& indptr, const Index1& indices, const In1& data) {
            net.add_edge(source, target,
                         to_sparse(rows, cols, indptr, indices, data,
                                   "edge '" + source + "' -> '" + target + "': sparse weights"));
          },
          "source"_a, "target"_a, "rows"_a, "cols"_a, "indptr"_a, "indices"_a, "data"_a,
          "An edge whose weights (target size x source size) are SciPy's CSR arrays, as add_population_csr takes.")
      .def("set_cuda_device", &Network::set_cuda_device, "device"_a)
      .def_prop_ro("cuda_device", &Network::cuda_device)
      .def("compile", &Network::compile)
      .def_prop_ro("compiled", &Network::compiled)
      .def_prop_ro("dt", &Network::dt)
      .def_prop_ro("precision", [](const Network& n) { return to_string(n.precision()); })
      .def_prop_ro("backend", [](const Network& n) { return to_string(n.backend()); })
      .def_prop_ro("input_node", [](const Network& n) { return n.input_node(); })
      .def_prop_ro("output_node", [](const Network& n) { return n.output_node(); })
      .def_prop_ro("input_width", &Network::input_width)
      .def_prop_ro("output_width", &Network::output_width)
      .def_prop_ro("step_count", &Network::step_count)
      .def("set_step_count", &Network::set_step_count, "steps"_a)
      .def_prop_ro(
          "coupling_choice", [](const Network& n) { return n.coupling_choice(); },
          "The coupling operators in use, one line (\"'pop': events over sparse (resync 1000)\"); empty before "
          "compile() and when no population is coupled.")
      .def("node_size", &Network::node_size, "node"_a)
      .def(
          "forward",
          [](Network& net, const In1& x) {
            if (!net.compiled()) throw InvalidArgument("Network::forward: call compile() first");
            if (static_cast<std::int64_t>(x.shape(0)) != net.input_width()) {
              throw InvalidArgument("Network::forward: input has " + std::to_string(x.shape(0)) +
                                    " values; the input node '" + net.input_node() + "' takes " +
                                    std::to_string(net.input_width()));
            }
            std::vector<double> y(static_cast<std::size_t>(net.output_width()));
            net.forward(x.data(), y.data());
            return to_numpy(std::move(y));
          },
          "x"_a, "One step; returns the output at the step's start.")
      .def(
          "get_var", [](const Network& net, const std::string& node, const std::string& var) {
            return to_numpy(net.get_var(node, var));
          },
          "node"_a, "var"_a, "RectiPy's view: after forward(x_t), a population's state at the start of step t.")
      .def(
          "next_state", [](const Network& net, const std::string& node, const std::string& var) {
            return to_numpy(net.next_state(node, var));
          },
          "node"_a, "var"_a, "The state the next step starts from.")
      .def(
          "set_var",
          [](Network& net, const std::string& node, const std::string& var, const In1& values) {
            net.set_var(node, var, to_vector(values));
          },
          "node"_a, "var"_a, "values"_a)
      .def(
          "reset",
          [](Network& net, const std::vector<std::tuple<std::string, std::string, In1>>& state) {
            if (state.empty()) {
              net.reset();
              return;
            }
            std::vector<VarValue> values;
            for (const auto& [node, var, v] : state) values.push_back(VarValue{node, var, to_vector(v)});
            net.reset(values);
          },
          "state"_a = nb::list(), "Back to the initial state, then set the given (node, var, values).")
      .def(
          "run",
          [](Network& net, std::int64_t rows, std::int64_t cols, nb::callable fetch, PyObserver& into,
             std::int64_t sampling_steps, std::int64_t cutoff, const std::string& progress, std::size_t memory_budget,
             std::int64_t batch_samples, bool cuda_graphs, bool resume, std::int64_t divergence_check_steps,
             std::int64_t event_coupling, const std::string& subnormals,
             const std::string& coupling, std::int64_t resync, bool reproducible, const SweepArgs& sweep) {
            const InputSource in = python_rows(rows, cols, std::move(fetch), "input");
            RunOptions opt = make_options(sampling_steps, cutoff, progress, memory_budget, batch_samples, cuda_graphs,
                                          event_coupling, subnormals, coupling, resync, reproducible);
            opt.resume = resume;
            opt.sweep = make_sweep(sweep);
            if (divergence_check_steps >= 0) opt.divergence_check_steps = divergence_check_steps;
            const ObserverHold hold(into);
            const std::size_t saved = prepare_sink(net, rows, cols, opt, into);
            struct Restore {
              Observer& obs;
              std::size_t budget;
              ~Restore() { obs.set_memory_budget(budget); }
            } restore{into.obs, saved};
            CtrlCSpan ctrl_c;
            opt.stop = ctrl_c.flag();
            {
              nb::gil_scoped_release release;
              net.run(in, opt, into.obs);
            }
            // A Ctrl-C after the last step: the run is complete; the caller's span answers it.
            if (ctrl_c.pending() && net.interrupted()) {
              ctrl_c.take();
              raise_interrupted(net, rows);
            }
          },
          "rows"_a, "cols"_a, "fetch"_a, "observer"_a, "sampling_steps"_a = 1, "cutoff"_a = 0,
          "progress"_a = "auto", "memory_budget"_a = 0, "batch_samples"_a = 0, "cuda_graphs"_a = true,
          "resume"_a = false, "divergence_check_steps"_a = -1, "event_coupling"_a = 0,
          "subnormals"_a = "auto", "coupling"_a = "auto", "resync"_a = 0, "reproducible"_a = false,
          "sweep"_a = SweepArgs{},
          "Run `rows` steps, their inputs fetched piece by piece by fetch(first, count) (a count x cols "
          "float64 array), appending the samples to `observer` batch by batch. `sweep`: (keys, values "
          "per key, labels per key, mode), an ensemble (RunOptions::sweep).")
      .def(
          "check_sweep", [](const Network& net, const SweepArgs& sweep) { net.check_sweep(make_sweep(sweep)); },
          "sweep"_a, "Raise what run() would refuse about `sweep` ((keys, values, labels, mode)).")
      .def_prop_ro("interrupted", &Network::interrupted)
      .def_prop_ro("resume_step", &Network::resume_step)
      .def(
          "test",
          [](Network& net, std::int64_t rows, std::int64_t cols, nb::callable fetch_inputs, std::int64_t target_cols,
             nb::callable fetch_targets, const std::string& loss, PyObserver& into, std::int64_t sampling_steps,
             std::int64_t cutoff, const std::string& progress, std::size_t memory_budget, std::int64_t batch_samples,
             bool cuda_graphs, std::int64_t event_coupling, const std::string& subnormals,
             const std::string& coupling, std::int64_t resync, bool reproducible) {
            const InputSource in = python_rows(rows, cols, std::move(fetch_inputs), "input");
            const InputSource tg = python_rows(rows, target_cols, std::move(fetch_targets), "target");
            RunOptions opt = make_options(sampling_steps, cutoff, progress, memory_budget, batch_samples, cuda_graphs,
                                          event_coupling, subnormals, coupling, resync, reproducible);
            // Recorded straight into the NumPy-backed observer, batch by batch, as run() does.
            const ObserverHold hold(into);
            const std::size_t saved = prepare_sink(net, rows, cols, opt, into);
            struct Restore {
              Observer& obs;
              std::size_t budget;
              ~Restore() { obs.set_memory_budget(budget); }
            } restore{into.obs, saved};
            double mean_loss = 0.0;
            {
              nb::gil_scoped_release release;
              mean_loss = net.test(in, tg, loss, opt, into.obs);
            }
            return mean_loss;
          },
          "rows"_a, "cols"_a, "fetch_inputs"_a, "target_cols"_a, "fetch_targets"_a, "loss"_a, "observer"_a,
          "sampling_steps"_a = 1, "cutoff"_a = 0, "progress"_a = "auto", "memory_budget"_a = 0, "batch_samples"_a = 0,
          "cuda_graphs"_a = true, "event_coupling"_a = 0, "subnormals"_a = "auto", "coupling"_a = "auto",
          "resync"_a = 0, "reproducible"_a = false,
          "Run and compare the output with targets, recording into `observer`; returns the mean per-step loss.");
}
