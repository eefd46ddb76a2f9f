// host/config/toml_reader.hpp - the TOML reading layer of configs: typed getters that name key and line.
//
// Every check happens while a config is read, before anything runs; a failure is a ConfigError
// whose message reads "<file>:<line>: <key>: <problem>" (the key as a path: population[0].eta).
// Only the files of host/config/ include this header.
#pragma once

#include <memory>

#include "io/npy_rows.hpp"

#ifdef QIFSIM_HAVE_TOML

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qifsim/config.hpp"
#include "qifsim/npy.hpp"
#include "qifsim/sparse_matrix.hpp"
#include "core/text.hpp"

// toml++ is used header-only inside config/, so that neither libqifsim nor its users
// need the toml++ library at link or run time.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace qifsim::config_detail {

struct Ctx {
  std::string name;      // the config's name in messages
  std::string base_dir;  // relative .npy paths resolve against it
  // The .npy files read (outputs may not replace them); shared by the copies of a Ctx.
  std::shared_ptr<std::vector<std::string>> files_read = std::make_shared<std::vector<std::string>>();
};

/// "a table", "an integer", ...: what a node is, for messages.
const char* type_name(const toml::node& n);

/// Throws ConfigError("<file>:<line>: <key>: <msg>") for node n (nullptr: the file alone).
[[noreturn]] void fail(const Ctx& ctx, const toml::node* n, const std::string& key, const std::string& msg);

/// The Levenshtein distance of a and b (for "did you mean").
std::size_t edit_distance(const std::string& a, const std::string& b);

/// "path.key" (or "key" at the top level).
std::string child(const std::string& path, const std::string& key);

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

/// Reads the .npy file a key names (relative to the config's folder), noting it in ctx.files_read.
NpyArray load_npy(const Ctx& ctx, const toml::node& n, const std::string& key, const std::string& file);
/// The .npy file a key names, opened to be read rows at a time (checked as load_npy checks it,
/// the values converted as they are read).
std::shared_ptr<detail::NpyRowReader> open_npy_rows(const Ctx& ctx, const toml::node& n, const std::string& key,
                                                    const std::string& file);
/// The sparse matrix of a scipy.sparse.save_npz file, found as load_npy() finds files.
SparseMatrix load_npz(const Ctx& ctx, const toml::node& n, const std::string& key, const std::string& file);

/// A list of tables [[k]]; nullptr when absent.
const toml::array* table_array(const TableReader& r, const std::string& k);

/// Refuses a non-ASCII character outside a string or comment (before toml++ sees the text).
void check_toml_characters(const std::string& text, const std::string& name);

/// Applies one --set KEY=VALUE to the parsed config.
void apply_override(toml::table& root, const std::string& text);

}  // namespace qifsim::config_detail

#endif  // QIFSIM_HAVE_TOML
