// host/config/config_schema.cpp - TOML config files: read, check every key, build the network and inputs.
//
// Every check happens here, before anything runs; a failure is a ConfigError whose message
// reads "<file>:<line>: <key>: <problem>" (the key as a path: population[0].eta). The reading
// layer is in toml_reader.cpp, parameters, weights and inputs in config_values.cpp.
#include "qifsim/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>

#include "io/input_files.hpp"
#include "io/output_files.hpp"
#include "core/coupling_choice.hpp"
#include "core/memory_check.hpp"
#include "core/text.hpp"
#include "model/qif_population.hpp"
#include "model/rectipy_models.hpp"
#include "qifsim/device.hpp"

#ifdef QIFSIM_HAVE_TOML
#include "config/config_values.hpp"
#include "config/toml_reader.hpp"
#endif

namespace qifsim {

#ifndef QIFSIM_HAVE_TOML

bool config_supported() { return false; }

RunConfig load_config(const std::string& path, const std::vector<std::string>&) {
  throw ConfigError(path + ": this qifsim build cannot read TOML configs (install libtomlplusplus-dev and rebuild)");
}
RunConfig parse_config(const std::string&, const std::string&, const std::string& name, const std::vector<std::string>&) {
  throw ConfigError(name + ": this qifsim build cannot read TOML configs (install libtomlplusplus-dev and rebuild)");
}

#else

// The reading layer and the values (toml_reader.hpp, config_values.hpp).
using namespace config_detail;

namespace {

namespace fs = std::filesystem;

// ---- the pieces of a config -------------------------------------------------------------

struct NodeSizes {
  std::vector<std::pair<std::string, std::int64_t>> items;
  std::int64_t find(const std::string& name) const {
    for (const auto& [n, s] : items) {
      if (n == name) return s;
    }
    return -1;
  }
  std::string names() const {
    std::vector<std::string> n;
    for (const auto& it : items) n.push_back(it.first);
    return n.empty() ? std::string("none") : detail::join(n);
  }
};

std::int64_t positive_integer(const TableReader& r, const std::string& k, const std::string& what) {
  auto v = r.integer(k);
  if (!v) r.missing(k, what);
  if (*v <= 0) fail(r.ctx(), r.get(k), r.key(k), "must be > 0, got " + std::to_string(*v));
  return *v;
}

// A population's N: the neurons' own state (13 values each, 4 bytes at the least, as
// engine_footprint counts them) must fit in the memory before weights are made for them.
std::int64_t population_size(const TableReader& r) {
  const std::int64_t n = positive_integer(r, "n", "the number of neurons N");
  const double bytes = 13.0 * 4.0 * static_cast<double>(n);
  const auto available = static_cast<double>(detail::available_host_memory());
  if (bytes > available) {
    fail(r.ctx(), r.get("n"), r.key("n"), "N = " + std::to_string(n) + " neurons need at least " +
                                               detail::format_bytes(bytes) + " for their state (13 values each in "
                                               "float32) but this machine has " + detail::format_bytes(available) +
                                               " of memory available");
  }
  return n;
}

// A [[population]] table's keys: its own, then the model's fields (model/qif.hpp, or the
// parameters and initial values of another model, `m`).
std::vector<std::string> population_keys(const model::ModelInfo* m) {
  std::vector<std::string> keys = {"name", "n", "weights", "output_var", "model", "sigma", "noise_seed", "poisson"};
  if (m != nullptr) {
    for (std::size_t i = 0; i < m->decl->param_count; ++i) keys.emplace_back(m->decl->params[i].name);
    for (std::size_t k = 0; k < m->decl->state_count; ++k) keys.emplace_back(m->decl->states[k].initial);
    return keys;
  }
  keys.emplace_back(model::kQif.feature);
  for (std::size_t i = 0; i < model::kQifFieldCount; ++i) keys.emplace_back(model::qif_field(i).name);
  return keys;
}

// A [[population]] of another model (model = "lif", ...): its parameters and initial values by
// name, RectiPy's defaults for the rest.
void read_model_population(const TableReader& r, const model::ModelInfo& m, Network& net, NodeSizes& sizes,
                           std::vector<std::string>& descriptions, std::vector<FingerprintEntry>& fp) {
  const model::ModelDecl& d = *m.decl;
  NeuronPopulation pop;
  pop.model = d.name;
  const std::string name = r.required_string("name", "the population's name");
  const std::int64_t n = population_size(r);
  pop.n = n;
  pop.weights = read_weights(r, "weights", n, n, "N x N, row i = weights onto neuron i");
  std::vector<std::pair<std::string, double>> fields;
  for (std::size_t i = 0; i < d.param_count; ++i) fields.emplace_back(d.params[i].name, d.params[i].fallback);
  for (std::size_t k = 0; k < d.state_count; ++k) fields.emplace_back(d.states[k].initial, d.states[k].fallback);
  const std::string at = r.path() + ".";
  fingerprint_text(fp, at + "name", name);
  fingerprint_text(fp, at + "model", d.name);
  fingerprint_values(fp, at + "n", {static_cast<double>(n)});
  fingerprint_weights(fp, at + "weights", pop.weights);
  for (const auto& [key, fallback] : fields) {
    Param value = read_param(r, key, n, Param(fallback));
    fingerprint_values(fp, at + key, value.values);
    pop.values.emplace(key, std::move(value));
  }
  pop.output_var = r.string("output_var").value_or(d.output);
  fingerprint_text(fp, at + "output_var", pop.output_var);
  const bool coupled = !pop.weights.empty();
  const std::string shape_text = coupled ? ", coupling " + detail::shape(n, n) : std::string(", no coupling");
  try {
    net.add_population(name, std::move(pop));
  } catch (const Error& e) {
    fail(r.ctx(), &r.table(), r.path() + " ('" + name + "')", e.what());
  }
  sizes.items.emplace_back(name, n);
  descriptions.push_back("'" + name + "': " + d.name + " population, N = " + std::to_string(n) + shape_text +
                         read_stochastic_input(r, name, n, net, fp));
}

// What a node can record: the variables of var_names() that run() records (states and the
// values of each step; not parameters).
std::string recordable_names(const Network& net, const std::string& node) {
  std::vector<std::string> names;
  for (const auto& v : net.var_names(node)) {
    try {
      net.check_record_var(RecordVar{node, v, false});
      names.push_back(v);
    } catch (const Error&) {
      // a parameter
    }
  }
  return detail::join(names, false);
}

void read_population(const TableReader& r, Network& net, NodeSizes& sizes, std::vector<std::string>& descriptions,
                     std::vector<FingerprintEntry>& fp) {
  QifPopulation pop;
  const std::string name = r.required_string("name", "the population's name");
  const std::int64_t n = population_size(r);
  const std::string who = r.path() + " ('" + name + "')";
  pop.n = n;
  pop.weights = read_weights(r, "weights", n, n, "N x N, row i = weights onto neuron i");
  pop.adaptation = r.boolean("adaptation").value_or(false);
  for (std::size_t i = 0; i < model::kQifFieldCount; ++i) {
    const model::QifField f = model::qif_field(i);
    pop.*f.member = read_param(r, f.name, n, pop.*f.member);
    if (!model::qif_field_present(f, pop.adaptation) && r.get(f.name)) {
      fail(r.ctx(), r.get(f.name), r.key(f.name),
           std::string("is an ") + f.feature + " parameter; set " + f.feature + " = true to use it");
    }
  }
  const std::string out = model::kQif.output, spiking = model::kQif.spike_var;
  pop.output_var = r.string("output_var").value_or(out);
  if (pop.output_var != out && pop.output_var != spiking) {
    fail(r.ctx(), r.get("output_var"), r.key("output_var"),
         "must be \"" + out + "\" or \"" + spiking + "\", got \"" + pop.output_var + "\"");
  }
  const bool coupled = !pop.weights.empty();
  const std::string weights_kind =
      pop.weights.kind() == Weights::Kind::Sparse     ? " sparse, " + std::to_string(pop.weights.synapses()) + " synapses"
      : pop.weights.kind() == Weights::Kind::AllToAll ? " all-to-all"
                                                      : " dense";
  const std::string at = r.path() + ".";
  fingerprint_text(fp, at + "name", name);
  fingerprint_values(fp, at + "n", {static_cast<double>(n)});
  fingerprint_weights(fp, at + "weights", pop.weights);
  for (std::size_t i = 0; i < model::kQifFieldCount; ++i) {
    const model::QifField f = model::qif_field(i);
    fingerprint_values(fp, at + f.name, (pop.*f.member).values);
  }
  fingerprint_text(fp, at + "adaptation", pop.adaptation ? "true" : "false");
  fingerprint_text(fp, at + "output_var", pop.output_var);
  try {
    net.add_population(name, std::move(pop));
  } catch (const Error& e) {
    fail(r.ctx(), &r.table(), who, e.what());
  }
  sizes.items.emplace_back(name, n);
  descriptions.push_back("'" + name + "': QIF population, N = " + std::to_string(n) +
                         (coupled ? ", coupling " + detail::shape(n, n) + weights_kind : std::string(", no coupling")) +
                         (r.boolean("adaptation").value_or(false) ? ", adaptation" : "") +
                         read_stochastic_input(r, name, n, net, fp));
}

void read_function(const TableReader& r, Network& net, NodeSizes& sizes, std::vector<std::string>& descriptions,
                   std::vector<FingerprintEntry>& fp) {
  const std::string name = r.required_string("name", "the node's name");
  const std::int64_t size = positive_integer(r, "size", "the number of units");
  const std::string act = r.string("activation").value_or("identity");
  Activation a;
  try {
    a = parse_activation(act);
  } catch (const Error& e) {
    fail(r.ctx(), r.get("activation"), r.key("activation"), e.what());
  }
  fingerprint_text(fp, r.path() + ".name", name);
  fingerprint_values(fp, r.path() + ".size", {static_cast<double>(size)});
  fingerprint_text(fp, r.path() + ".activation", act);
  try {
    net.add_function(name, size, a);
  } catch (const Error& e) {
    fail(r.ctx(), &r.table(), r.path() + " ('" + name + "')", e.what());
  }
  sizes.items.emplace_back(name, size);
  descriptions.push_back("'" + name + "': function node, " + std::to_string(size) + (size == 1 ? " unit, " : " units, ") + act);
}

void read_edge(const TableReader& r, Network& net, const NodeSizes& sizes, std::vector<FingerprintEntry>& fp) {
  const std::string source = r.required_string("source", "the name of the source node");
  const std::string target = r.required_string("target", "the name of the target node");
  const std::int64_t s = sizes.find(source);
  const std::int64_t t = sizes.find(target);
  if (s < 0) fail(r.ctx(), r.get("source"), r.key("source"), "unknown node '" + source + "' (nodes: " + sizes.names() + ")");
  if (t < 0) fail(r.ctx(), r.get("target"), r.key("target"), "unknown node '" + target + "' (nodes: " + sizes.names() + ")");
  if (!r.get("weights")) r.missing("weights", "a (" + std::to_string(t) + ", " + std::to_string(s) + ") matrix: target size x source size");
  Weights w = read_weights(r, "weights", t, s, "target size x source size, '" + target + "' x '" + source + "'");
  fingerprint_text(fp, r.path() + ".source", source);
  fingerprint_text(fp, r.path() + ".target", target);
  fingerprint_weights(fp, r.path() + ".weights", w);
  // RectiPy's other edge kinds: delays (steps, one per source unit or one for all), a filter
  // (source size x source size) and a mask (as the weights, taken as written).
  EdgeOptions options;
  if (r.get("delays")) {
    const Param d = read_param(r, "delays", s, Param());
    for (std::int64_t i = 0; i < s; ++i) {
      const double x = d.at(i);
      if (!(x >= 0.0) || x != std::floor(x) || x > 1e9) {
        fail(r.ctx(), r.get("delays"), r.key("delays"), "delays are whole numbers of steps >= 0; got " +
                                                           std::to_string(x) + " for source unit " + std::to_string(i));
      }
      options.delays.push_back(static_cast<std::int64_t>(x));
    }
    fingerprint_values(fp, r.path() + ".delays", d.values);
  }
  if (r.get("filter_weights")) {
    const Weights f = read_weights(r, "filter_weights", s, s, "source size x source size, '" + source + "' x '" + source + "'");
    fingerprint_weights(fp, r.path() + ".filter_weights", f);
    options.filter = f.to_dense();
  }
  if (r.get("mask")) {
    const Weights m = read_weights(r, "mask", t, s, "target size x source size, as the weights");
    fingerprint_weights(fp, r.path() + ".mask", m);
    options.mask = m.to_dense();
  }
  try {
    net.add_edge(source, target, std::move(w), std::move(options));
  } catch (const Error& e) {
    fail(r.ctx(), &r.table(), r.path(), e.what());
  }
}

void read_record(const TableReader& top, RunConfig& cfg, const NodeSizes& sizes, const std::string& default_dir) {
  cfg.out_dir = default_dir;
  cfg.formats = {"npy"};
  const toml::node* node = top.get("record");
  if (!node) return;
  if (!node->is_table()) top.wrong("record", *node, "a table [record]");
  TableReader r(top.ctx(), *node->as_table(), "record",
                {"output", "vars", "spikes", "sampling_steps", "cutoff", "out_dir", "formats", "batch_samples",
                 "allow_symlink", "flush_seconds", "checkpoint_seconds"});
  cfg.options.record_output = r.boolean("output").value_or(true);
  cfg.options.sampling_steps = r.integer("sampling_steps", 1);
  if (cfg.options.sampling_steps < 1) {
    fail(r.ctx(), r.get("sampling_steps"), r.key("sampling_steps"), "must be >= 1, got " + std::to_string(cfg.options.sampling_steps));
  }
  cfg.options.cutoff = r.integer("cutoff", 0);
  if (cfg.options.cutoff < 0 || cfg.options.cutoff >= cfg.steps()) {
    fail(r.ctx(), r.get("cutoff"), r.key("cutoff"), "= " + std::to_string(cfg.options.cutoff) + " must be in [0, steps = " +
                                                        std::to_string(cfg.steps()) + ") (a step count, not a time)");
  }
  cfg.options.batch_samples = r.integer("batch_samples", 0);
  if (cfg.options.batch_samples < 0) fail(r.ctx(), r.get("batch_samples"), r.key("batch_samples"), "must be >= 0");
  const double flush = r.number("flush_seconds", cfg.options.flush_seconds);
  if (!(flush >= 0.0 && flush <= 1e9)) {
    fail(r.ctx(), r.get("flush_seconds"), r.key("flush_seconds"), "must be in [0, 1e9] seconds (0: only when a batch is full)");
  }
  cfg.options.flush_seconds = flush;
  const double every = r.number("checkpoint_seconds", cfg.checkpoint_seconds);
  if (!(every >= 0.0 && every <= 1e9)) {
    fail(r.ctx(), r.get("checkpoint_seconds"), r.key("checkpoint_seconds"),
         "must be in [0, 1e9] seconds (0: a checkpoint only when the run is stopped)");
  }
  cfg.checkpoint_seconds = every;
  if (auto dir = r.string("out_dir")) cfg.out_dir = *dir;
  cfg.allow_symlink = r.boolean("allow_symlink").value_or(false);
  if (const toml::node* f = r.get("formats")) {
    if (!f->is_array()) r.wrong("formats", *f, "an array of strings, e.g. [\"npy\", \"hdf5\", \"csv\"]");
    cfg.formats.clear();
    const toml::array& a = *f->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string key = r.key("formats") + "[" + std::to_string(i) + "]";
      if (!a[i].is_string()) fail(r.ctx(), &a[i], key, std::string("expected a string, got ") + type_name(a[i]));
      const std::string fmt = a[i].as_string()->get();
      const auto known = file_formats();
      if (fmt != "h5" && std::find(known.begin(), known.end(), fmt) == known.end()) {
        fail(r.ctx(), &a[i], key, "unknown format '" + fmt + "' (formats: " + detail::join(known) + ")");
      }
      if ((fmt == "hdf5" || fmt == "h5") && !hdf5_supported()) {
        fail(r.ctx(), &a[i], key, "this qifsim build has no HDF5 support (install libhdf5-dev and rebuild)");
      }
      cfg.formats.push_back(fmt == "h5" ? "hdf5" : fmt);
    }
  }
  if (const toml::node* v = r.get("vars")) {
    const std::string shape_text =
        "[node, var], [node, var, mean] or [node, var, [neurons]], e.g. [\"qif\", \"v\", true] or [\"qif\", \"v\", [0, 5]]";
    if (!v->is_array()) r.wrong("vars", *v, "an array of " + shape_text);
    const toml::array& a = *v->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string key = r.key("vars") + "[" + std::to_string(i) + "]";
      const toml::array* e = a[i].as_array();
      if (!e || e->size() < 2 || e->size() > 3 || !(*e)[0].is_string() || !(*e)[1].is_string() ||
          (e->size() == 3 && !(*e)[2].is_boolean() && !(*e)[2].is_array())) {
        fail(r.ctx(), &a[i], key, "expected " + shape_text);
      }
      RecordVar rv{(*e)[0].as_string()->get(), (*e)[1].as_string()->get(),
                   e->size() == 3 && (*e)[2].is_boolean() && (*e)[2].as_boolean()->get()};
      if (e->size() == 3 && (*e)[2].is_array()) {  // chosen neurons
        const toml::array& list = *(*e)[2].as_array();
        if (list.empty()) fail(r.ctx(), &(*e)[2], key, "the list of neurons is empty (omit it to record every neuron)");
        for (std::size_t j = 0; j < list.size(); ++j) {
          if (!list[j].is_integer()) {
            fail(r.ctx(), &list[j], key + "[2][" + std::to_string(j) + "]",
                 std::string("expected a neuron index, got ") + type_name(list[j]));
          }
          rv.neurons.push_back(list[j].as_integer()->get());
        }
        const std::int64_t n = sizes.find(rv.node) >= 0 ? cfg.network.node_size(rv.node) : 0;
        std::vector<std::int64_t> sorted = rv.neurons;
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t j = 0; j < sorted.size() && n > 0; ++j) {
          if (sorted[j] < 0 || sorted[j] >= n) {
            fail(r.ctx(), &(*e)[2], key, "neuron " + std::to_string(sorted[j]) + " is not one of '" + rv.node + "''s " +
                                              std::to_string(n) + " (0 to " + std::to_string(n - 1) + ")");
          }
          if (j > 0 && sorted[j] == sorted[j - 1]) {
            fail(r.ctx(), &(*e)[2], key, "neuron " + std::to_string(sorted[j]) + " is listed twice");
          }
        }
      }
      if (sizes.find(rv.node) < 0) fail(r.ctx(), &a[i], key, "unknown node '" + rv.node + "' (nodes: " + sizes.names() + ")");
      try {
        cfg.network.get_var(rv.node, rv.var);  // the variable exists
      } catch (const Error& err) {
        fail(r.ctx(), &a[i], key, err.what());
      }
      try {
        cfg.network.check_record_var(rv);  // run() records it (state variables, not parameters)
      } catch (const Error&) {
        fail(r.ctx(), &a[i], key, "'" + rv.var + "' is a parameter; record a state variable of '" + rv.node +
                                      "' (" + recordable_names(cfg.network, rv.node) + ")");
      }
      for (const auto& other : cfg.options.record_vars) {
        if (other.node == rv.node && other.var == rv.var) fail(r.ctx(), &a[i], key, "'" + rv.node + "." + rv.var + "' is listed twice");
      }
      cfg.options.record_vars.push_back(rv);
    }
  }
  if (const toml::node* v = r.get("spikes")) {  // spike events: ["qif", ...]
    if (!v->is_array()) r.wrong("spikes", *v, "an array of population names, e.g. [\"qif\"]");
    const toml::array& a = *v->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string key = r.key("spikes") + "[" + std::to_string(i) + "]";
      if (!a[i].is_string()) fail(r.ctx(), &a[i], key, std::string("expected a population name, got ") + type_name(a[i]));
      const std::string pop = a[i].as_string()->get();
      if (sizes.find(pop) < 0) fail(r.ctx(), &a[i], key, "unknown node '" + pop + "' (nodes: " + sizes.names() + ")");
      try {
        cfg.network.check_record_spikes(pop);
      } catch (const Error& err) {
        fail(r.ctx(), &a[i], key, err.what());
      }
      for (const auto& other : cfg.options.record_spikes) {
        if (other == pop) fail(r.ctx(), &a[i], key, "'" + pop + "' is listed twice");
      }
      cfg.options.record_spikes.push_back(pop);
    }
  }
}

RunConfig build(const toml::table& root, const Ctx& ctx, const std::string& default_dir) {
  TableReader top(ctx, root, "",
                  {"description", "dt", "steps", "duration", "precision", "backend", "coupling", "resync", "event_coupling", "subnormals", "reproducible", "population", "function",
                   "edge", "input", "record", "sweep"});
  if (auto d = top.get("description"); d && !d->is_string()) top.wrong("description", *d, "a string");
  const double dt = top.number("dt", 1e-3);
  if (!(dt > 0)) fail(ctx, top.get("dt"), "dt", "must be > 0, got " + std::to_string(dt));
  Precision precision = Precision::Float64;
  Backend backend = Backend::Auto;
  try {
    if (auto p = top.string("precision")) precision = parse_precision(*p);
  } catch (const Error& e) {
    fail(ctx, top.get("precision"), "precision", e.what());
  }
  try {
    if (auto b = top.string("backend")) backend = parse_backend(*b);
  } catch (const Error& e) {
    fail(ctx, top.get("backend"), "backend", e.what());
  }
  std::optional<std::int64_t> steps = top.integer("steps");
  if (steps && *steps <= 0) fail(ctx, top.get("steps"), "steps", "must be > 0, got " + std::to_string(*steps));
  if (auto duration = top.number("duration")) {
    if (!(*duration > 0)) fail(ctx, top.get("duration"), "duration", "must be > 0");
    constexpr std::int64_t kMaxSteps = std::int64_t{1} << 53;  // steps whose times dt * t stay exact integers
    if (!(*duration / dt < static_cast<double>(kMaxSteps))) {
      std::ostringstream os;
      os << "= " << *duration << " is " << *duration / dt << " steps of dt = " << dt
         << "; at most 2^53 (about 9e15) steps can be run";
      fail(ctx, top.get("duration"), "duration", os.str());
    }
    const std::int64_t from_duration = std::llround(*duration / dt);
    if (steps && *steps != from_duration) {
      fail(ctx, top.get("duration"), "duration", "= " + std::to_string(*duration) + " gives " + std::to_string(from_duration) +
                                                      " steps but steps = " + std::to_string(*steps) + "; give one of them");
    }
    steps = std::max<std::int64_t>(1, from_duration);
  }

  const std::int64_t event_coupling = top.integer("event_coupling", 0);
  if (event_coupling < 0) {
    fail(ctx, top.get("event_coupling"), "event_coupling", "must be >= 0 (0: dense J s every step), got " +
                                                            std::to_string(event_coupling));
  }

  RunConfig cfg;
  cfg.network = Network(dt, backend, precision);
  cfg.options.event_coupling = event_coupling;
  try {
    if (auto c = top.string("coupling")) cfg.options.coupling = parse_coupling(*c);
  } catch (const Error& e) {
    fail(ctx, top.get("coupling"), "coupling", e.what());
  }
  cfg.options.resync = top.integer("resync", 0);
  if (cfg.options.resync < 0) {
    fail(ctx, top.get("resync"), "resync", "must be >= 0 (0: the default, 1000 steps), got " + std::to_string(cfg.options.resync));
  }
  if (event_coupling > 0 && top.get("coupling")) {
    fail(ctx, top.get("event_coupling"), "event_coupling", "is the former spelling of coupling = \"events\" with resync = R; give one of them");
  }
  if (auto sub = top.string("subnormals")) {
    if (*sub == "auto") cfg.options.subnormals = Subnormals::Auto;
    else if (*sub == "keep") cfg.options.subnormals = Subnormals::Keep;
    else if (*sub == "flush") cfg.options.subnormals = Subnormals::Flush;
    else fail(ctx, top.get("subnormals"), "subnormals", "'" + *sub + "' is unknown (use \"auto\", \"keep\" or \"flush\")");
  }
  cfg.options.reproducible = top.boolean("reproducible").value_or(false);
  NodeSizes sizes;
  const toml::array* pops = table_array(top, "population");
  const toml::array* funcs = table_array(top, "function");
  const toml::array* edges = table_array(top, "edge");
  if (!pops || pops->empty()) top.missing("population", "at least one [[population]] table");
  for (std::size_t i = 0; i < pops->size(); ++i) {
    const std::string path = "population[" + std::to_string(i) + "]";
    const toml::table& table = *(*pops)[i].as_table();
    const model::ModelInfo* m = nullptr;  // null: the QIF model
    if (const toml::node* mv = table.get("model")) {
      if (!mv->is_string()) fail(ctx, mv, path + ".model", "must be a string (qif, " + model::other_model_names() + ")");
      const std::string name = mv->as_string()->get();
      m = model::find_other_model(name);
      if (m == nullptr && name != "qif") {
        fail(ctx, mv, path + ".model", "'" + name + "' is unknown (models: qif, " + model::other_model_names() + ")" +
                                           (name == "qif_sfa" ? "; qif_sfa is model = \"qif\" with adaptation = true"
                                                              : std::string()));
      }
    }
    TableReader r(ctx, table, path, population_keys(m));
    if (m != nullptr) {
      read_model_population(r, *m, cfg.network, sizes, cfg.node_descriptions, cfg.fingerprint);
    } else {
      read_population(r, cfg.network, sizes, cfg.node_descriptions, cfg.fingerprint);
    }
  }
  for (std::size_t i = 0; funcs && i < funcs->size(); ++i) {
    TableReader r(ctx, *(*funcs)[i].as_table(), "function[" + std::to_string(i) + "]", {"name", "size", "activation"});
    read_function(r, cfg.network, sizes, cfg.node_descriptions, cfg.fingerprint);
  }
  for (std::size_t i = 0; edges && i < edges->size(); ++i) {
    TableReader r(ctx, *(*edges)[i].as_table(), "edge[" + std::to_string(i) + "]",
                  {"source", "target", "weights", "delays", "filter_weights", "mask"});
    read_edge(r, cfg.network, sizes, cfg.fingerprint);
  }
  if (backend == Backend::Cuda) {
    const DeviceStatus device = cuda_device_status();
    if (!device.usable) {
      fail(ctx, top.get("backend"), "backend",
           "'" + top.string("backend").value_or("cuda") + "' was asked for, but no GPU is usable (" +
               device.description + "); use backend = \"cpu\", or \"auto\" (the GPU where one is usable)");
    }
  }
  try {
    cfg.network.compile();
  } catch (const GraphError& e) {
    fail(ctx, nullptr, "", std::string(e.what()) +
                               (edges && !edges->empty()
                                    ? " (check the [[edge]] tables)"
                                    : " (this config has no [[edge]] tables: several nodes need [[edge]] tables that "
                                      "join them into one chain from the input node to the output node)"));
  } catch (const Error& e) {
    fail(ctx, nullptr, "", e.what());
  }
  // What run() would refuse about the coupling before its first step, refused here.
  {
    const CouplingMode coupling = detail::requested_coupling(cfg.options.coupling, event_coupling);
    try {
      cfg.network.check_coupling(coupling);
    } catch (const Error& e) {
      const char* key = event_coupling > 0 ? "event_coupling" : "coupling";
      fail(ctx, top.get(key), key, e.what());
    }
  }
  const std::int64_t m = cfg.network.input_width();
  ConfigInputs in = read_input(top, dt, steps, m, cfg.network.input_node());  // rows made when fetched
  cfg.computed_inputs = std::move(in.computed);
  cfg.input_description = std::move(in.description);
  const std::int64_t input_members = in.members;
  read_record(top, cfg, sizes, default_dir);
  cfg.options.sweep = read_sweep(top, cfg.network, cfg.fingerprint);
  if (input_members > 0 && (cfg.options.sweep.empty() || cfg.options.sweep.members() != input_members)) {
    const toml::node* file = top.get("input")->as_table()->get("file");
    fail(ctx, file, "input.file",
         "has a member axis of " + std::to_string(input_members) + " (steps x members x width) but the sweep has " +
             (cfg.options.sweep.empty() ? std::string("no [sweep]") : std::to_string(cfg.options.sweep.members()) + " members"));
  }
  return cfg;
}

RunConfig parse_impl(const std::string& text, const Ctx& ctx, const std::vector<std::string>& overrides,
                     const std::string& path, const std::string& default_dir) {
  check_toml_characters(text, ctx.name);
  toml::table root;
  try {
    root = toml::parse(text, ctx.name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(ctx.name + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + ": TOML syntax error: " +
                      std::string(e.description()));
  }
  for (const auto& o : overrides) apply_override(root, o);
  RunConfig cfg = build(root, ctx, default_dir);
  cfg.path = path;
  cfg.text = text;
  cfg.overrides = overrides;
  cfg.base_dir = ctx.base_dir;
  if (!path.empty()) cfg.input_files.push_back(path);
  for (const auto& f : *ctx.files_read) cfg.input_files.push_back(f);
  return cfg;
}

}  // namespace

bool config_supported() { return true; }

RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  // A config is text of a few KB: a FIFO, a device or a file of gigabytes is refused before
  // the first read (weights and inputs belong in .npy files).
  constexpr std::uint64_t kMaxConfigBytes = std::uint64_t{16} << 20;
  std::string text;
  try {
    text = detail::read_regular_file(path, "a config file", kMaxConfigBytes);
  } catch (const IoError& e) {
    std::error_code ec;
    throw ConfigError(std::string(e.what()) + (fs::exists(path, ec) ? "" : " (no such file)"));
  }
  std::stringstream buffer(text);
  Ctx ctx{path, fs::path(path).parent_path().string()};
  if (ctx.base_dir.empty()) ctx.base_dir = ".";
  return parse_impl(buffer.str(), ctx, overrides, path, fs::path(path).stem().string() + "_results");
}

RunConfig parse_config(const std::string& text, const std::string& base_dir, const std::string& name,
                       const std::vector<std::string>& overrides) {
  return parse_impl(text, Ctx{name, base_dir.empty() ? "." : base_dir}, overrides, "", "qifsim_results");
}

#endif  // QIFSIM_HAVE_TOML

}  // namespace qifsim
