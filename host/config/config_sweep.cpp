// host/config/config_sweep.cpp - a config's [sweep] table: swept keys ("qif.eta" = [...], or
// nested, [sweep.qif] eta = [...]), each a list of numbers and .npy file names, and `mode`.
#include "qifsim/error.hpp"

#include <algorithm>

#ifdef QIFSIM_HAVE_TOML
#include "config/config_values.hpp"
#include "config/toml_reader.hpp"
#include "core/text.hpp"
#include "qifsim/npy.hpp"

namespace qifsim::config_detail {

namespace {

// One swept key's list: numbers, and .npy files of one value or one per neuron.
SweepKey read_key(const Ctx& ctx, const std::string& key, const toml::node& list) {
  const std::string at = "sweep." + key;
  if (!list.is_array()) {
    fail(ctx, &list, at, std::string("expected a list with one value per member (numbers or .npy file names), got ") +
                             type_name(list));
  }
  SweepKey k;
  k.key = key;
  const toml::array& a = *list.as_array();
  if (a.empty()) fail(ctx, &list, at, "the list is empty; give one value per member");
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string item = at + "[" + std::to_string(i) + "]";
    if (a[i].is_integer()) {
      k.values.push_back(SweepValue{{static_cast<double>(a[i].as_integer()->get())}});
    } else if (a[i].is_floating_point()) {
      const double v = a[i].as_floating_point()->get();
      if (!std::isfinite(v)) fail(ctx, &a[i], item, "must be finite");
      k.values.push_back(SweepValue{{v}});
    } else if (a[i].is_string()) {
      const std::string file = a[i].as_string()->get();
      if (!detail::ends_with(file, ".npy")) {
        fail(ctx, &a[i], item, "'" + file + "' is neither a number nor a .npy file name");
      }
      NpyArray arr = load_npy(ctx, a[i], item, file);
      const bool vector_shape =
          arr.shape.size() <= 1 || (arr.shape.size() == 2 && (arr.shape[0] == 1 || arr.shape[1] == 1));
      if (!vector_shape) {
        fail(ctx, &a[i], item, "file '" + file + "' has shape " + shape_string(arr.shape) +
                                   "; expected one value or one per neuron (n,)");
      }
      k.values.push_back(SweepValue{std::move(arr.data), file});
    } else {
      fail(ctx, &a[i], item, std::string("expected a number or a .npy file name, got ") + type_name(a[i]));
    }
  }
  return k;
}

struct Leaf {
  std::string key;
  const toml::node* node;
};

// Keys of `table` under `prefix`, nested tables flattened ("qif" -> {eta} is "qif.eta").
void collect(const toml::table& table, const std::string& prefix, std::vector<Leaf>& leaves) {
  for (auto&& [name, node] : table) {
    const std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (prefix.empty() && key == "mode") continue;
    if (node.is_table()) {
      collect(*node.as_table(), key, leaves);
    } else {
      leaves.push_back({key, &node});
    }
  }
}

}  // namespace

Sweep read_sweep(const TableReader& top, const Network& net, std::vector<FingerprintEntry>& fp) {
  Sweep sweep;
  const toml::node* node = top.get("sweep");
  if (node == nullptr) return sweep;
  if (!node->is_table()) top.wrong("sweep", *node, "a table [sweep] of swept keys, e.g. \"qif.eta\" = [-6, -5, -4]");
  const toml::table& table = *node->as_table();
  if (const toml::node* mode = table.get("mode")) {
    if (!mode->is_string()) fail(top.ctx(), mode, "sweep.mode", "expected \"zip\" or \"grid\"");
    try {
      sweep.mode = parse_sweep_mode(mode->as_string()->get());
    } catch (const Error& e) {
      fail(top.ctx(), mode, "sweep.mode", e.what());
    }
  }
  // In the order the file gives them (a grid's last key varies fastest), not the table's.
  std::vector<Leaf> leaves;
  collect(table, "", leaves);
  std::stable_sort(leaves.begin(), leaves.end(), [](const Leaf& a, const Leaf& b) {
    const auto& pa = a.node->source().begin;
    const auto& pb = b.node->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {  // "qif.k" = [...] and [sweep.qif] k = [...]: one key
      if (leaves[j].key == leaves[i].key) {
        fail(top.ctx(), leaves[i].node, "sweep." + leaves[i].key,
             "is given twice (quoted and as a nested table); give it once");
      }
    }
    sweep.keys.push_back(read_key(top.ctx(), leaves[i].key, *leaves[i].node));
  }
  if (sweep.keys.empty()) fail(top.ctx(), node, "sweep", "names no key to sweep (e.g. \"qif.eta\" = [-6, -5, -4])");
  try {
    net.check_sweep(sweep);
  } catch (const Error& e) {
    fail(top.ctx(), node, "sweep", e.what());
  }
  fingerprint_text(fp, "sweep.mode", to_string(sweep.mode));
  for (const SweepKey& k : sweep.keys) {
    for (std::size_t i = 0; i < k.values.size(); ++i) {
      fingerprint_values(fp, "sweep." + k.key + "[" + std::to_string(i) + "]", k.values[i].values);
    }
  }
  return sweep;
}

}  // namespace qifsim::config_detail

#endif  // QIFSIM_HAVE_TOML
