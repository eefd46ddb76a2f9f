// host/core/sweep.cpp - Sweep: members counted and combined, and made into member graphs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/sweep_members.hpp"
#include "qifsim/error.hpp"

namespace qifsim {

SweepKey SweepKey::numbers(std::string key, const std::vector<double>& values) {
  SweepKey k;
  k.key = std::move(key);
  for (double v : values) k.values.push_back(SweepValue{{v}});
  return k;
}

std::int64_t Sweep::members() const {
  if (keys.empty()) return 1;
  std::int64_t count = mode == SweepMode::Grid ? 1 : -1;
  std::string lengths;
  bool unequal = false;
  for (const SweepKey& k : keys) {
    const auto n = static_cast<std::int64_t>(k.values.size());
    if (n == 0) throw InvalidArgument("sweep: key '" + k.key + "' has no values");
    lengths += (lengths.empty() ? "" : ", ") + ("'" + k.key + "' " + std::to_string(n));
    if (mode == SweepMode::Grid) {
      if (count > (std::int64_t{1} << 31) / n) throw InvalidArgument("sweep: the grid has more than 2^31 members");
      count *= n;
    } else if (count < 0) {
      count = n;
    } else if (n != count) {
      unequal = true;
    }
  }
  if (unequal) {
    throw InvalidArgument("sweep: zipped keys need lists of one length (" + lengths +
                          "); give them equal lengths, or mode = \"grid\" for every combination");
  }
  return count;
}

std::vector<std::size_t> Sweep::member_values(std::int64_t member) const {
  const std::int64_t count = members();
  if (member < 0 || member >= count) {
    throw InvalidArgument("sweep: member " + std::to_string(member) + " is not one of the " + std::to_string(count));
  }
  std::vector<std::size_t> at(keys.size());
  if (mode == SweepMode::Zip) {
    for (std::size_t k = 0; k < keys.size(); ++k) at[k] = static_cast<std::size_t>(member);
    return at;
  }
  std::int64_t rest = member;
  for (std::size_t k = keys.size(); k-- > 0;) {  // the last key varies fastest
    const auto n = static_cast<std::int64_t>(keys[k].values.size());
    at[k] = static_cast<std::size_t>(rest % n);
    rest /= n;
  }
  return at;
}

std::string sweep_value_text(const SweepValue& value) {
  if (!value.label.empty()) return value.label;
  if (value.values.size() != 1) return std::to_string(value.values.size()) + " values";
  char buf[32];
  for (int digits = 15; digits <= 17; ++digits) {  // the shortest that reads back as the value
    std::snprintf(buf, sizeof buf, "%.*g", digits, value.values[0]);
    if (std::strtod(buf, nullptr) == value.values[0]) break;
  }
  return buf;
}

const char* to_string(SweepMode mode) { return mode == SweepMode::Grid ? "grid" : "zip"; }

SweepMode parse_sweep_mode(const std::string& text) {
  if (text == "zip") return SweepMode::Zip;
  if (text == "grid") return SweepMode::Grid;
  throw InvalidArgument("sweep: mode = '" + text + "' is unknown (modes: zip, grid)");
}

namespace detail {
namespace {

// How a key acts on a member's graph.
struct KeyTarget {
  enum class What { Param, Initial, Sigma, NoiseSeed, PoissonSeed, InputScale } what = What::Param;
  int node = -1;
  Var var = Var::V;
};

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

KeyTarget resolve(const Graph& graph, const std::string& key) {
  KeyTarget t;
  if (key == "input.scale") {
    t.what = KeyTarget::What::InputScale;
    return t;
  }
  const std::size_t dot = key.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) {
    throw InvalidArgument("sweep: key '" + key + "' is not \"<population>.<name>\" or \"input.scale\"");
  }
  const std::string pop = key.substr(0, dot), name = key.substr(dot + 1);
  t.node = graph.require(pop, "sweep: key '" + key + "'");
  const Node& node = graph.nodes[static_cast<std::size_t>(t.node)];
  if (node.kind != NodeKind::Population) {
    throw InvalidArgument("sweep: key '" + key + "': '" + pop + "' is a function node; sweep a population's values");
  }
  if (name == "sigma") {
    t.what = KeyTarget::What::Sigma;
  } else if (name == "noise_seed") {
    t.what = KeyTarget::What::NoiseSeed;
  } else if (name == "poisson_seed") {
    if (node.poisson.empty()) throw InvalidArgument("sweep: key '" + key + "': '" + pop + "' has no Poisson input");
    t.what = KeyTarget::What::PoissonSeed;
  } else {
    // A parameter by its model's name first (the sigmoid's centre is a parameter named v0),
    // then an initial value: "<state>0" (v0, s0, u0, ...) or "<state>_init" (v_init).
    const auto state_of = [&](const std::string& suffix) -> int {
      if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return -1;
      try {
        const Var v = parse_var(node, name.substr(0, name.size() - suffix.size()));
        return is_state(v) ? static_cast<int>(v) : -1;
      } catch (const InvalidArgument&) {
        return -1;
      }
    };
    Var v = Var::V;
    bool known = false;
    try {
      v = parse_var(node, name);
      known = true;
    } catch (const InvalidArgument&) {
    }
    if (known && is_parameter(v)) {
      t.what = KeyTarget::What::Param;
      t.var = v;
    } else if (const int state = std::max(state_of("0"), state_of("_init")); state >= 0) {
      t.what = KeyTarget::What::Initial;
      t.var = static_cast<Var>(state);
      try {
        (void)node_initial(node, t.var);  // declared by the model
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("sweep: key '" + key + "': " + e.what());
      }
    } else if (known) {
      throw InvalidArgument("sweep: key '" + key + "': '" + name + "' is a state variable; sweep its initial value '" +
                            name + "0' or a parameter");
    } else {
      throw InvalidArgument("sweep: key '" + key + "': '" + name + "' is no parameter of population '" + pop +
                            "' (names: " + join_names(var_names(node)) + "), nor an initial value (<state>0), sigma, "
                            "noise_seed or poisson_seed");
    }
  }
  return t;
}

std::uint64_t seed_of(const SweepValue& v, const std::string& key, std::int64_t member) {
  const double x = v.values.size() == 1 ? v.values[0] : -1.0;
  if (!(x >= 0.0 && x <= 9007199254740992.0 && std::floor(x) == x)) {
    throw InvalidArgument("sweep: key '" + key + "', member " + std::to_string(member) +
                          ": a seed is one whole number from 0 to 2^53");
  }
  return static_cast<std::uint64_t>(x);
}

}  // namespace

SweepMembers sweep_members(const Graph& graph, const Sweep& sweep, bool keep) {
  const std::int64_t count = sweep.members();
  if (count > kMaxMembers) {
    throw InvalidArgument("sweep: " + std::to_string(count) + " members; at most " + std::to_string(kMaxMembers) +
                          " run in one ensemble (split the sweep into several runs)");
  }
  std::vector<KeyTarget> targets;
  for (std::size_t k = 0; k < sweep.keys.size(); ++k) {
    for (std::size_t j = 0; j < k; ++j) {
      if (sweep.keys[j].key == sweep.keys[k].key) throw InvalidArgument("sweep: key '" + sweep.keys[k].key + "' is given twice");
    }
    targets.push_back(resolve(graph, sweep.keys[k].key));
  }
  // Every value's size and finiteness, once per value (not per member).
  for (std::size_t k = 0; k < sweep.keys.size(); ++k) {
    const KeyTarget& t = targets[k];
    const std::int64_t n = t.node >= 0 ? graph.nodes[static_cast<std::size_t>(t.node)].size : 1;
    const bool one_only = t.what == KeyTarget::What::InputScale || t.what == KeyTarget::What::NoiseSeed ||
                          t.what == KeyTarget::What::PoissonSeed;
    for (std::size_t i = 0; i < sweep.keys[k].values.size(); ++i) {
      const SweepValue& v = sweep.keys[k].values[i];
      const auto size = static_cast<std::int64_t>(v.values.size());
      if (size != 1 && (one_only || size != n)) {
        throw InvalidArgument("sweep: key '" + sweep.keys[k].key + "', value " + std::to_string(i) + " (" +
                              sweep_value_text(v) + ") has " + std::to_string(size) + " values; expected 1" +
                              (one_only ? "" : " or " + std::to_string(n) + " (one per neuron)"));
      }
      for (double x : v.values) {
        if (!std::isfinite(x)) {
          throw InvalidArgument("sweep: key '" + sweep.keys[k].key + "', value " + std::to_string(i) + " (" +
                                sweep_value_text(v) + ") holds a value that is not finite");
        }
      }
    }
  }
  SweepMembers out;
  out.input_scale.assign(static_cast<std::size_t>(keep ? count : 0), 1.0);
  if (keep) out.graphs.reserve(static_cast<std::size_t>(count));
  // Checking only: copies of the nodes the keys name, not of the graph, member after member.
  std::vector<std::size_t> touched;
  for (const KeyTarget& t : targets) {
    if (t.node >= 0 && std::find(touched.begin(), touched.end(), static_cast<std::size_t>(t.node)) == touched.end()) {
      touched.push_back(static_cast<std::size_t>(t.node));
    }
  }
  for (std::int64_t b = 0; b < count; ++b) {
    Graph g;
    std::vector<Node> copies;
    std::vector<Node*> nodes(graph.nodes.size(), nullptr);
    if (keep) {
      g = graph;
      for (std::size_t i = 0; i < g.nodes.size(); ++i) nodes[i] = &g.nodes[i];
    } else {
      copies.reserve(touched.size());
      for (std::size_t i : touched) {
        copies.push_back(graph.nodes[i]);
        nodes[i] = &copies.back();
      }
    }
    const std::vector<std::size_t> at = sweep.member_values(b);
    for (std::size_t k = 0; k < sweep.keys.size(); ++k) {
      const KeyTarget& t = targets[k];
      const SweepValue& v = sweep.keys[k].values[at[k]];
      Node* node = t.node >= 0 ? nodes[static_cast<std::size_t>(t.node)] : nullptr;
      switch (t.what) {
        case KeyTarget::What::Param: node_param(*node, t.var) = Param(v.values); break;
        case KeyTarget::What::Initial: node_initial(*node, t.var) = Param(v.values); break;
        case KeyTarget::What::Sigma: node->noise.sigma = Param(v.values); break;
        case KeyTarget::What::NoiseSeed: node->noise.seed = seed_of(v, sweep.keys[k].key, b); break;
        case KeyTarget::What::PoissonSeed:
          for (PoissonInput& p : node->poisson) p.seed = seed_of(v, sweep.keys[k].key, b);
          break;
        case KeyTarget::What::InputScale:
          if (keep) out.input_scale[static_cast<std::size_t>(b)] = v.values[0];
          break;
      }
    }
    for (std::size_t k = 0; k < sweep.keys.size(); ++k) {
      const KeyTarget& t = targets[k];
      if (t.node < 0) continue;
      const Node& node = *nodes[static_cast<std::size_t>(t.node)];
      try {
        if (other_model_of(node) != nullptr) {
          validate_model_node(node);
        } else {
          QifPopulation values = node.pop;  // the values only: the weights are the network's, checked
          values.weights = Weights();
          validate_population(node.name, values);
        }
        for (double s : node.noise.sigma.values) {
          if (!(s >= 0.0)) throw InvalidArgument("population '" + node.name + "': sigma must be >= 0");
        }
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("sweep: member " + std::to_string(b) + " (key '" + sweep.keys[k].key + "'): " + e.what());
      }
    }
    if (keep) out.graphs.push_back(std::move(g));
  }
  return out;
}

std::string sweep_signature(const Sweep& sweep) {
  std::string text = to_string(sweep.mode);
  for (const SweepKey& k : sweep.keys) {
    text += "; " + k.key + " =";
    for (const SweepValue& v : k.values) {
      text += " " + sweep_value_text(v);
      if (v.values.size() > 1) {  // per-neuron values: their bits, hashed (FNV-1a)
        std::uint64_t h = 1469598103934665603ull;
        for (double x : v.values) {
          std::uint64_t bits = 0;
          std::memcpy(&bits, &x, sizeof bits);
          h = (h ^ bits) * 1099511628211ull;
        }
        text += "#" + std::to_string(h);
      }
    }
  }
  return text;
}

}  // namespace detail

}  // namespace qifsim
