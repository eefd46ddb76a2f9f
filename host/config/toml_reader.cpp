// host/config/toml_reader.cpp - reading TOML: messages with file and line, typed getters, --set overrides.
#include "config/toml_reader.hpp"

#include "qifsim/npz.hpp"

#ifdef QIFSIM_HAVE_TOML

#include <cstring>
#include <exception>
#include <filesystem>
#include <sstream>
#include <system_error>

namespace qifsim::config_detail {

namespace {

namespace fs = std::filesystem;

std::string location(const Ctx& ctx, const toml::node* n) {
  if (!n) return ctx.name;
  const auto& src = n->source();
  std::string file = ctx.name;
  if (src.path && !src.path->empty() && src.path->rfind("--set", 0) == 0) file = *src.path;
  if (src.begin.line == 0) return file + " (--set)";  // only --set values lack a position
  return file + ":" + std::to_string(src.begin.line);
}

std::string resolve(const Ctx& ctx, const std::string& file) {
  const fs::path p(file);
  if (p.is_absolute()) return p.string();
  return (fs::path(ctx.base_dir) / p).lexically_normal().string();
}

}  // namespace

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

namespace {

// A file named by a config key, found relative to the config's folder and read by `read`;
// a missing file or a read error names the key and its line.
template <class Read>
auto load_file(const Ctx& ctx, const toml::node& n, const std::string& key, const std::string& file, Read read) {
  const std::string path = resolve(ctx, file);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    fail(ctx, &n, key, "file '" + file + "' not found" + (path != file ? " (looked for '" + path + "')" : std::string()));
  }
  ctx.files_read->push_back(path);
  try {
    return read(path);
  } catch (const Error& e) {
    fail(ctx, &n, key, e.what());
  }
}

}  // namespace

NpyArray load_npy(const Ctx& ctx, const toml::node& n, const std::string& key, const std::string& file) {
  return load_file(ctx, n, key, file, [](const std::string& path) { return read_npy(path); });
}

std::shared_ptr<detail::NpyRowReader> open_npy_rows(const Ctx& ctx, const toml::node& n, const std::string& key,
                                                    const std::string& file) {
  return load_file(ctx, n, key, file, [](const std::string& path) { return std::make_shared<detail::NpyRowReader>(path); });
}

SparseMatrix load_npz(const Ctx& ctx, const toml::node& n, const std::string& key, const std::string& file) {
  return load_file(ctx, n, key, file, [](const std::string& path) { return load_sparse_npz(path); });
}

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
  // Components split at dots, as TOML's dotted keys: a double-quoted component keeps its dots
  // (sweep."qif.k" is the key "qif.k" of [sweep]).
  std::vector<std::string> parts;
  std::string part;
  bool quoted = false, was_quoted = false;
  for (const char c : path + ".") {
    if (c == '"') {
      quoted = !quoted;
      was_quoted = true;
    } else if (c == '.' && !quoted) {
      if (part.empty() && !was_quoted) throw ConfigError(where + ": empty key component in '" + path + "'");
      parts.push_back(part);
      part.clear();
      was_quoted = false;
    } else {
      part += c;
    }
  }
  if (quoted) throw ConfigError(where + ": a quote in '" + path + "' is not closed");
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

}  // namespace qifsim::config_detail

#endif  // QIFSIM_HAVE_TOML
