// host/config/config_values.cpp - a config's values: parameters, weight matrices, the input, the fingerprint.
//
// A value is a number, an array, a .npy file or a generator table, checked against the shape
// it needs; a failure is a ConfigError naming file, line and key (toml_reader.hpp).
#include "config/config_values.hpp"

#ifdef QIFSIM_HAVE_TOML

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <new>
#include <utility>

#include "qifsim/generators.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/observer.hpp"
#include "core/memory_check.hpp"
#include "core/text.hpp"

namespace qifsim::config_detail {

// ---- the fingerprint: what defines the run, key by key (qifsim/checkpoint.hpp) ----------

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void fingerprint_text(std::vector<FingerprintEntry>& fp, const std::string& key, const std::string& text) {
  fp.push_back({key, hash_bytes(text.data(), text.size()), text.size() <= 80 ? text : std::string()});
}

void fingerprint_values(std::vector<FingerprintEntry>& fp, const std::string& key, const std::vector<double>& values,
                        std::int64_t rows) {
  std::uint64_t h = hash_bytes(&rows, sizeof rows);
  h = hash_bytes(values.data(), values.size() * sizeof(double), h);
  fp.push_back({key, h, values.size() == 1 ? number_text(values[0]) : std::string()});
}

void fingerprint_weights(std::vector<FingerprintEntry>& fp, const std::string& key, const Weights& w) {
  switch (w.kind()) {
    case Weights::Kind::None: fingerprint_values(fp, key, {}, 0); return;
    case Weights::Kind::Dense: fingerprint_values(fp, key, w.dense().data, w.rows()); return;
    case Weights::Kind::AllToAll: {
      const std::int64_t shape[2] = {w.rows(), w.cols()};
      const double v = w.value();
      std::uint64_t h = hash_bytes("all_to_all", 10);
      h = hash_bytes(shape, sizeof shape, h);
      fp.push_back({key, hash_bytes(&v, sizeof v, h), "all_to_all " + number_text(v)});
      return;
    }
    case Weights::Kind::Sparse: {
      const SparseMatrix& m = w.sparse();
      const std::int64_t shape[2] = {m.rows, m.cols};
      std::uint64_t h = hash_bytes("sparse", 6);
      h = hash_bytes(shape, sizeof shape, h);
      h = hash_bytes(m.indptr.data(), m.indptr.size() * sizeof(std::int64_t), h);
      h = hash_bytes(m.indices.data(), m.indices.size() * sizeof(std::int32_t), h);
      fp.push_back({key, hash_bytes(m.values.data(), m.values.size() * sizeof(double), h), ""});
      return;
    }
  }
}

// ---- parameters: number, array, .npy file or generator ---------------------------------

namespace {

// A generator table's kinds, each with its own keys besides "kind".
using KindKeys = std::vector<std::pair<std::string, std::vector<std::string>>>;

/// The generator table `table` at `key`, checked key by key for its kind: a key that no kind
/// takes, or that another kind takes (`p` on uniform weights), is refused with the kind's
/// keys and a "did you mean". Returns the reader (of an unknown kind: every kind's keys, so
/// that the caller names the kind).
TableReader generator_table(const Ctx& ctx, const toml::table& table, const std::string& key, const KindKeys& kinds,
                            const std::string& kinds_text) {
  std::vector<std::string> all = {"kind"};
  for (const auto& [kind, keys] : kinds) {
    for (const auto& k : keys) {
      if (std::find(all.begin(), all.end(), k) == all.end()) all.push_back(k);
    }
  }
  const TableReader any(ctx, table, key, all);
  const std::string kind = any.required_string("kind", kinds_text);
  for (const auto& [name, keys] : kinds) {
    if (name != kind) continue;
    std::vector<std::string> own = {"kind"};
    own.insert(own.end(), keys.begin(), keys.end());
    return TableReader(ctx, table, key, own);
  }
  return any;
}

}  // namespace

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
    if (!detail::ends_with(file, ".npy")) {
      fail(r.ctx(), node, key, "'" + file + "' is not a number; a parameter is a number, an array of " + n_text +
                                   " numbers, a .npy file name or a generator table { kind = ... }");
    }
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
    static const KindKeys kinds = {{"lorentzian", {"center", "width"}},
                                   {"uniform", {"low", "high", "seed"}},
                                   {"normal", {"mean", "std", "seed"}},
                                   {"constant", {"value"}}};
    const TableReader g = generator_table(r.ctx(), *node->as_table(), key, kinds,
                                          "one of 'lorentzian', 'uniform', 'normal', 'constant'");
    const std::string kind = g.required_string("kind", "");
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

namespace {

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
  static const KindKeys kinds = {{"uniform", {"low", "high"}}, {"normal", {"mean", "std"}}, {"constant", {"value"}}};
  const TableReader v =
      generator_table(g.ctx(), *node->as_table(), g.key(key_name), kinds, "'uniform', 'normal' or 'constant'");
  const std::string kind = v.required_string("kind", "");
  if (kind == "uniform") {
    d.kind = ValueDistribution::Kind::Uniform;
    d.a = v.required_number("low", "lower bound");
    d.b = v.required_number("high", "upper bound");
    if (!(d.b >= d.a)) fail(g.ctx(), node, g.key(key_name), "high must be >= low");
  } else if (kind == "normal") {
    d.kind = ValueDistribution::Kind::Normal;
    d.a = v.required_number("mean", "mean");
    d.b = v.required_number("std", "standard deviation");
    if (d.b < 0) fail(g.ctx(), v.get("std"), v.key("std"), "must be >= 0");
  } else if (kind == "constant") {
    d.a = v.required_number("value", "the value");
  } else {
    fail(g.ctx(), v.get("kind"), v.key("kind"), "unknown value distribution '" + kind + "' (use 'uniform', 'normal' or 'constant')");
  }
  return d;
}

}  // namespace

Weights read_weights(const TableReader& r, const std::string& k, std::int64_t rows, std::int64_t cols,
                     const std::string& what) {
  const toml::node* node = r.get(k);
  const std::string key = r.key(k);
  const std::string expected = "(" + std::to_string(rows) + ", " + std::to_string(cols) + ") (" + what + ")";
  if (!node) return Weights();
  // Only dense forms are held to the size of a dense matrix; sparse and all-to-all ones are
  // counted by the memory check at compile.
  auto dense_fits = [&] {
    const double bytes = static_cast<double>(rows) * static_cast<double>(cols) * 8.0;
    if (bytes > static_cast<double>(default_memory_budget())) {
      fail(r.ctx(), node, key, "a dense " + expected + " matrix would take " + detail::format_bytes(bytes) +
                                   ", more than half of this machine's memory; give the weights sparse (a .npz "
                                   "file, kind = \"sparse\" or \"fixed_indegree\") or all-to-all (kind = \"all_to_all\")");
    }
  };
  if (node->is_string()) {
    const std::string file = node->as_string()->get();
    if (!detail::ends_with(file, ".npy") && !detail::ends_with(file, ".npz")) {
      fail(r.ctx(), node, key, "'" + file + "' names no .npy or .npz file; weights are a .npy or .npz file name, an "
                                   "inline matrix [[...], ...] or a generator table { kind = ... }");
    }
    if (detail::ends_with(file, ".npz")) {
      SparseMatrix m = load_npz(r.ctx(), *node, key, file);
      if (m.rows != rows || m.cols != cols) {
        fail(r.ctx(), node, key, "file '" + file + "' holds a (" + std::to_string(m.rows) + ", " + std::to_string(m.cols) +
                                     ") sparse matrix; expected " + expected);
      }
      return Weights(std::move(m));
    }
    dense_fits();
    NpyArray a = load_npy(r.ctx(), *node, key, file);
    const bool ok = (a.shape.size() == 2 && a.shape[0] == rows && a.shape[1] == cols) ||
                    (rows == 1 && cols == 1 && a.data.size() == 1 && a.shape.size() <= 1);
    if (!ok) fail(r.ctx(), node, key, "file '" + file + "' has shape " + shape_string(a.shape) + "; expected " + expected);
    return Matrix(rows, cols, std::move(a.data));
  }
  if (node->is_array()) {
    dense_fits();
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
    // The generators' own refusals (a matrix too large for the memory or for 32-bit column
    // indices) name this key too.
    const auto generate = [&]() -> Weights {
      static const KindKeys kinds = {{"uniform", {"low", "high", "seed"}},
                                     {"normal", {"mean", "std", "seed"}},
                                     {"sparse", {"p", "value", "values", "seed"}},
                                     {"fixed_indegree", {"k", "value", "values", "seed", "autapses"}},
                                     {"all_to_all", {"value"}},
                                     {"constant", {"value"}},
                                     {"identity", {"value"}}};
      const TableReader g = generator_table(
          r.ctx(), *node->as_table(), key, kinds,
          "one of 'uniform', 'normal', 'sparse', 'fixed_indegree', 'all_to_all', 'identity'");
      const std::string kind = g.required_string("kind", "");
      if (kind == "uniform") {
        dense_fits();
        const double low = g.required_number("low", "lower bound");
        const double high = g.required_number("high", "upper bound");
        if (!(high >= low)) fail(r.ctx(), node, key, "high must be >= low");
        return Matrix(rows, cols, uniform_values(rows * cols, low, high, g.seed()));
      }
      if (kind == "normal") {
        dense_fits();
        const double sd = g.required_number("std", "standard deviation");
        if (sd < 0) fail(r.ctx(), g.get("std"), g.key("std"), "must be >= 0");
        return Matrix(rows, cols, normal_values(rows * cols, g.required_number("mean", "mean"), sd, g.seed()));
      }
      if (kind == "sparse") {
        const double p = g.required_number("p", "the probability that an entry is nonzero");
        if (!(p >= 0.0 && p <= 1.0)) fail(r.ctx(), g.get("p"), g.key("p"), "must be in [0, 1], got " + std::to_string(p));
        return sparse_matrix(rows, cols, p, read_distribution(g, "values"), g.seed());
      }
      if (kind == "fixed_indegree") {
        const std::int64_t in = g.integer("k", -1);
        if (!g.get("k")) g.missing("k", "the number of presynaptic partners of each neuron");
        const bool autapses = g.boolean("autapses").value_or(false);
        const std::int64_t most = autapses || rows != cols ? cols : cols - 1;
        if (in < 0 || in > most) {
          fail(r.ctx(), g.get("k"), g.key("k"), "must be in [0, " + std::to_string(most) + "] (distinct partners" +
                                                    (autapses ? "" : ", no autapses") + "), got " + std::to_string(in));
        }
        if (!autapses && rows != cols) fail(r.ctx(), node, key, "autapses = false needs a square matrix; expected " + expected);
        return fixed_indegree(rows, cols, in, read_distribution(g, "values"), g.seed(), autapses);
      }
      if (kind == "all_to_all" || kind == "constant") {
        return Weights::all_to_all(rows, cols, g.required_number("value", "the weight of every connection"));
      }
      if (kind == "identity") {
        if (rows != cols) fail(r.ctx(), node, key, "an identity needs a square matrix; expected " + expected);
        const double v = g.number("value", 1.0);
        if (rows > std::numeric_limits<std::int32_t>::max()) {
          fail(r.ctx(), node, key, "an identity of " + std::to_string(rows) +
                                       " rows needs more than the 2^31 - 1 columns a sparse matrix indexes");
        }
        detail::require_host_bytes(static_cast<double>(rows) * 20.0 + 8.0,
                                   "identity: a " + std::to_string(rows) + " x " + std::to_string(rows) + " matrix");
        SparseMatrix m(rows, cols);
        m.indices.resize(static_cast<std::size_t>(rows));
        m.values.assign(static_cast<std::size_t>(rows), v);
        for (std::int64_t i = 0; i < rows; ++i) {
          m.indices[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
          m.indptr[static_cast<std::size_t>(i + 1)] = i + 1;
        }
        return Weights(std::move(m));
      }
      fail(r.ctx(), g.get("kind"), g.key("kind"),
           "unknown generator '" + kind + "' (use 'uniform', 'normal', 'sparse', 'fixed_indegree', 'all_to_all' or 'identity')");
      return Weights();
    };
    try {
      return generate();
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      fail(r.ctx(), node, key, e.what());
    } catch (const std::bad_alloc&) {
      fail(r.ctx(), node, key, "the " + expected + " matrix does not fit in this machine's memory");
    }
  }
  r.wrong(k, *node, "a .npy or .npz file name, an inline matrix [[...], ...] or a generator table { kind = \"uniform\" | \"normal\" | \"sparse\" | \"fixed_indegree\" | \"all_to_all\" | \"identity\", ... } of shape " + expected);
}

// ---- the input: a file, a value, steps, pulses and sines ------------------------------

namespace {

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

}  // namespace

namespace {

// [input] without a file: its value, steps, pulses and sines, computed row by row when the run
// asks for them (no steps x width array). Each entry adds to the row in the order the
// materialised form added them (value, then every step, every pulse, every sine, each in the
// order given): the same additions, so the same bits.
struct ComputedInput {
  struct Part {
    enum Kind { Step, Pulse, Sine } kind = Step;
    std::int64_t first = 0, last = 0;   // steps [first, last)
    std::int64_t period = 1, width = 0;  // pulses, in steps
    double frequency = 0.0, phase = 0.0;  // sines
    std::vector<double> value;            // per input column (a sine's amplitude)
  };
  std::int64_t steps = 0, width = 0;
  std::int64_t m = 0;  // the input node's width: the entries' values (width = members x m)
  double dt = 0.0;
  std::vector<double> value;  // [input] value (empty: none)
  std::vector<Part> parts;
  std::shared_ptr<detail::NpyRowReader> file;  // [input] file, read as its rows are needed (or null)

  // The entries of step t added to `row` (width values), in order.
  // A file with a member axis: every member's row gets the entries.
  void add(std::int64_t t, double* row) const {
    const auto w = static_cast<std::size_t>(width), k = static_cast<std::size_t>(m);
    if (!value.empty()) {
      for (std::size_t j = 0; j < w; ++j) row[j] += value[j % k];
    }
    for (const Part& p : parts) {
      if (t < p.first || t >= p.last) continue;
      if (p.kind == Part::Pulse && (t - p.first) % p.period >= p.width) continue;
      if (p.kind == Part::Sine) {
        const double s = std::sin(2.0 * 3.14159265358979323846 * p.frequency * static_cast<double>(t) * dt + p.phase);
        for (std::size_t j = 0; j < w; ++j) row[j] += p.value[j % k] * s;
      } else {
        for (std::size_t j = 0; j < w; ++j) row[j] += p.value[j % k];
      }
    }
  }

  // Rows first..first+count-1 (count x width values): the file's rows (or 0) plus the entries.
  void rows(std::int64_t first, std::int64_t count, double* out) const {
    const auto w = static_cast<std::size_t>(width);
    if (file) file->read(first, count, out);
    for (std::int64_t t = first; t < first + count; ++t) {
      double* row = out + static_cast<std::size_t>(t - first) * w;
      if (!file) {
        for (std::size_t j = 0; j < w; ++j) row[j] = 0.0;
      }
      add(t, row);
    }
  }
};

}  // namespace

ConfigInputs read_input(const TableReader& top, double dt, std::optional<std::int64_t> steps, std::int64_t m,
                        const std::string& input_node) {
  const toml::node* node = top.get("input");
  const std::string width_text = std::to_string(m) + " input" + (m == 1 ? "" : "s") + " of the input node '" + input_node + "'";
  auto program = std::make_shared<ComputedInput>();
  program->width = m;
  program->m = m;
  std::int64_t members = 0;  // an [input] file's member axis (0: none)
  program->dt = dt;
  std::string description = "computed per step from [input] (no array held; " + std::to_string(m) + " values a step)";
  const TableReader* r_ptr = nullptr;
  std::optional<TableReader> reader;
  if (node) {
    if (!node->is_table()) top.wrong("input", *node, "a table [input]");
    reader.emplace(top.ctx(), *node->as_table(), "input", std::vector<std::string>{"file", "value", "step", "pulse", "sine"});
    r_ptr = &*reader;
  }
  if (r_ptr != nullptr && r_ptr->string("file")) {
    const TableReader& r = *r_ptr;
    const std::string file = *r.string("file");
    // Opened and checked now, read in pieces as the run fetches its rows: never held whole.
    program->file = open_npy_rows(r.ctx(), *r.get("file"), r.key("file"), file);
    const std::vector<std::int64_t>& shape = program->file->shape();
    const bool ok = (shape.size() == 2 && shape[1] == m) || (m == 1 && shape.size() == 1) ||
                    (shape.size() == 3 && shape[1] >= 1 && shape[2] == m);
    if (!ok || shape[0] == 0) {
      fail(r.ctx(), r.get("file"), r.key("file"), "file '" + file + "' has shape " + shape_string(shape) + "; expected (T, " +
                                                      std::to_string(m) + "): one row per step, one column per each of the " + width_text +
                                                      " (or, for a sweep, (T, members, " + std::to_string(m) + "))");
    }
    if (shape.size() == 3) {  // each member of a sweep its own input (checked against [sweep] later)
      members = shape[1];
      program->width = members * m;
    }
    if (steps && *steps != shape[0]) {
      fail(r.ctx(), r.get("file"), r.key("file"), "file '" + file + "' has " + std::to_string(shape[0]) + " rows (steps) but steps = " +
                                                      std::to_string(*steps) + "; drop 'steps'/'duration' or make them agree");
    }
    program->steps = shape[0];
    description = "the [input] file '" + file + "' (" + std::to_string(shape[0]) + " x " +
                  (members > 0 ? std::to_string(members) + " members x " : std::string()) +
                  std::to_string(m) + ", " +
                  program->file->descr() + "), read in pieces of about 4 MiB as the run goes (never held whole)";
  } else {
    if (!steps) top.missing("steps", "the number of steps; or 'duration', or an [input] file");
    program->steps = *steps;
  }
  const std::int64_t T = program->steps;
  if (r_ptr != nullptr) {
    const TableReader& r = *r_ptr;
    if (r.get("value")) program->value = input_value(r, "value", m, true);
    auto components = [&](const std::string& kind, std::vector<std::string> keys, auto&& add) {
      const toml::array* list = table_array(r, kind);
      if (!list) return;
      for (std::size_t i = 0; i < list->size(); ++i) {
        TableReader c(r.ctx(), *(*list)[i].as_table(), "input." + kind + "[" + std::to_string(i) + "]", keys);
        add(c);
      }
    };
    using Part = ComputedInput::Part;
    components("step", {"start", "stop", "value"}, [&](const TableReader& c) {
      Part p;
      p.kind = Part::Step;
      p.value = input_value(c, "value", m, true);
      std::tie(p.first, p.last) = window(c, dt, T);
      program->parts.push_back(std::move(p));
    });
    components("pulse", {"start", "stop", "period", "width", "value"}, [&](const TableReader& c) {
      Part p;
      p.kind = Part::Pulse;
      p.value = input_value(c, "value", m, true);
      std::tie(p.first, p.last) = window(c, dt, T);
      const double period_time = c.required_number("period", "time from one pulse's start to the next");
      const double width_time = c.required_number("width", "duration of one pulse");
      if (!(width_time > 0)) fail(c.ctx(), c.get("width"), c.key("width"), "must be > 0, got " + std::to_string(width_time));
      // In steps, clamped to the run: a period or width beyond its end means one pulse.
      p.period = steps_clamped(period_time, dt, T + 1);
      p.width = steps_clamped(width_time, dt, T + 1);
      if (p.period < 1) fail(c.ctx(), c.get("period"), c.key("period"), "must be at least one step (dt)");
      program->parts.push_back(std::move(p));
    });
    components("sine", {"start", "stop", "amplitude", "frequency", "phase"}, [&](const TableReader& c) {
      Part p;
      p.kind = Part::Sine;
      p.value = input_value(c, "amplitude", m, true);
      p.frequency = c.required_number("frequency", "cycles per unit of time");
      p.phase = c.number("phase", 0.0);
      std::tie(p.first, p.last) = window(c, dt, T);
      program->parts.push_back(std::move(p));
    });
  }
  ConfigInputs out;
  out.description = description;
  out.computed.rows = T;
  out.computed.cols = program->width;
  out.members = members;
  out.computed.fetch = [program](std::int64_t first, std::int64_t count, double* dst) { program->rows(first, count, dst); };
  return out;
}

}  // namespace qifsim::config_detail

#endif  // QIFSIM_HAVE_TOML
