// host/core/graph.cpp - node lookup, validation and the compile rules of a network graph.
#include "core/graph.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/memory_check.hpp"
#include "qifsim/error.hpp"
#include "core/text.hpp"
#include "model/qif_population.hpp"

namespace qifsim::detail {
namespace {

static_assert(model::state_index(model::kQif, "v") == static_cast<int>(Var::V) &&
                  model::state_index(model::kQif, "s") == static_cast<int>(Var::S) &&
                  model::state_index(model::kQif, "x") == static_cast<int>(Var::X),
              "Var::V, S, X follow the QIF model's states");

struct VarEntry {
  const char* name;
  Var var;
  const char* feature;  // nullptr, or the option it needs
};

// Values of a spiking population that are not state: computed in each step.
constexpr VarEntry kStepValues[] = {{"spike", Var::Spike, nullptr}, {"s_in", Var::SIn, nullptr}, {"I_ext", Var::IExt, nullptr}};
constexpr VarEntry kFunctionVars[] = {{"in", Var::In, nullptr}, {"out", Var::Out, nullptr}};

// A population's variables: the model's states, its per-step values, then its parameters.
template <class F>
void for_each_population_var(F&& f) {
  for (std::size_t s = 0; s < model::kQif.state_count; ++s) {
    const model::StateDecl& st = model::kQif.states[s];
    f(VarEntry{st.name, static_cast<Var>(s), st.feature});
  }
  for (const auto& e : kStepValues) f(e);
  for (std::size_t i = 0; i < model::kQif.param_count; ++i) {
    const model::ParamDecl& p = model::kQif.params[i];
    f(VarEntry{p.name, param_var(static_cast<int>(i)), p.feature});
  }
}

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
  if (node.kind == NodeKind::Population && node.model == model::ModelId::Qif) validate_population(node.name, node.pop);
  nodes.push_back(std::move(node));
  order.clear();
}

namespace {

bool finite_values(const std::vector<double>& v) {
  for (double x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// The weights times the mask, entry by entry (a sparse matrix keeps its stored entries).
Weights masked(const Weights& w, const Matrix& mask) {
  if (w.kind() == Weights::Kind::Sparse) {
    SparseMatrix m = w.sparse();
    for (std::int64_t r = 0; r < m.rows; ++r) {
      for (std::int64_t k = m.indptr[static_cast<std::size_t>(r)]; k < m.indptr[static_cast<std::size_t>(r + 1)]; ++k) {
        m.values[static_cast<std::size_t>(k)] *= mask(r, m.indices[static_cast<std::size_t>(k)]);
      }
    }
    return Weights(std::move(m));
  }
  Matrix d = w.to_dense();
  for (std::size_t i = 0; i < d.data.size(); ++i) d.data[i] *= mask.data[i];
  return Weights(std::move(d));
}

}  // namespace

void Graph::add_edge(const std::string& source, const std::string& target, Weights weights, EdgeOptions options) {
  const std::string ctx = "edge '" + source + "' -> '" + target + "'";
  const int s = require(source, ctx);
  const int t = require(target, ctx);
  if (s == t) {
    throw GraphError(ctx + ": a node cannot project onto itself; recurrence within a population "
                           "is its weights J");
  }
  const std::int64_t rows = nodes[static_cast<std::size_t>(t)].size;
  const std::int64_t cols = nodes[static_cast<std::size_t>(s)].size;
  if (weights.empty()) throw InvalidArgument(ctx + ": weights are empty; expected " + shape(rows, cols) + " (target size x source size)");
  validate_weights(weights, rows, cols, ctx, "target size x source size");
  if (!options.mask.data.empty()) {
    if (options.mask.rows != rows || options.mask.cols != cols) {
      throw InvalidArgument(ctx + ": mask is " + shape(options.mask.rows, options.mask.cols) + "; expected " +
                            shape(rows, cols) + " (target size x source size, as the weights)");
    }
    if (!finite_values(options.mask.data)) throw InvalidArgument(ctx + ": mask holds a value that is not finite");
    weights = masked(weights, options.mask);
    options.mask = Matrix();
  }
  if (!options.delays.empty()) {
    if (static_cast<std::int64_t>(options.delays.size()) != cols) {
      throw InvalidArgument(ctx + ": " + std::to_string(options.delays.size()) + " delays; expected one per source unit (" +
                            std::to_string(cols) + ")");
    }
    std::int64_t most = 0;
    for (std::int64_t d : options.delays) {
      if (d < 0) throw InvalidArgument(ctx + ": delay " + std::to_string(d) + " is negative (delays are steps, >= 0)");
      most = std::max(most, d);
    }
    // The buffer: source size x (max delay + 1) values (and as many for a filter's product).
    const double bytes = static_cast<double>(cols) * static_cast<double>(most + 1) * 8.0 *
                         (options.filter.data.empty() ? 1.0 : 2.0);
    detail::require_host_bytes(bytes, ctx + ": the delay buffer (" + shape(cols, most + 1) + ")");
  }
  if (!options.filter.data.empty()) {
    if (options.filter.rows != cols || options.filter.cols != cols) {
      throw InvalidArgument(ctx + ": filter_weights are " + shape(options.filter.rows, options.filter.cols) +
                            "; expected " + shape(cols, cols) + " (source size x source size)");
    }
    if (!finite_values(options.filter.data)) throw InvalidArgument(ctx + ": filter_weights hold a value that is not finite");
  }
  edges.push_back(Edge{s, t, std::move(weights), std::move(options)});
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
  if (const model::ModelInfo* m = other_model_of(node)) {
    const model::ModelDecl& d = *m->decl;
    for (std::size_t k = 0; k < d.state_count; ++k) f(d.states[k].name, state_var(m->state_slot[k]));
    const bool rate = d.kind == model::ModelKind::Rate;
    if (rate) f("r", Var::S);
    if (!rate) f("spike", Var::Spike);
    f(m->coupled_input, Var::SIn);
    f("I_ext", Var::IExt);
    for (std::size_t i = 0; i < d.param_count; ++i) f(d.params[i].name, param_var(static_cast<int>(i)));
    return;
  }
  if (node.kind == NodeKind::Population) {
    for_each_population_var([&](const VarEntry& e) {
      if (e.feature == nullptr || node.pop.adaptation) f(e.name, e.var);
    });
  } else {
    for (const auto& e : kFunctionVars) f(e.name, e.var);
  }
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
  const char* found = "?";
  for_each_population_var([&](const VarEntry& e) {
    if (e.var == v) found = e.name;
  });
  for (const auto& e : kFunctionVars) {
    if (e.var == v) found = e.name;
  }
  return found;
}

bool is_recordable(Var v) { return !is_parameter(v); }

bool is_parameter(Var v) { return param_slot(v) >= 0 && param_slot(v) < kernels::kMaxModelParams; }

const Param& param_of(const QifPopulation& pop, Var v) {
  if (!is_parameter(v)) throw InvalidArgument(std::string("'") + var_name(v) + "' is not a parameter");
  return pop.*model::kQifParamFields[param_slot(v)];
}

bool is_state(Var v) { return state_slot(v) >= 0; }

const Param& initial_of(const QifPopulation& pop, Var state) {
  if (!is_state(state) || state == Var::W) throw InvalidArgument(std::string("'") + var_name(state) + "' is not a state variable");
  return pop.*model::kQifInitialFields[static_cast<int>(state)];
}

Param& initial_of(QifPopulation& pop, Var state) {
  return const_cast<Param&>(initial_of(static_cast<const QifPopulation&>(pop), state));
}

Param& param_of(QifPopulation& pop, Var v) {
  return const_cast<Param&>(param_of(static_cast<const QifPopulation&>(pop), v));
}

void validate_weights(const Weights& w, std::int64_t rows, std::int64_t cols, const std::string& ctx,
                      const char* expected_what) {
  const std::string expected = std::string("; expected ") + expected_what + " = " + shape(rows, cols);
  switch (w.kind()) {
    case Weights::Kind::None: return;
    case Weights::Kind::Dense: {
      const Matrix& J = w.dense();
      if (J.rows != rows || J.cols != cols ||
          static_cast<std::int64_t>(J.data.size()) != checked_product(rows, cols, ctx + ": weights")) {
        throw InvalidArgument(ctx + ": weights are " + shape(J.rows, J.cols) + " (" + std::to_string(J.data.size()) +
                              " values)" + expected);
      }
      for (std::size_t i = 0; i < J.data.size(); ++i) {
        if (!std::isfinite(J.data[i])) {
          throw InvalidArgument(ctx + ": weights (" + std::to_string(i / static_cast<std::size_t>(cols)) + ", " +
                                std::to_string(i % static_cast<std::size_t>(cols)) + ") is not finite");
        }
      }
      return;
    }
    case Weights::Kind::Sparse:
      if (w.rows() != rows || w.cols() != cols) {
        throw InvalidArgument(ctx + ": sparse weights are " + shape(w.rows(), w.cols()) + expected);
      }
      w.sparse().validate(ctx + ": sparse weights");
      return;
    case Weights::Kind::AllToAll:
      if (w.rows() != rows || w.cols() != cols) {
        throw InvalidArgument(ctx + ": all-to-all weights are " + shape(w.rows(), w.cols()) + expected);
      }
      return;
  }
}

void validate_population(const std::string& name, const QifPopulation& pop) {
  const std::int64_t n = pop.n;
  if (n <= 0) throw InvalidArgument("population '" + name + "': n = " + std::to_string(n) + " must be > 0");
  if (!pop.weights.empty()) validate_weights(pop.weights, n, n, "population '" + name + "'", "N x N");
  for (std::size_t i = 0; i < model::kQifFieldCount; ++i) {
    const model::QifField f = model::qif_field(i);
    if (model::qif_field_present(f, pop.adaptation)) {
      check_param(name, f.name, pop.*f.member, n, f.rule == model::Rule::Positive);
    }
  }
  // A spiking model resets below its threshold. One comparison when both are scalars (N may
  // be far larger than what is stored).
  const Param& reset = pop.*model::kQifParamFields[model::kVReset];
  const Param& threshold = pop.*model::kQifParamFields[model::kVThreshold];
  const std::int64_t pairs = reset.is_scalar() && threshold.is_scalar() ? 1 : n;
  for (std::int64_t i = 0; i < pairs; ++i) {
    if (!(reset.at(i) < threshold.at(i))) {
      throw InvalidArgument("population '" + name + "': " + model::kQif.params[model::kVReset].name + " (" +
                            std::to_string(reset.at(i)) + ") must be below " +
                            model::kQif.params[model::kVThreshold].name + " (" + std::to_string(threshold.at(i)) +
                            ") (neuron " + std::to_string(i) + ")");
    }
  }
  const std::string out = model::kQif.output, spiking = model::kQif.spike_var;
  if (pop.output_var != out && pop.output_var != spiking) {
    throw InvalidArgument("population '" + name + "': output_var '" + pop.output_var +
                          "' is not supported (use \"" + out + "\" or \"" + spiking + "\")");
  }
}

std::string var_name(const Node& node, Var v) {
  std::string found = var_name(v);
  if (other_model_of(node) == nullptr) return found;
  bool seen = false;
  for_each_var(node, [&](const char* name, Var w) {
    if (!seen && w == v) {
      found = name;
      seen = true;
    }
  });
  return found;
}

const Param& node_param(const Node& node, Var v) {
  const model::ModelInfo* m = other_model_of(node);
  if (m == nullptr) return param_of(node.pop, v);
  const int slot = param_slot(v);
  if (!is_parameter(v) || slot >= static_cast<int>(m->decl->param_count)) {
    throw InvalidArgument("node '" + node.name + "': '" + var_name(node, v) + "' is not a parameter");
  }
  return node.params[static_cast<std::size_t>(slot)];
}

Param& node_param(Node& node, Var v) { return const_cast<Param&>(node_param(static_cast<const Node&>(node), v)); }

const Param& node_initial(const Node& node, Var state) {
  const model::ModelInfo* m = other_model_of(node);
  if (m == nullptr) return initial_of(node.pop, state);
  const int slot = state_slot(state);
  bool declared = false;
  for (std::size_t k = 0; k < m->decl->state_count; ++k) declared = declared || m->state_slot[k] == slot;
  if (slot < 0 || !declared) {
    throw InvalidArgument("node '" + node.name + "': '" + var_name(node, state) + "' is not a state variable");
  }
  return node.initial[static_cast<std::size_t>(slot)];
}

Param& node_initial(Node& node, Var state) {
  return const_cast<Param&>(node_initial(static_cast<const Node&>(node), state));
}

Node make_model_node(const std::string& name, NeuronPopulation population) {
  const model::ModelInfo* m = model::find_other_model(population.model);
  if (m == nullptr) {
    throw InvalidArgument("population '" + name + "': model '" + population.model + "' is unknown (models: qif, " +
                          model::other_model_names() + ")");
  }
  const model::ModelDecl& d = *m->decl;
  const std::int64_t n = population.n;
  if (n <= 0) throw InvalidArgument("population '" + name + "': n = " + std::to_string(n) + " must be > 0");
  Node node;
  node.name = name;
  node.kind = NodeKind::Population;
  node.size = n;
  node.model = m->id;
  node.pop.n = n;
  node.pop.weights = std::move(population.weights);
  if (!node.pop.weights.empty()) validate_weights(node.pop.weights, n, n, "population '" + name + "'", "N x N");
  node.params.reserve(d.param_count);
  for (std::size_t i = 0; i < d.param_count; ++i) node.params.emplace_back(d.params[i].fallback);
  node.initial.assign(model::kStateSlots, Param(0.0));
  for (std::size_t k = 0; k < d.state_count; ++k) {
    node.initial[static_cast<std::size_t>(m->state_slot[k])] = Param(d.states[k].fallback);
  }
  for (auto& [key, value] : population.values) {
    const int p = model::param_index(d, key.c_str());
    int state = -1;
    for (std::size_t k = 0; k < d.state_count; ++k) {
      if (key == d.states[k].initial) state = static_cast<int>(k);
    }
    if (p < 0 && state < 0) {
      std::vector<std::string> names;
      for (std::size_t i = 0; i < d.param_count; ++i) names.emplace_back(d.params[i].name);
      for (std::size_t k = 0; k < d.state_count; ++k) names.emplace_back(d.states[k].initial);
      throw InvalidArgument("population '" + name + "': model '" + d.name + "' has no parameter or initial value '" +
                            key + "' (it has: " + join(names) + ")");
    }
    if (p >= 0) {
      node.params[static_cast<std::size_t>(p)] = std::move(value);
    } else {
      node.initial[static_cast<std::size_t>(m->state_slot[state])] = std::move(value);
    }
  }
  validate_model_node(node);
  // The output is v or the variable the weights read (s, or a rate neuron's r): the engines'
  // state slots 0 and 1.
  const std::string out = population.output_var.empty() ? std::string(d.output) : population.output_var;
  const std::string coupled = d.kind == model::ModelKind::Rate ? "r" : "s";
  if (out != "v" && out != coupled) {
    throw InvalidArgument("population '" + name + "': output_var '" + out + "' is not supported for model '" +
                          d.name + "' (use \"" + coupled + "\" or \"v\")");
  }
  node.pop.output_var = out;
  return node;
}

void validate_model_node(const Node& node) {
  const model::ModelInfo* m = other_model_of(node);
  const model::ModelDecl& d = *m->decl;
  const std::int64_t n = node.size;
  for (std::size_t i = 0; i < d.param_count; ++i) {
    check_param(node.name, d.params[i].name, node.params[i], n, d.params[i].rule == model::Rule::Positive);
  }
  for (std::size_t k = 0; k < d.state_count; ++k) {
    check_param(node.name, d.states[k].initial, node.initial[static_cast<std::size_t>(m->state_slot[k])], n, false);
  }
  if (m->v_threshold >= 0) {
    const Param& reset = node.params[static_cast<std::size_t>(m->v_reset)];
    const Param& threshold = node.params[static_cast<std::size_t>(m->v_threshold)];
    const std::int64_t pairs = reset.is_scalar() && threshold.is_scalar() ? 1 : n;
    for (std::int64_t i = 0; i < pairs; ++i) {
      if (!(reset.at(i) < threshold.at(i))) {
        throw InvalidArgument("population '" + node.name + "': v_reset (" + std::to_string(reset.at(i)) +
                              ") must be below v_threshold (" + std::to_string(threshold.at(i)) + ") (neuron " +
                              std::to_string(i) + ")");
      }
    }
  }
}

std::string join_state_names(const Node& node) {
  std::vector<std::string> names;
  if (const model::ModelInfo* m = other_model_of(node)) {
    for (std::size_t k = 0; k < m->decl->state_count; ++k) names.emplace_back(m->decl->states[k].name);
  } else {
    for (std::size_t k = 0; k < model::kQif.state_count; ++k) {
      if (model::kQif.states[k].feature == nullptr || node.pop.adaptation) names.emplace_back(model::kQif.states[k].name);
    }
  }
  return join(names, false);
}

}  // namespace qifsim::detail
