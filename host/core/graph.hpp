// host/core/graph.hpp - the backend-independent description of a network and its compile rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/rectipy_models.hpp"
#include "qifsim/matrix.hpp"
#include "qifsim/population.hpp"
#include "qifsim/types.hpp"

namespace qifsim::detail {

enum class NodeKind { Population, Function };

/// Variables a node exposes. State and derived values can be recorded; parameters can be
/// read and set. V, S, X are the QIF model's states in their declared order and the engines'
/// state slots 0, 1, 2; W is slot 3 (model::ModelInfo says which of another model's states sits
/// where). Parameter slot i of a population's model is param_var(i).
enum class Var : int {
  V, S, X, Spike, SIn, IExt,  // population state / per-step values
  In, Out,                    // function node values
  W,                          // a fourth state (ik_biexp's x)
  FirstParam = 16             // population parameters: FirstParam + slot
};

/// The Var of engine state slot k (0..3) and back (-1 for a Var that is no state).
constexpr Var state_var(int slot) { return slot == 3 ? Var::W : static_cast<Var>(slot); }
constexpr int state_slot(Var v) {
  return v == Var::W ? 3 : (static_cast<int>(v) >= 0 && static_cast<int>(v) < 3 ? static_cast<int>(v) : -1);
}

/// The Var of parameter slot `slot` (model::QifParam) and back.
constexpr Var param_var(int slot) { return static_cast<Var>(static_cast<int>(Var::FirstParam) + slot); }
constexpr int param_slot(Var v) { return static_cast<int>(v) - static_cast<int>(Var::FirstParam); }

struct Node {
  std::string name;
  NodeKind kind = NodeKind::Population;
  std::int64_t size = 0;
  QifPopulation pop;                 // kind == Population: n, weights, output_var, and the
                                     // QIF model's parameters when model == Qif
  Activation activation = Activation::Identity;  // kind == Function
  model::ModelId model = model::ModelId::Qif;    // kind == Population
  std::vector<Param> params;   // another model's parameters, in declared order
  std::vector<Param> initial;  // another model's initial values, by state slot (Var order V, S, X, W)
  NoiseInput noise;                   // kind == Population: white noise on v (sigma 0: none)
  std::vector<PoissonInput> poisson;  // ... and Poisson input onto v
};

/// True when population `node` has noise or Poisson input.
inline bool has_stochastic_input(const Node& node) {
  bool noise = false;
  for (double s : node.noise.sigma.values) noise = noise || s != 0.0;
  return noise || !node.poisson.empty();
}

/// The description of a population's model when it is not the QIF model, else nullptr.
inline const model::ModelInfo* other_model_of(const Node& node) {
  return node.kind == NodeKind::Population && node.model != model::ModelId::Qif ? &model::other_model(node.model)
                                                                                 : nullptr;
}
/// Which of the engines' four state slots a population holds (bit k: slot k, Var state_var(k)):
/// QIF v, s, x (x unused without adaptation); another model its declared states, plus slot S
/// for a rate model's derived r. The engines allocate, reset and watch exactly these.
inline unsigned state_slots_of(const Node& node) {
  const model::ModelInfo* m = other_model_of(node);
  if (m == nullptr) return 0b0111u;
  unsigned slots = m->decl->kind == model::ModelKind::Rate ? 0b0010u : 0u;
  for (std::size_t k = 0; k < m->decl->state_count; ++k) slots |= 1u << m->state_slot[k];
  return slots;
}

/// True for a population of a rate model (no spikes; its slot S holds the derived rate r).
inline bool is_rate_population(const Node& node) {
  const model::ModelInfo* m = other_model_of(node);
  return m != nullptr && m->decl->kind == model::ModelKind::Rate;
}

struct Edge {
  int source = -1;
  int target = -1;
  Weights weights;  // target size x source size (a mask already multiplied in)
  EdgeOptions memory;  // delays and filter (the mask is in the weights)
};

/// Nodes and edges as the user added them; compile() orders them.
struct Graph {
  std::vector<Node> nodes;
  std::vector<Edge> edges;
  std::vector<int> order;  // topological order, filled by compile()
  int input = -1;          // node without incoming edges
  int output = -1;         // node without outgoing edges

  int find(const std::string& name) const;
  /// Index of `name`; throws InvalidArgument "<context>: unknown node 'x' (nodes: a, b)".
  int require(const std::string& name, const std::string& context) const;
  void add_node(Node node);
  void add_edge(const std::string& source, const std::string& target, Weights weights, EdgeOptions options = {});
  /// Apply the input/output-node rule and order the nodes; throws GraphError naming nodes.
  void compile();
  /// Edges into node `i`, in the order they were added.
  std::vector<int> incoming(int i) const;
};

/// The variable `var` of `node`; throws InvalidArgument naming the node and the valid names.
Var parse_var(const Node& node, const std::string& var);
/// The names parse_var() accepts for `node`.
std::vector<std::string> var_names(const Node& node);
const char* var_name(Var v);
/// True for values that can be recorded (state and per-step values, not parameters).
bool is_recordable(Var v);
/// True for population parameters.
bool is_parameter(Var v);
/// The parameter field of a population for a parameter Var.
Param& param_of(QifPopulation& pop, Var v);
const Param& param_of(const QifPopulation& pop, Var v);
/// The initial value of a state Var (V, S, X) of a population.
Param& initial_of(QifPopulation& pop, Var state);
const Param& initial_of(const QifPopulation& pop, Var state);
/// True for the engines' state slots (V, S, X, W).
bool is_state(Var v);
/// A parameter or a state's initial value of a population of any model (InvalidArgument
/// naming the variable when it is neither).
const Param& node_param(const Node& node, Var v);
Param& node_param(Node& node, Var v);
const Param& node_initial(const Node& node, Var state);
Param& node_initial(Node& node, Var state);
/// The name of `v` on `node` (its model's name for it).
std::string var_name(const Node& node, Var v);
/// Build a population node of another model from its public description (InvalidArgument
/// naming the model, field or value that is wrong).
Node make_model_node(const std::string& name, NeuronPopulation population);
/// Check the parameters and initial values of a population of another model (sizes, finite,
/// positive time constants, v_reset below v_threshold).
void validate_model_node(const Node& node);
/// The state variables of a population, comma separated ("v, s, x").
std::string join_state_names(const Node& node);

/// Check that `w` is a rows x cols matrix of finite values; throws InvalidArgument starting with `ctx`.
void validate_weights(const Weights& w, std::int64_t rows, std::int64_t cols, const std::string& ctx,
                      const char* expected_what);
/// Check a population's sizes and values; throws InvalidArgument naming `name` and the field.
void validate_population(const std::string& name, const QifPopulation& pop);

}  // namespace qifsim::detail
