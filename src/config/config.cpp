// src/config/config.cpp - TOML config files: read, check every key, build the network and inputs.
//
// Every check happens here, before anything runs; a failure is a ConfigError whose message
// reads "<file>:<line>: <key>: <problem>" (the key as a path: population[0].eta).
#include "qifsim/config.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "qifsim/generators.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/version.hpp"
#include "io/input_files.hpp"
#include "io/output_files.hpp"
#include "io/run_folder.hpp"
#include "core/text.hpp"
#include "model/qif_population.hpp"

#ifdef QIFSIM_HAVE_TOML
// toml++ is used header-only inside this file, so that neither libqifsim nor its users
// need the toml++ library at link or run time.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>
#endif

namespace qifsim {

RecordingInfo RunConfig::recording_info() const {
  RecordingInfo info;
  info.sampling_steps = options.sampling_steps;
  info.cutoff = options.cutoff;
  info.config_text = text;
  for (const auto& o : overrides) info.config_text += "\n# --set " + o;
  info.config_path = path;
  return info;
}

std::string RunConfig::summary() const {
  std::ostringstream os;
  os << "config   " << (path.empty() ? std::string("<string>") : path);
  for (const auto& o : overrides) os << " --set " << o;
  os << "\n";
  for (const auto& line : node_descriptions) os << "node     " << line << "\n";
  os << "network  input node '" << network.input_node() << "' (" << network.input_width() << " inputs), output node '"
     << network.output_node() << "' (" << network.output_width() << " outputs)\n";
  os << "run      " << steps() << " steps of dt = " << network.dt() << " (t = 0 .. " << static_cast<double>(steps()) * network.dt()
     << "), " << to_string(network.precision()) << " on " << to_string(network.backend()) << "\n";
  std::int64_t samples = 0;
  if (steps() > options.cutoff) {
    const std::int64_t first = (options.cutoff + options.sampling_steps - 1) / options.sampling_steps;
    samples = (steps() - 1) / options.sampling_steps - first + 1;
  }
  os << "record   ";
  std::vector<std::string> series;
  if (options.record_output) series.push_back("out (" + std::to_string(network.output_width()) + ")");
  for (const auto& v : options.record_vars) {
    series.push_back(v.node + "." + v.var + (v.mean ? " (mean)" : " (" + std::to_string(network.node_size(v.node)) + ")"));
  }
  os << (series.empty() ? std::string("nothing") : detail::join(series, false)) << "; sampling_steps " << options.sampling_steps
     << ", cutoff " << options.cutoff << " -> " << samples << " samples\n";
  os << "write    ";
  if (formats.empty()) os << "nothing (record.formats = [])\n";
  else os << detail::join(formats, false) << " to " << out_dir << "/\n";
  return os.str();
}

#ifndef QIFSIM_HAVE_TOML

bool config_supported() { return false; }

RunConfig load_config(const std::string& path, const std::vector<std::string>&) {
  throw ConfigError(path + ": this qifsim build cannot read TOML configs (install libtomlplusplus-dev and rebuild)");
}
RunConfig parse_config(const std::string&, const std::string&, const std::string& name, const std::vector<std::string>&) {
  throw ConfigError(name + ": this qifsim build cannot read TOML configs (install libtomlplusplus-dev and rebuild)");
}

#else

namespace {

namespace fs = std::filesystem;

struct Ctx {
  std::string name;      // the config's name in messages
  std::string base_dir;  // relative .npy paths resolve against it
  // The .npy files read (outputs may not replace them); shared by the copies of a Ctx.
  std::shared_ptr<std::vector<std::string>> files_read = std::make_shared<std::vector<std::string>>();
};

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::string location(const Ctx& ctx, const toml::node* n) {
  if (!n) return ctx.name;
  const auto& src = n->source();
  std::string file = ctx.name;
  if (src.path && !src.path->empty() && src.path->rfind("--set", 0) == 0) file = *src.path;
  if (src.begin.line == 0) return file + " (--set)";  // only --set values lack a position
  return file + ":" + std::to_string(src.begin.line);
}

[[noreturn]] void fail(const Ctx& ctx, const toml::node* n, const std::string& key, const std::string& msg) {
  throw ConfigError(location(ctx, n) + ": " + (key.empty() ? std::string() : key + ": ") + msg);
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

/// Reads one table: refuses unknown keys up front, then typed getters naming key and line.
class TableReader {
 public:
  TableReader(const Ctx& ctx, const toml::table& table, std::string path, std::vector<std::string> allowed)
      : ctx_(ctx), table_(table), path_(std::move(path)), allowed_(std::move(allowed)) {
    for (auto&& [key, node] : table_) {
      const std::string k(key.str());
      if (std::find(allowed_.begin(), allowed_.end(), k) != allowed_.end()) continue;
      std::string msg = "unknown key '" + k + "'";
      std::string best;
      std::size_t best_d = 3;
      for (const auto& a : allowed_) {
        const std::size_t d = edit_distance(k, a);
        if (d < best_d && d < k.size()) best_d = d, best = a;  // a typo, not another word
      }
      if (!best.empty()) msg += " (did you mean '" + best + "'?)";
      msg += "; allowed keys " + std::string(path_.empty() ? "at the top level" : "in " + path_) + ": " +
             detail::join(allowed_, false);
      fail(ctx_, &node, path_.empty() ? std::string() : path_, msg);
    }
  }

  const Ctx& ctx() const { return ctx_; }
  const std::string& path() const { return path_; }
  std::string key(const std::string& k) const { return child(path_, k); }
  const toml::node* get(const std::string& k) const { return table_.get(k); }
  const toml::table& table() const { return table_; }

  [[noreturn]] void missing(const std::string& k, const std::string& what) const {
    fail(ctx_, &table_, key(k), "missing (" + what + ")");
  }
  [[noreturn]] void wrong(const std::string& k, const toml::node& n, const std::string& expected) const {
    fail(ctx_, &n, key(k), "expected " + expected + ", got " + type_name(n));
  }

  std::optional<double> number(const std::string& k) const {
    const toml::node* n = get(k);
    if (!n) return std::nullopt;
    return as_number(*n, key(k));
  }
  double number(const std::string& k, double fallback) const { return number(k).value_or(fallback); }
  double required_number(const std::string& k, const std::string& what) const {
    auto v = number(k);
    if (!v) missing(k, what);
    return *v;
  }
  double as_number(const toml::node& n, const std::string& full_key) const {
    if (n.is_integer()) return static_cast<double>(n.as_integer()->get());
    if (n.is_floating_point()) {
      const double v = n.as_floating_point()->get();
      if (!std::isfinite(v)) fail(ctx_, &n, full_key, "must be finite, got " + std::to_string(v));
      return v;
    }
    fail(ctx_, &n, full_key, std::string("expected a number, got ") + type_name(n));
  }

  std::optional<std::int64_t> integer(const std::string& k) const {
    const toml::node* n = get(k);
    if (!n) return std::nullopt;
    if (!n->is_integer()) wrong(k, *n, "an integer");
    return n->as_integer()->get();
  }
  std::int64_t integer(const std::string& k, std::int64_t fallback) const { return integer(k).value_or(fallback); }

  std::optional<bool> boolean(const std::string& k) const {
    const toml::node* n = get(k);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) wrong(k, *n, "true or false");
    return n->as_boolean()->get();
  }

  std::optional<std::string> string(const std::string& k) const {
    const toml::node* n = get(k);
    if (!n) return std::nullopt;
    if (!n->is_string()) wrong(k, *n, "a string");
    return n->as_string()->get();
  }
  std::string required_string(const std::string& k, const std::string& what) const {
    auto v = string(k);
    if (!v) missing(k, what);
    return *v;
  }

  /// An integer seed >= 0 (default 0).
  std::uint64_t seed() const {
    const std::int64_t s = integer("seed", 0);
    if (s < 0) fail(ctx_, get("seed"), key("seed"), "must be >= 0, got " + std::to_string(s));
    return static_cast<std::uint64_t>(s);
  }

 private:
  const Ctx& ctx_;
  const toml::table& table_;
  std::string path_;
  std::vector<std::string> allowed_;
};

std::string resolve(const Ctx& ctx, const std::string& file) {
  const fs::path p(file);
  if (p.is_absolute()) return p.string();
  return (fs::path(ctx.base_dir) / p).lexically_normal().string();
}

NpyArray load_npy(const Ctx& ctx, const toml::node& n, const std::string& key, const std::string& file) {
  const std::string path = resolve(ctx, file);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    fail(ctx, &n, key, "file '" + file + "' not found" + (path != file ? " (looked for '" + path + "')" : std::string()));
  }
  ctx.files_read->push_back(path);
  try {
    return read_npy(path);
  } catch (const Error& e) {
    fail(ctx, &n, key, e.what());
  }
}

// ---- the fingerprint: what defines the run, key by key (qifsim/checkpoint.hpp) ----------

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void fingerprint_text(std::vector<FingerprintEntry>& fp, const std::string& key, const std::string& text) {
  fp.push_back({key, hash_bytes(text.data(), text.size()), text.size() <= 80 ? text : std::string()});
}

void fingerprint_values(std::vector<FingerprintEntry>& fp, const std::string& key, const std::vector<double>& values,
                        std::int64_t rows = -1) {
  std::uint64_t h = hash_bytes(&rows, sizeof rows);
  h = hash_bytes(values.data(), values.size() * sizeof(double), h);
  fp.push_back({key, h, values.size() == 1 ? number_text(values[0]) : std::string()});
}

// ---- parameters: number, array, .npy file or generator ---------------------------------

Param read_param(const TableReader& r, const std::string& k, std::int64_t n, const Param& fallback) {
  const toml::node* node = r.get(k);
  if (!node) return fallback;
  const std::string key = r.key(k);
  const std::string n_text = "N = " + std::to_string(n);
  if (node->is_number()) return Param(r.as_number(*node, key));
  if (node->is_array()) {
    const toml::array& a = *node->as_array();
    std::vector<double> v;
    for (std::size_t i = 0; i < a.size(); ++i) v.push_back(r.as_number(a[i], key + "[" + std::to_string(i) + "]"));
    if (v.size() != 1 && static_cast<std::int64_t>(v.size()) != n) {
      fail(r.ctx(), node, key, "array of " + std::to_string(v.size()) + " values; expected 1 value or " + n_text + " (one per neuron)");
    }
    return Param(std::move(v));
  }
  if (node->is_string()) {
    const std::string file = node->as_string()->get();
    NpyArray a = load_npy(r.ctx(), *node, key, file);
    const auto count = static_cast<std::int64_t>(a.data.size());
    const bool vector_shape = a.shape.size() <= 1 || (a.shape.size() == 2 && (a.shape[0] == 1 || a.shape[1] == 1));
    if (!vector_shape || (count != 1 && count != n)) {
      fail(r.ctx(), node, key, "file '" + file + "' has shape " + shape_string(a.shape) + "; expected (" + std::to_string(n) +
                                   ",) (one value per neuron, " + n_text + ") or a single value");
    }
    return Param(std::move(a.data));
  }
  if (node->is_table()) {
    TableReader g(r.ctx(), *node->as_table(), key, {"kind", "center", "width", "low", "high", "mean", "std", "seed", "value"});
    const std::string kind = g.required_string("kind", "one of 'lorentzian', 'uniform', 'normal', 'constant'");
    if (kind == "lorentzian") {
      const double width = g.required_number("width", "the Lorentzian's half width at half maximum");
      if (width < 0) fail(r.ctx(), g.get("width"), g.key("width"), "must be >= 0");
      return Param(lorentzian_quantiles(n, g.required_number("center", "the Lorentzian's center"), width));
    }
    if (kind == "uniform") {
      const double low = g.required_number("low", "lower bound");
      const double high = g.required_number("high", "upper bound");
      if (!(high >= low)) fail(r.ctx(), node, key, "high must be >= low");
      return Param(uniform_values(n, low, high, g.seed()));
    }
    if (kind == "normal") {
      const double sd = g.required_number("std", "standard deviation");
      if (sd < 0) fail(r.ctx(), g.get("std"), g.key("std"), "must be >= 0");
      return Param(normal_values(n, g.required_number("mean", "mean"), sd, g.seed()));
    }
    if (kind == "constant") return Param(g.required_number("value", "the value"));
    fail(r.ctx(), g.get("kind"), g.key("kind"), "unknown generator '" + kind + "' (use 'lorentzian', 'uniform', 'normal' or 'constant')");
  }
  r.wrong(k, *node, "a number, an array of " + n_text + " numbers, a .npy file name or a generator table { kind = \"lorentzian\" | \"uniform\" | \"normal\" | \"constant\", ... }");
}

// ---- weight matrices: .npy file, inline rows or generator ----------------------------

ValueDistribution read_distribution(const TableReader& g, const std::string& key_name) {
  const toml::node* node = g.get(key_name);
  ValueDistribution d;
  if (!node) {
    d.a = g.number("value", 1.0);
    return d;
  }
  if (g.get("value")) fail(g.ctx(), node, g.key(key_name), "give either 'value' or 'values', not both");
  if (node->is_number()) {
    d.a = g.as_number(*node, g.key(key_name));
    return d;
  }
  if (!node->is_table()) g.wrong(key_name, *node, "a number or a table { kind = \"uniform\" | \"normal\" | \"constant\", ... }");
  TableReader v(g.ctx(), *node->as_table(), g.key(key_name), {"kind", "low", "high", "mean", "std", "value"});
  const std::string kind = v.required_string("kind", "'uniform', 'normal' or 'constant'");
  if (kind == "uniform") {
    d.kind = ValueDistribution::Kind::Uniform;
    d.a = v.required_number("low", "lower bound");
    d.b = v.required_number("high", "upper bound");
  } else if (kind == "normal") {
    d.kind = ValueDistribution::Kind::Normal;
    d.a = v.required_number("mean", "mean");
    d.b = v.required_number("std", "standard deviation");
  } else if (kind == "constant") {
    d.a = v.required_number("value", "the value");
  } else {
    fail(g.ctx(), v.get("kind"), v.key("kind"), "unknown value distribution '" + kind + "' (use 'uniform', 'normal' or 'constant')");
  }
  return d;
}

Matrix read_weights(const TableReader& r, const std::string& k, std::int64_t rows, std::int64_t cols,
                    const std::string& what) {
  const toml::node* node = r.get(k);
  const std::string key = r.key(k);
  const std::string expected = "(" + std::to_string(rows) + ", " + std::to_string(cols) + ") (" + what + ")";
  if (!node) return Matrix();
  const double bytes = static_cast<double>(rows) * static_cast<double>(cols) * 8.0;
  if (bytes > static_cast<double>(default_memory_budget())) {
    fail(r.ctx(), node, key, "a dense " + expected + " matrix would take " + detail::format_bytes(bytes) +
                                 ", more than half of this machine's memory");
  }
  if (node->is_string()) {
    const std::string file = node->as_string()->get();
    NpyArray a = load_npy(r.ctx(), *node, key, file);
    const bool ok = (a.shape.size() == 2 && a.shape[0] == rows && a.shape[1] == cols) ||
                    (rows == 1 && cols == 1 && a.data.size() == 1 && a.shape.size() <= 1);
    if (!ok) fail(r.ctx(), node, key, "file '" + file + "' has shape " + shape_string(a.shape) + "; expected " + expected);
    return Matrix(rows, cols, std::move(a.data));
  }
  if (node->is_array()) {
    const toml::array& a = *node->as_array();
    Matrix m(rows, cols);
    bool ok = static_cast<std::int64_t>(a.size()) == rows;
    for (std::size_t i = 0; ok && i < a.size(); ++i) {
      const toml::array* row = a[i].as_array();
      if (!row) fail(r.ctx(), &a[i], key + "[" + std::to_string(i) + "]", std::string("expected a row (an array of numbers), got ") + type_name(a[i]));
      ok = static_cast<std::int64_t>(row->size()) == cols;
      for (std::size_t j = 0; ok && j < row->size(); ++j) {
        m(static_cast<std::int64_t>(i), static_cast<std::int64_t>(j)) =
            r.as_number((*row)[j], key + "[" + std::to_string(i) + "][" + std::to_string(j) + "]");
      }
    }
    if (!ok) {
      std::string got = std::to_string(a.size()) + " rows";
      if (!a.empty() && a[0].is_array()) got += " of " + std::to_string(a[0].as_array()->size());
      fail(r.ctx(), node, key, "inline matrix has " + got + "; expected " + expected);
    }
    return m;
  }
  if (node->is_table()) {
    TableReader g(r.ctx(), *node->as_table(), key, {"kind", "low", "high", "mean", "std", "seed", "p", "value", "values"});
    const std::string kind = g.required_string("kind", "one of 'uniform', 'normal', 'sparse', 'all_to_all', 'identity'");
    if (kind == "uniform") {
      const double low = g.required_number("low", "lower bound");
      const double high = g.required_number("high", "upper bound");
      if (!(high >= low)) fail(r.ctx(), node, key, "high must be >= low");
      return Matrix(rows, cols, uniform_values(rows * cols, low, high, g.seed()));
    }
    if (kind == "normal") {
      const double sd = g.required_number("std", "standard deviation");
      if (sd < 0) fail(r.ctx(), g.get("std"), g.key("std"), "must be >= 0");
      return Matrix(rows, cols, normal_values(rows * cols, g.required_number("mean", "mean"), sd, g.seed()));
    }
    if (kind == "sparse") {
      const double p = g.required_number("p", "the probability that an entry is nonzero");
      if (!(p >= 0.0 && p <= 1.0)) fail(r.ctx(), g.get("p"), g.key("p"), "must be in [0, 1], got " + std::to_string(p));
      return sparse_matrix(rows, cols, p, read_distribution(g, "values"), g.seed());
    }
    if (kind == "all_to_all" || kind == "constant") {
      return Matrix(rows, cols, g.required_number("value", "the weight of every connection"));
    }
    if (kind == "identity") {
      if (rows != cols) fail(r.ctx(), node, key, "an identity needs a square matrix; expected " + expected);
      Matrix m(rows, cols, 0.0);
      const double v = g.number("value", 1.0);
      for (std::int64_t i = 0; i < rows; ++i) m(i, i) = v;
      return m;
    }
    fail(r.ctx(), g.get("kind"), g.key("kind"),
         "unknown generator '" + kind + "' (use 'uniform', 'normal', 'sparse', 'all_to_all' or 'identity')");
  }
  r.wrong(k, *node, "a .npy file name, an inline matrix [[...], ...] or a generator table { kind = \"uniform\" | \"normal\" | \"sparse\" | \"all_to_all\" | \"identity\", ... } of shape " + expected);
}

// ---- the pieces of a config -------------------------------------------------------------

const toml::array* table_array(const TableReader& r, const std::string& k) {
  const toml::node* node = r.get(k);
  if (!node) return nullptr;
  const toml::array* a = node->as_array();
  if (!a || !a->is_array_of_tables()) {
    const std::string full = r.key(k);
    if (node->is_table()) fail(r.ctx(), node, full, "write [[" + full + "]] (a list of tables), not [" + full + "]");
    r.wrong(k, *node, "a list of tables [[" + full + "]]");
  }
  return a;
}

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

// A [[population]] table's keys: its own, then the model's fields (model/qif.hpp).
std::vector<std::string> population_keys() {
  std::vector<std::string> keys = {"name", "n", "weights", "output_var", model::kQif.feature};
  for (std::size_t i = 0; i < model::kQifFieldCount; ++i) keys.emplace_back(model::qif_field(i).name);
  return keys;
}

// What a population can record: the model's states and the values of each step.
std::string recordable_names() {
  std::vector<std::string> names;
  for (std::size_t s = 0; s < model::kQif.state_count; ++s) names.emplace_back(model::kQif.states[s].name);
  for (const char* v : {"spike", "s_in", "I_ext"}) names.emplace_back(v);
  return detail::join(names, false);
}

void read_population(const TableReader& r, Network& net, NodeSizes& sizes, std::vector<std::string>& descriptions,
                     std::vector<FingerprintEntry>& fp) {
  QifPopulation pop;
  const std::string name = r.required_string("name", "the population's name");
  const std::int64_t n = positive_integer(r, "n", "the number of neurons N");
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
  const std::string at = r.path() + ".";
  fingerprint_text(fp, at + "name", name);
  fingerprint_values(fp, at + "n", {static_cast<double>(n)});
  fingerprint_values(fp, at + "weights", pop.weights.data, pop.weights.rows);
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
                         (coupled ? ", coupling " + detail::shape(n, n) : std::string(", no coupling")) +
                         (r.boolean("adaptation").value_or(false) ? ", adaptation" : ""));
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
  Matrix w = read_weights(r, "weights", t, s, "target size x source size, '" + target + "' x '" + source + "'");
  fingerprint_text(fp, r.path() + ".source", source);
  fingerprint_text(fp, r.path() + ".target", target);
  fingerprint_values(fp, r.path() + ".weights", w.data, w.rows);
  try {
    net.add_edge(source, target, std::move(w));
  } catch (const Error& e) {
    fail(r.ctx(), &r.table(), r.path(), e.what());
  }
}

/// A value added to every input unit: a number or one number per input unit.
std::vector<double> input_value(const TableReader& r, const std::string& k, std::int64_t m, bool required) {
  const toml::node* node = r.get(k);
  if (!node) {
    if (required) r.missing(k, "a number or an array of " + std::to_string(m) + " numbers (one per input)");
    return {};
  }
  if (node->is_number()) return std::vector<double>(static_cast<std::size_t>(m), r.as_number(*node, r.key(k)));
  if (node->is_array()) {
    const toml::array& a = *node->as_array();
    std::vector<double> v;
    for (std::size_t i = 0; i < a.size(); ++i) v.push_back(r.as_number(a[i], r.key(k) + "[" + std::to_string(i) + "]"));
    if (static_cast<std::int64_t>(v.size()) != m) {
      fail(r.ctx(), node, r.key(k), "array of " + std::to_string(v.size()) + " values; expected 1 number or " +
                                        std::to_string(m) + " (one per input of the input node)");
    }
    return v;
  }
  r.wrong(k, *node, "a number or an array of " + std::to_string(m) + " numbers (one per input)");
}

/// A time as a whole number of steps of dt, rounded, clamped to [0, limit] before any
/// conversion (a time of 1e30 is "after the end", not an overflow).
std::int64_t steps_clamped(double time, double dt, std::int64_t limit) {
  const double x = time / dt;
  if (!(x > 0.0)) return 0;
  if (x >= static_cast<double>(limit)) return limit;
  return std::min<std::int64_t>(limit, std::llround(x));
}

/// Steps [first, last) that a component with start/stop times covers.
std::pair<std::int64_t, std::int64_t> window(const TableReader& r, double dt, std::int64_t steps) {
  const double start = r.number("start", 0.0);
  const auto stop = r.number("stop");
  if (stop && *stop < start) fail(r.ctx(), r.get("stop"), r.key("stop"), "must be >= start");
  const std::int64_t first = steps_clamped(start, dt, steps);
  const std::int64_t last = stop ? steps_clamped(*stop, dt, steps) : steps;
  return {first, std::max(first, last)};
}

Matrix read_input(const TableReader& top, double dt, std::optional<std::int64_t> steps, std::int64_t m,
                  const std::string& input_node) {
  const toml::node* node = top.get("input");
  const std::string width_text = std::to_string(m) + " input" + (m == 1 ? "" : "s") + " of the input node '" + input_node + "'";
  if (!node) {
    if (!steps) top.missing("steps", "the number of steps; or 'duration', or an [input] file");
    return Matrix(*steps, m, 0.0);
  }
  if (!node->is_table()) top.wrong("input", *node, "a table [input]");
  TableReader r(top.ctx(), *node->as_table(), "input", {"file", "value", "step", "pulse", "sine"});
  Matrix inputs;
  if (auto file = r.string("file")) {
    NpyArray a = load_npy(r.ctx(), *r.get("file"), r.key("file"), *file);
    const bool ok = (a.shape.size() == 2 && a.shape[1] == m) || (m == 1 && a.shape.size() == 1);
    if (!ok || a.shape[0] == 0) {
      fail(r.ctx(), r.get("file"), r.key("file"), "file '" + *file + "' has shape " + shape_string(a.shape) + "; expected (T, " +
                                                      std::to_string(m) + "): one row per step, one column per each of the " + width_text);
    }
    if (steps && *steps != a.shape[0]) {
      fail(r.ctx(), r.get("file"), r.key("file"), "file '" + *file + "' has " + std::to_string(a.shape[0]) + " rows (steps) but steps = " +
                                                      std::to_string(*steps) + "; drop 'steps'/'duration' or make them agree");
    }
    inputs = Matrix(a.shape[0], m, std::move(a.data));
  } else {
    if (!steps) top.missing("steps", "the number of steps; or 'duration', or an [input] file");
    inputs = Matrix(*steps, m, 0.0);
  }
  const std::int64_t T = inputs.rows;
  if (r.get("value")) {
    const std::vector<double> v = input_value(r, "value", m, true);
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t j = 0; j < m; ++j) inputs(t, j) += v[static_cast<std::size_t>(j)];
    }
  }
  auto components = [&](const std::string& kind, std::vector<std::string> keys, auto&& add) {
    const toml::array* list = table_array(r, kind);
    if (!list) return;
    for (std::size_t i = 0; i < list->size(); ++i) {
      TableReader c(r.ctx(), *(*list)[i].as_table(), "input." + kind + "[" + std::to_string(i) + "]", keys);
      add(c);
    }
  };
  components("step", {"start", "stop", "value"}, [&](const TableReader& c) {
    const std::vector<double> v = input_value(c, "value", m, true);
    const auto [first, last] = window(c, dt, T);
    for (std::int64_t t = first; t < last; ++t) {
      for (std::int64_t j = 0; j < m; ++j) inputs(t, j) += v[static_cast<std::size_t>(j)];
    }
  });
  components("pulse", {"start", "stop", "period", "width", "value"}, [&](const TableReader& c) {
    const std::vector<double> v = input_value(c, "value", m, true);
    const auto [first, last] = window(c, dt, T);
    const double period_time = c.required_number("period", "time from one pulse's start to the next");
    const double width_time = c.required_number("width", "duration of one pulse");
    if (!(width_time > 0)) fail(c.ctx(), c.get("width"), c.key("width"), "must be > 0, got " + std::to_string(width_time));
    // In steps, clamped to the run: a period or width beyond its end means one pulse.
    const std::int64_t period = steps_clamped(period_time, dt, T + 1);
    const std::int64_t width = steps_clamped(width_time, dt, T + 1);
    if (period < 1) fail(c.ctx(), c.get("period"), c.key("period"), "must be at least one step (dt)");
    for (std::int64_t t = first; t < last; ++t) {
      if ((t - first) % period >= width) continue;
      for (std::int64_t j = 0; j < m; ++j) inputs(t, j) += v[static_cast<std::size_t>(j)];
    }
  });
  components("sine", {"start", "stop", "amplitude", "frequency", "phase"}, [&](const TableReader& c) {
    const std::vector<double> amp = input_value(c, "amplitude", m, true);
    const double f = c.required_number("frequency", "cycles per unit of time");
    const double phase = c.number("phase", 0.0);
    const auto [first, last] = window(c, dt, T);
    for (std::int64_t t = first; t < last; ++t) {
      const double s = std::sin(2.0 * 3.14159265358979323846 * f * static_cast<double>(t) * dt + phase);
      for (std::int64_t j = 0; j < m; ++j) inputs(t, j) += amp[static_cast<std::size_t>(j)] * s;
    }
  });
  return inputs;
}


void read_record(const TableReader& top, RunConfig& cfg, const std::string& default_dir) {
  cfg.out_dir = default_dir;
  cfg.formats = {"npy"};
  const toml::node* node = top.get("record");
  if (!node) return;
  if (!node->is_table()) top.wrong("record", *node, "a table [record]");
  TableReader r(top.ctx(), *node->as_table(), "record",
                {"output", "vars", "sampling_steps", "cutoff", "out_dir", "formats", "batch_samples", "allow_symlink",
                 "flush_seconds", "checkpoint_seconds"});
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
    const std::string shape_text = "[node, var] or [node, var, mean], e.g. [\"qif\", \"v\", true]";
    if (!v->is_array()) r.wrong("vars", *v, "an array of " + shape_text);
    const toml::array& a = *v->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string key = r.key("vars") + "[" + std::to_string(i) + "]";
      const toml::array* e = a[i].as_array();
      if (!e || e->size() < 2 || e->size() > 3 || !(*e)[0].is_string() || !(*e)[1].is_string() ||
          (e->size() == 3 && !(*e)[2].is_boolean())) {
        fail(r.ctx(), &a[i], key, "expected " + shape_text);
      }
      RecordVar rv{(*e)[0].as_string()->get(), (*e)[1].as_string()->get(), e->size() == 3 && (*e)[2].as_boolean()->get()};
      try {
        cfg.network.node_size(rv.node);
        cfg.network.get_var(rv.node, rv.var);  // the variable exists
      } catch (const Error& err) {
        fail(r.ctx(), &a[i], key, err.what());
      }
      for (std::size_t p = 0; p < model::kQif.param_count; ++p) {
        if (rv.var == model::kQif.params[p].name) {
          fail(r.ctx(), &a[i], key, "'" + rv.var + "' is a parameter; record a state variable (" + recordable_names() +
                                        "; in, out for function nodes)");
        }
      }
      for (const auto& other : cfg.options.record_vars) {
        if (other.node == rv.node && other.var == rv.var) fail(r.ctx(), &a[i], key, "'" + rv.node + "." + rv.var + "' is listed twice");
      }
      cfg.options.record_vars.push_back(rv);
    }
  }
}

// toml++ 3.3.0 (Debian 12) reaches __builtin_unreachable() when it tests some non-ASCII
// characters for whitespace, i.e. where one stands outside a string or a comment (found by
// fuzzing). Valid TOML has none there, so such a character is refused first, by position.
void check_toml_characters(const std::string& text, const std::string& name) {
  enum class State { Normal, Comment, Basic, Literal, MultiBasic, MultiLiteral } state = State::Normal;
  std::int64_t line = 1, column = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    ++column;
    auto starts = [&](const char* token) { return text.compare(i, std::strlen(token), token) == 0; };
    switch (state) {
      case State::Normal:
        if (static_cast<unsigned char>(c) >= 0x80) {
          throw ConfigError(name + ":" + std::to_string(line) + ":" + std::to_string(column) +
                            ": TOML syntax error: a non-ASCII character outside a string or comment");
        }
        if (c == '#') state = State::Comment;
        else if (starts("\"\"\"")) { state = State::MultiBasic; i += 2; column += 2; }
        else if (starts("'''")) { state = State::MultiLiteral; i += 2; column += 2; }
        else if (c == '"') state = State::Basic;
        else if (c == '\'') state = State::Literal;
        break;
      case State::Comment:
        if (c == '\n') state = State::Normal;
        break;
      case State::Basic:
        if (c == '\\') { ++i; ++column; }
        else if (c == '"' || c == '\n') state = State::Normal;
        break;
      case State::Literal:
        if (c == '\'' || c == '\n') state = State::Normal;
        break;
      case State::MultiBasic:
        if (c == '\\') { ++i; ++column; }
        else if (starts("\"\"\"")) { state = State::Normal; i += 2; column += 2; }
        break;
      case State::MultiLiteral:
        if (starts("'''")) { state = State::Normal; i += 2; column += 2; }
        break;
    }
    if (i < text.size() && text[i] == '\n') {
      ++line;
      column = 0;
    }
  }
}

void apply_override(toml::table& root, const std::string& text) {
  const std::size_t eq = text.find('=');
  const std::string where = "--set " + text;
  if (eq == std::string::npos || eq == 0) throw ConfigError(where + ": expected KEY=VALUE, e.g. record.sampling_steps=2");
  std::string path = text.substr(0, eq);
  const std::string value = text.substr(eq + 1);
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '.');) {
    if (p.empty()) throw ConfigError(where + ": empty key component in '" + path + "'");
    parts.push_back(p);
  }
  // The value as TOML; a bare word that is not TOML (cpu, results/run1) is a string.
  toml::table parsed;
  try {
    check_toml_characters("v = " + value, where);
    parsed = toml::parse("v = " + value, where);
  } catch (const std::exception&) {  // not TOML (or not safe to hand to toml++): a string
    const bool numeric = !value.empty() && value.find_first_not_of("+-0123456789._eE") == std::string::npos &&
                         value.find_first_of("0123456789") != std::string::npos;
    if (numeric) {
      throw ConfigError(where + ": '" + value + "' is not a number TOML can hold (integers are 64-bit: at most " +
                        "9223372036854775807)");
    }
    parsed = toml::table{};
    parsed.insert("v", value);
  }
  const toml::node& v = *parsed.get("v");
  toml::node* cur = &root;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    const bool last = i + 1 == parts.size();
    const std::string so_far = [&] {
      std::string s;
      for (std::size_t j = 0; j <= i; ++j) s += (j ? "." : "") + parts[j];
      return s;
    }();
    if (toml::table* t = cur->as_table()) {
      if (last) {
        t->insert_or_assign(p, v);
        return;
      }
      if (!t->get(p)) t->insert(p, toml::table{});
      cur = t->get(p);
    } else if (toml::array* a = cur->as_array()) {
      if (p.find_first_not_of("0123456789") != std::string::npos) {
        throw ConfigError(where + ": '" + so_far + "': a list; use an index (e.g. population.0.eta)");
      }
      const std::size_t idx = p.size() > 9 ? a->size() : std::stoul(p);  // more than 9 digits: out of range
      if (idx >= a->size()) {
        throw ConfigError(where + ": '" + so_far + "': index " + p + " is out of range (the list has " + std::to_string(a->size()) + " entries)");
      }
      if (last) {
        a->replace(a->cbegin() + static_cast<std::ptrdiff_t>(idx), v);
        return;
      }
      cur = a->get(idx);
    } else {
      throw ConfigError(where + ": '" + so_far.substr(0, so_far.rfind('.')) + "' is a value, not a table");
    }
  }
}

RunConfig build(const toml::table& root, const Ctx& ctx, const std::string& default_dir) {
  TableReader top(ctx, root, "",
                  {"description", "dt", "steps", "duration", "precision", "backend", "event_coupling", "subnormals", "population", "function",
                   "edge", "input", "record"});
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
  if (auto sub = top.string("subnormals")) {
    if (*sub == "auto") cfg.options.subnormals = Subnormals::Auto;
    else if (*sub == "keep") cfg.options.subnormals = Subnormals::Keep;
    else if (*sub == "flush") cfg.options.subnormals = Subnormals::Flush;
    else fail(ctx, top.get("subnormals"), "subnormals", "'" + *sub + "' is unknown (use \"auto\", \"keep\" or \"flush\")");
  }
  NodeSizes sizes;
  const toml::array* pops = table_array(top, "population");
  const toml::array* funcs = table_array(top, "function");
  const toml::array* edges = table_array(top, "edge");
  if (!pops || pops->empty()) top.missing("population", "at least one [[population]] table");
  for (std::size_t i = 0; i < pops->size(); ++i) {
    TableReader r(ctx, *(*pops)[i].as_table(), "population[" + std::to_string(i) + "]", population_keys());
    read_population(r, cfg.network, sizes, cfg.node_descriptions, cfg.fingerprint);
  }
  for (std::size_t i = 0; funcs && i < funcs->size(); ++i) {
    TableReader r(ctx, *(*funcs)[i].as_table(), "function[" + std::to_string(i) + "]", {"name", "size", "activation"});
    read_function(r, cfg.network, sizes, cfg.node_descriptions, cfg.fingerprint);
  }
  for (std::size_t i = 0; edges && i < edges->size(); ++i) {
    TableReader r(ctx, *(*edges)[i].as_table(), "edge[" + std::to_string(i) + "]", {"source", "target", "weights"});
    read_edge(r, cfg.network, sizes, cfg.fingerprint);
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
  const std::int64_t m = cfg.network.input_width();
  const double input_bytes = static_cast<double>(steps.value_or(0)) * static_cast<double>(m) * 8.0;
  if (input_bytes > static_cast<double>(default_memory_budget())) {
    fail(ctx, top.get("steps") ? top.get("steps") : top.get("duration"), "steps",
         "the input array (steps x " + std::to_string(m) + " inputs) would take " + detail::format_bytes(input_bytes) +
             "; feed the population through a small function node ([[function]] + [[edge]]) so the input is narrow");
  }
  cfg.inputs = read_input(top, dt, steps, m, cfg.network.input_node());
  read_record(top, cfg, default_dir);
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
    std::uint64_t bytes = 0;
    const detail::OutputFile file = detail::open_regular_file(path, "a config file", kMaxConfigBytes, &bytes);
    text.resize(static_cast<std::size_t>(bytes));
    if (bytes > 0 && std::fread(text.data(), 1, text.size(), file.get()) != text.size()) {
      throw IoError("cannot read '" + path + "': " + detail::errno_text(errno));
    }
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

ConfigRun run_config(RunConfig& config, bool keep_in_memory) {
  return run_config(config, MatrixView(config.inputs), keep_in_memory);
}

ConfigRun run_config(RunConfig& config, MatrixView inputs, bool keep_in_memory) {
  ConfigRun result(config_observer(config, keep_in_memory));
  static_cast<RunReport&>(result) = run_config_into(config, inputs, result.observer);
  return result;
}

Observer config_observer(const RunConfig& config, bool keep_in_memory) {
  Observer obs(config.network.dt(), RecordSpec{config.options.record_output, false, config.options.record_vars});
  obs.set_keep_in_memory(keep_in_memory);
  if (config.options.memory_budget > 0) obs.set_memory_budget(config.options.memory_budget);
  return obs;
}

namespace {

namespace fsys = std::filesystem;

constexpr const char* kCheckpointName = "qifsim.ckpt";
constexpr const char* kConfigCopyName = "qifsim_run.toml";

std::string absolute_path(const std::string& p) {
  if (p.empty()) return p;
  std::error_code ec;
  const fsys::path a = fsys::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

// The same file, or (for a file not made yet) the same place.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fsys::equivalent(a, b, ec)) return true;
  const fsys::path ca = fsys::weakly_canonical(a, ec);
  if (ec) return false;
  const fsys::path cb = fsys::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

const char* subnormals_name(Subnormals s) {
  switch (s) {
    case Subnormals::Keep: return "keep";
    case Subnormals::Flush: return "flush";
    default: return "auto";
  }
}

// What defines the run: the network as the config gives it, the inputs (as run), the
// schedule, the recording and the numerics.
std::vector<FingerprintEntry> run_fingerprint(const RunConfig& config, MatrixView inputs) {
  std::vector<FingerprintEntry> fp = config.fingerprint;
  const Network& net = config.network;
  const auto text = [&](const std::string& key, const std::string& value) {
    fp.push_back({key, hash_bytes(value.data(), value.size()), value.size() <= 80 ? value : std::string()});
  };
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", net.dt());
  text("dt", buf);
  text("precision", net.precision() == Precision::Float32 ? "float32" : "float64");
  text("backend (in use)", net.backend() == Backend::Cuda ? "cuda" : "cpu");
  text("event_coupling", std::to_string(config.options.event_coupling));
  text("subnormals", subnormals_name(config.options.subnormals));
  text("steps", std::to_string(inputs.rows));
  std::uint64_t h = hash_bytes(&inputs.rows, sizeof inputs.rows);
  h = hash_bytes(&inputs.cols, sizeof inputs.cols, h);
  for (std::int64_t t = 0; t < inputs.rows; ++t) {
    h = hash_bytes(inputs.row(t), static_cast<std::size_t>(inputs.cols) * sizeof(double), h);
  }
  fp.push_back({"input", h, ""});
  text("record.sampling_steps", std::to_string(config.options.sampling_steps));
  text("record.cutoff", std::to_string(config.options.cutoff));
  text("record.output", config.options.record_output ? "true" : "false");
  std::string vars;
  for (const auto& v : config.options.record_vars) vars += (vars.empty() ? "" : ", ") + v.node + "." + v.var + (v.mean ? " (mean)" : "");
  text("record.vars", vars.empty() ? "none" : vars);
  return fp;
}

// Outputs may not replace the run's own inputs (a config or .npy file in out_dir).
void refuse_overwriting_inputs(const RunConfig& config, const std::vector<std::string>& outputs) {
  for (const auto& out : outputs) {
    for (const auto& in : config.input_files) {
      if (!same_file(out, in)) continue;
      if (in == config.path && fsys::path(out).filename() == kConfigCopyName) continue;  // the copy is skipped
      throw ConfigError("the run would write '" + out + "' over its own input '" + in +
                        "'; choose another output folder (record.out_dir or -o) or move the input");
    }
  }
}

// Sets a flag for the run to stop at: when the caller's stop flag is set, or every
// `period` seconds (a periodic checkpoint).
class StopTimer {
 public:
  StopTimer(const std::atomic<bool>* user, double period) : user_(user), period_(period) {
    if (user_ || period_ > 0.0) thread_ = std::thread([this] { loop(); });
  }
  ~StopTimer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  StopTimer(const StopTimer&) = delete;
  StopTimer& operator=(const StopTimer&) = delete;

  const std::atomic<bool>* flag() const { return &halt_; }
  bool user_stop() const { return user_ != nullptr && user_->load(); }
  /// After a periodic stop: run on, the next period counting from now.
  void rearm() {
    std::lock_guard<std::mutex> lock(mutex_);
    halt_.store(false);
    due_ = Clock::now() + period();
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::duration period() const {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(period_));
  }
  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    due_ = Clock::now() + (period_ > 0.0 ? period() : Clock::duration::zero());
    while (!done_) {
      wake_.wait_for(lock, std::chrono::milliseconds(20));
      if (done_) break;
      if (user_stop() || (period_ > 0.0 && !halt_.load() && Clock::now() >= due_)) halt_.store(true);
    }
  }

  const std::atomic<bool>* user_;
  double period_;
  std::atomic<bool> halt_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  Clock::time_point due_{};
  std::thread thread_;
};

}  // namespace

RunConfig resume_config(const std::string& folder, const std::string& config_path,
                        const std::vector<std::string>& overrides) {
  std::error_code ec;
  std::string dir = folder;
  if (fsys::is_regular_file(folder, ec)) dir = fsys::path(folder).parent_path().string();
  if (dir.empty()) dir = ".";
  const std::string ckpt = (fsys::path(dir) / kCheckpointName).string();
  if (!fsys::is_directory(dir, ec)) throw ConfigError("resume: '" + folder + "' is not an output folder");
  if (!fsys::exists(ckpt, ec)) {
    const detail::Manifest m = detail::read_manifest(dir);
    if (m.valid && m.status == "complete") {
      throw ConfigError("resume: '" + dir + "' holds a complete run (" + std::to_string(m.samples) +
                        " samples); there is nothing to continue");
    }
    throw ConfigError("resume: '" + dir + "' holds no checkpoint (" + kCheckpointName +
                      "); the run stopped before its first one (record.checkpoint_seconds) and must be run again");
  }
  const CheckpointInfo info = read_checkpoint_info(ckpt);
  std::string path = config_path;
  std::vector<std::string> sets = overrides;
  RunConfig cfg;
  if (path.empty()) {
    if (info.format < 2) {
      throw ConfigError("resume: '" + ckpt + "' was written by an older qifsim; name its config: qifsim run CONFIG --resume " + dir);
    }
    sets = info.details_of("override");  // as it ran, then what is given now
    sets.insert(sets.end(), overrides.begin(), overrides.end());
    path = info.detail("config");
    const std::string copy = (fsys::path(dir) / kConfigCopyName).string();
    if (path.empty() || !fsys::exists(path, ec)) {
      // The config it ran (a string, or a file gone since): the copy beside the recordings,
      // its .npy paths resolved where the original's were.
      if (!fsys::exists(copy, ec)) throw ConfigError("resume: the run's config '" + path + "' is gone, and so is its copy '" + copy + "'");
      std::ifstream in(copy);
      std::stringstream text;
      text << in.rdbuf();
      cfg = parse_config(text.str(), info.detail("base_dir").empty() ? dir : info.detail("base_dir"), copy, sets);
    } else {
      cfg = load_config(path, sets);
    }
  } else {
    cfg = load_config(path, sets);
  }
  cfg.out_dir = dir;
  const auto formats = info.details_of("format");
  if (!formats.empty()) cfg.formats = formats;
  cfg.allow_symlink = cfg.allow_symlink || info.detail("allow_symlink") == "true";
  cfg.resume = true;
  return cfg;
}

RunReport run_config_into(RunConfig& config, MatrixView inputs, Observer& obs) {
  RunReport report;
  if (config.formats.empty()) {  // nothing on disk: no folder, no checkpoints
    if (config.resume) throw ConfigError("resume: the run records no files (record.formats = []); nothing to continue");
    report.first_step = 0;
    config.network.run(inputs, config.options, obs);
    report.next_step = config.network.interrupted() ? config.network.resume_step() : inputs.rows;
    report.samples = obs.samples();
    return report;
  }
  const std::vector<FingerprintEntry> fingerprint = run_fingerprint(config, inputs);
  const fsys::path dir(config.out_dir);
  const std::string ckpt = (dir / kCheckpointName).string();
  const fsys::path copy = dir / kConfigCopyName;
  std::error_code ec;
  const bool write_copy = !config.resume && !config.text.empty() &&
                          (config.path.empty() || !fsys::equivalent(copy, config.path, ec));
  // Every name this run writes in the folder, checked against its inputs before anything
  // (the previous run's files included) is removed.
  std::vector<std::string> names = recording_file_names(obs, config.formats);
  if (write_copy) names.emplace_back(kConfigCopyName);
  std::vector<std::string> outputs;
  for (const auto& n : names) outputs.push_back((dir / n).string());
  outputs.push_back(ckpt);
  outputs.push_back((dir / "manifest.json").string());
  refuse_overwriting_inputs(config, outputs);

  auto folder = std::make_shared<detail::RunFolder>(config.out_dir, config.allow_symlink, absolute_path(config.path),
                                                    inputs.rows, config.resume, config.input_files);
  // The folder is the run's until it returns (the object itself lives on in obs's sinks).
  struct Release {
    detail::RunFolder& folder;
    ~Release() { folder.release(); }
  } release{*folder};
  RunOptions options = config.options;
  std::int64_t continue_samples = -1;
  if (!config.resume) fsys::remove(ckpt, ec);  // a previous run's: it would not fit these files
  if (config.resume) {
    const detail::Manifest& m = folder->previous();
    if (m.valid && m.status == "complete") {
      throw ConfigError("resume: '" + config.out_dir + "' holds a complete run; there is nothing to continue");
    }
    if (!fsys::exists(ckpt, ec)) {
      throw ConfigError("resume: '" + config.out_dir + "' holds no checkpoint (" + kCheckpointName + ")");
    }
    const CheckpointInfo saved = read_checkpoint_info(ckpt);
    std::vector<FingerprintEntry> theirs;
    for (const auto& e : saved.fingerprint) {
      if (e.key.rfind("network: ", 0) != 0) theirs.push_back(e);
    }
    report.changes = fingerprint_changes(theirs, fingerprint);
    if (saved.format < 2) report.changes.clear();  // format 1 knew no fingerprint
    if (!report.changes.empty() && !config.allow_changes) {
      std::string list;
      for (const auto& c : report.changes) list += "\n  " + c;
      throw ConfigError("resume: the run differs from the one checkpointed in '" + ckpt + "':" + list +
                        "\nits recording would not be one run; resume with --allow-changes (record what changed in "
                        "the manifest) or start a new run");
    }
    CheckpointLoad how;
    how.parameters = false;  // the config's (the same unless changes are allowed)
    how.allow_changes = config.allow_changes;
    config.network.load_checkpoint(ckpt, how);
    if (!config.network.interrupted()) {
      throw ConfigError("resume: '" + ckpt + "' holds no interrupted run");
    }
    const std::string samples = saved.detail("samples");
    continue_samples = detail::leading_int64(samples.c_str(), -1);
    if (continue_samples < 0) throw ConfigError("resume: '" + ckpt + "' does not say how many samples its files hold");
    options.resume = true;
    folder->continue_from(continue_samples, config.network.resume_step(), report.changes);
  }
  report.first_step = config.network.interrupted() && options.resume ? config.network.resume_step() : 0;

  std::vector<std::shared_ptr<FileSink>> sinks =
      attach_file_sinks(obs, config.out_dir, config.formats, config.recording_info(), config.allow_symlink,
                        continue_samples);
  obs.add_sink(folder);  // counts the samples, after the files have them
  if (write_copy) {
    // A copy of the config beside the recordings (unless that is where it came from).
    detail::write_file_atomically(copy.string(), [&](std::FILE* out) {
      std::fprintf(out, "# qifsim %s run of %s\n", QIFSIM_VERSION_STRING,
                   config.path.empty() ? "<string>" : config.path.c_str());
      for (const auto& o : config.overrides) std::fprintf(out, "# --set %s\n", o.c_str());
      std::fwrite(config.text.data(), 1, config.text.size(), out);
    });
  }
  folder->add_files(names);

  // The checkpoint: the network's state at a step boundary, the samples the files hold then
  // (all that were recorded: a stopped run hands its ring over first) and how to resume.
  const auto save_checkpoint = [&] {
    CheckpointInfo info;
    info.fingerprint = fingerprint;
    info.details = {{"config", absolute_path(config.path)},
                    {"base_dir", absolute_path(config.base_dir)},
                    {"out_dir", absolute_path(config.out_dir)},
                    {"allow_symlink", config.allow_symlink ? "true" : "false"},
                    {"samples", std::to_string(folder->samples())},
                    {"next_step", std::to_string(config.network.resume_step())},
                    {"steps", std::to_string(inputs.rows)},
                    {"qifsim", QIFSIM_VERSION_STRING}};
    for (const auto& o : config.overrides) info.details.emplace_back("override", o);
    for (const auto& f : config.formats) info.details.emplace_back("format", f);
    config.network.save_checkpoint(ckpt, nullptr, &info);
    folder->checkpointed(config.network.resume_step(), kCheckpointName);
  };

  StopTimer timer(config.options.stop, config.checkpoint_seconds);
  options.stop = timer.flag();
  try {
    for (;;) {
      config.network.run(inputs, options, obs);
      if (!config.network.interrupted()) break;
      // Stopped: by the caller (or stop_at_step), or for a periodic checkpoint.
      save_checkpoint();
      if (timer.user_stop() || !timer.flag()->load()) {
        report.checkpoint = ckpt;
        break;
      }
      timer.rearm();
      options.resume = true;
    }
  } catch (const std::exception& e) {
    try {
      finish_file_sinks(sinks, obs);  // keep what was recorded readable
    } catch (...) {
    }
    try {
      folder->finish("failed", config.network.step_count(), e.what(), fsys::exists(ckpt, ec) ? kCheckpointName : "");
    } catch (...) {
    }
    throw;
  }
  for (auto& p : finish_file_sinks(sinks, obs)) report.files.push_back(std::move(p));
  if (write_copy) report.files.push_back(copy.string());
  report.samples = folder->samples();
  if (report.interrupted()) {
    report.next_step = config.network.resume_step();
    folder->finish("interrupted", report.next_step, "", kCheckpointName);
  } else {
    report.next_step = inputs.rows;
    fsys::remove(ckpt, ec);  // a complete run has nothing to resume
    folder->finish("complete", report.next_step);
  }
  return report;
}

}  // namespace qifsim
