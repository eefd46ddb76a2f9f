// src/core/graph.cpp - node lookup, validation and the compile rules of a network graph.
#include "core/graph.hpp"

#include <cmath>
#include <utility>

#include "core/memory_check.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"

namespace qifsim::detail {
namespace {

struct VarEntry {
  const char* name;
  Var var;
};

constexpr VarEntry kPopulationVars[] = {
    {"v", Var::V},           {"s", Var::S},         {"x", Var::X},
    {"spike", Var::Spike},   {"s_in", Var::SIn},    {"I_ext", Var::IExt},
    {"eta", Var::Eta},       {"tau", Var::Tau},     {"k", Var::K},
    {"tau_s", Var::TauS},    {"v_threshold", Var::VThreshold},
    {"v_reset", Var::VReset}, {"alpha", Var::Alpha}, {"tau_x", Var::TauX}};
constexpr VarEntry kFunctionVars[] = {{"in", Var::In}, {"out", Var::Out}};

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void check_param(const std::string& node, const char* field, const Param& p, std::int64_t n,
                 bool positive) {
  const auto size = static_cast<std::int64_t>(p.values.size());
  if (size != 1 && size != n) {
    throw InvalidArgument("population '" + node + "': " + field + " has " + std::to_string(size) +
                          " values; expected 1 or N = " + std::to_string(n));
  }
  for (std::int64_t i = 0; i < size; ++i) {
    const double v = p.values[static_cast<std::size_t>(i)];
    if (!std::isfinite(v)) {
      throw InvalidArgument("population '" + node + "': " + field + "[" + std::to_string(i) +
                            "] is not finite (" + std::to_string(v) + ")");
    }
    if (positive && !(v > 0.0)) {
      throw InvalidArgument("population '" + node + "': " + field + "[" + std::to_string(i) +
                            "] = " + std::to_string(v) + " must be > 0");
    }
  }
}

}  // namespace

int Graph::find(const std::string& name) const {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Graph::require(const std::string& name, const std::string& context) const {
  const int i = find(name);
  if (i < 0) {
    std::vector<std::string> names;
    for (const auto& n : nodes) names.push_back(n.name);
    throw InvalidArgument(context + ": unknown node '" + name + "' (nodes: " +
                          (names.empty() ? std::string("none") : join(names)) + ")");
  }
  return i;
}

void Graph::add_node(Node node) {
  if (!valid_name(node.name)) {
    throw InvalidArgument("node name '" + node.name +
                          "' is invalid: use letters, digits, '_' and '-' only");
  }
  if (find(node.name) >= 0) {
    throw InvalidArgument("a node named '" + node.name + "' already exists");
  }
  if (node.size <= 0) {
    throw InvalidArgument("node '" + node.name + "': size " + std::to_string(node.size) +
                          " must be > 0");
  }
  if (node.kind == NodeKind::Population) validate_population(node.name, node.pop);
  nodes.push_back(std::move(node));
  order.clear();
}

void Graph::add_edge(const std::string& source, const std::string& target, Matrix weights) {
  const std::string ctx = "edge '" + source + "' -> '" + target + "'";
  const int s = require(source, ctx);
  const int t = require(target, ctx);
  if (s == t) {
    throw GraphError(ctx + ": a node cannot project onto itself; recurrence within a population "
                           "is its weights J");
  }
  const std::int64_t rows = nodes[static_cast<std::size_t>(t)].size;
  const std::int64_t cols = nodes[static_cast<std::size_t>(s)].size;
  if (weights.rows != rows || weights.cols != cols ||
      static_cast<std::int64_t>(weights.data.size()) != checked_product(rows, cols, ctx + ": weights")) {
    throw InvalidArgument(ctx + ": weights are " + shape(weights.rows, weights.cols) +
                          "; expected " + shape(rows, cols) + " (target size x source size)");
  }
  for (std::size_t i = 0; i < weights.data.size(); ++i) {
    if (!std::isfinite(weights.data[i])) {
      throw InvalidArgument(ctx + ": weight (" + std::to_string(i / cols) + ", " +
                            std::to_string(i % cols) + ") is not finite");
    }
  }
  edges.push_back(Edge{s, t, std::move(weights)});
  order.clear();
}

std::vector<int> Graph::incoming(int i) const {
  std::vector<int> in;
  for (std::size_t e = 0; e < edges.size(); ++e) {
    if (edges[e].target == i) in.push_back(static_cast<int>(e));
  }
  return in;
}

void Graph::compile() {
  if (nodes.empty()) throw GraphError("compile: the network has no nodes");
  const std::size_t n = nodes.size();
  std::vector<int> indegree(n, 0), outdegree(n, 0);
  for (const auto& e : edges) {
    ++indegree[static_cast<std::size_t>(e.target)];
    ++outdegree[static_cast<std::size_t>(e.source)];
  }
  std::vector<std::string> sources, sinks;
  for (std::size_t i = 0; i < n; ++i) {
    if (indegree[i] == 0) sources.push_back(nodes[i].name);
    if (outdegree[i] == 0) sinks.push_back(nodes[i].name);
  }
  if (sources.size() != 1) {
    throw GraphError("compile: exactly one node must have no incoming edges (the input node); " +
                     (sources.empty() ? std::string("found none") : "found " + join(sources)));
  }
  if (sinks.size() != 1) {
    throw GraphError("compile: exactly one node must have no outgoing edges (the output node); " +
                     (sinks.empty() ? std::string("found none") : "found " + join(sinks)));
  }
  // Kahn's algorithm, stable in the order nodes were added.
  std::vector<int> remaining = indegree;
  std::vector<int> ordered;
  std::vector<bool> done(n, false);
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i] || remaining[i] != 0) continue;
      done[i] = true;
      progress = true;
      ordered.push_back(static_cast<int>(i));
      for (const auto& e : edges) {
        if (e.source == static_cast<int>(i)) --remaining[static_cast<std::size_t>(e.target)];
      }
    }
  }
  if (ordered.size() != n) {
    std::vector<std::string> cyclic;
    for (std::size_t i = 0; i < n; ++i) {
      if (!done[i]) cyclic.push_back(nodes[i].name);
    }
    throw GraphError("compile: the edges form a cycle through " + join(cyclic) +
                     "; recurrence belongs inside a population (its weights J)");
  }
  order = std::move(ordered);
  input = find(sources[0]);
  output = find(sinks[0]);
}

namespace {

// Calls f(name, var) for each variable of `node`, in table order.
template <class F>
void for_each_var(const Node& node, F&& f) {
  auto scan = [&](const auto& table) {
    for (const auto& entry : table) {
      const bool adapt_only = entry.var == Var::X || entry.var == Var::Alpha || entry.var == Var::TauX;
      if (adapt_only && !node.pop.adaptation) continue;
      f(entry.name, entry.var);
    }
  };
  if (node.kind == NodeKind::Population) scan(kPopulationVars);
  else scan(kFunctionVars);
}

}  // namespace

std::vector<std::string> var_names(const Node& node) {
  std::vector<std::string> names;
  for_each_var(node, [&](const char* name, Var) { names.emplace_back(name); });
  return names;
}

Var parse_var(const Node& node, const std::string& var) {
  int found = -1;
  for_each_var(node, [&](const char* name, Var v) {
    if (found < 0 && var == name) found = static_cast<int>(v);
  });
  if (found < 0) {
    const bool pop = node.kind == NodeKind::Population;
    throw InvalidArgument("node '" + node.name + "' has no variable '" + var + "' (" +
                          (pop ? "population" : "function node") + " variables: " + join(var_names(node)) +
                          ")");
  }
  return static_cast<Var>(found);
}

const char* var_name(Var v) {
  for (const auto& e : kPopulationVars) {
    if (e.var == v) return e.name;
  }
  for (const auto& e : kFunctionVars) {
    if (e.var == v) return e.name;
  }
  return "?";
}

bool is_recordable(Var v) { return !is_parameter(v); }

bool is_parameter(Var v) {
  switch (v) {
    case Var::Eta: case Var::Tau: case Var::K: case Var::TauS:
    case Var::VThreshold: case Var::VReset: case Var::Alpha: case Var::TauX:
      return true;
    default:
      return false;
  }
}

const Param& param_of(const QifPopulation& pop, Var v) {
  switch (v) {
    case Var::Eta: return pop.eta;
    case Var::Tau: return pop.tau;
    case Var::K: return pop.k;
    case Var::TauS: return pop.tau_s;
    case Var::VThreshold: return pop.v_threshold;
    case Var::VReset: return pop.v_reset;
    case Var::Alpha: return pop.alpha;
    case Var::TauX: return pop.tau_x;
    default: throw InvalidArgument(std::string("'") + var_name(v) + "' is not a parameter");
  }
}

Param& param_of(QifPopulation& pop, Var v) {
  return const_cast<Param&>(param_of(static_cast<const QifPopulation&>(pop), v));
}

void validate_population(const std::string& name, const QifPopulation& pop) {
  const std::int64_t n = pop.n;
  if (n <= 0) throw InvalidArgument("population '" + name + "': n = " + std::to_string(n) + " must be > 0");
  const Matrix& J = pop.weights;
  if (!J.empty() || !J.data.empty()) {
    if (J.rows != n || J.cols != n ||
        static_cast<std::int64_t>(J.data.size()) != checked_product(n, n, "population '" + name + "': weights")) {
      throw InvalidArgument("population '" + name + "': weights are " + shape(J.rows, J.cols) +
                            " (" + std::to_string(J.data.size()) + " values); expected N x N = " +
                            shape(n, n));
    }
    for (std::size_t i = 0; i < J.data.size(); ++i) {
      if (!std::isfinite(J.data[i])) {
        throw InvalidArgument("population '" + name + "': weights (" + std::to_string(i / n) +
                              ", " + std::to_string(i % n) + ") is not finite");
      }
    }
  }
  check_param(name, "eta", pop.eta, n, false);
  check_param(name, "tau", pop.tau, n, true);
  check_param(name, "k", pop.k, n, false);
  check_param(name, "tau_s", pop.tau_s, n, true);
  check_param(name, "v0", pop.v0, n, false);
  check_param(name, "s0", pop.s0, n, false);
  check_param(name, "v_threshold", pop.v_threshold, n, false);
  check_param(name, "v_reset", pop.v_reset, n, false);
  if (pop.adaptation) {
    check_param(name, "alpha", pop.alpha, n, false);
    check_param(name, "tau_x", pop.tau_x, n, true);
    check_param(name, "x0", pop.x0, n, false);
  }
  // One comparison when both are scalars (N may be far larger than what is stored).
  const std::int64_t pairs = pop.v_reset.is_scalar() && pop.v_threshold.is_scalar() ? 1 : n;
  for (std::int64_t i = 0; i < pairs; ++i) {
    if (!(pop.v_reset.at(i) < pop.v_threshold.at(i))) {
      throw InvalidArgument("population '" + name + "': v_reset (" + std::to_string(pop.v_reset.at(i)) +
                            ") must be below v_threshold (" + std::to_string(pop.v_threshold.at(i)) +
                            ") (neuron " + std::to_string(i) + ")");
    }
  }
  if (pop.output_var != "s" && pop.output_var != "v") {
    throw InvalidArgument("population '" + name + "': output_var '" + pop.output_var +
                          "' is not supported (use \"s\" or \"v\")");
  }
}

}  // namespace qifsim::detail
