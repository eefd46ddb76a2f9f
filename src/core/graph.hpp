// src/core/graph.hpp - the backend-independent description of a network and its compile rules.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qifsim/matrix.hpp"
#include "qifsim/population.hpp"
#include "qifsim/types.hpp"

namespace qifsim::detail {

enum class NodeKind { Population, Function };

/// Variables a node exposes. State and derived values can be recorded; parameters can be
/// read and set. V, S, X are the QIF model's states in their declared order; parameter slot i
/// of the model (model::QifParam) is param_var(i).
enum class Var : int {
  V, S, X, Spike, SIn, IExt,  // population state / per-step values
  In, Out,                    // function node values
  FirstParam = 16             // population parameters: FirstParam + slot
};

/// The Var of parameter slot `slot` (model::QifParam) and back.
constexpr Var param_var(int slot) { return static_cast<Var>(static_cast<int>(Var::FirstParam) + slot); }
constexpr int param_slot(Var v) { return static_cast<int>(v) - static_cast<int>(Var::FirstParam); }

struct Node {
  std::string name;
  NodeKind kind = NodeKind::Population;
  std::int64_t size = 0;
  QifPopulation pop;                 // kind == Population
  Activation activation = Activation::Identity;  // kind == Function
};

struct Edge {
  int source = -1;
  int target = -1;
  Weights weights;  // target size x source size
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
  void add_edge(const std::string& source, const std::string& target, Weights weights);
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
/// True for the model's state variables (V, S, X).
bool is_state(Var v);

/// Check that `w` is a rows x cols matrix of finite values; throws InvalidArgument starting with `ctx`.
void validate_weights(const Weights& w, std::int64_t rows, std::int64_t cols, const std::string& ctx,
                      const char* expected_what);
/// Check a population's sizes and values; throws InvalidArgument naming `name` and the field.
void validate_population(const std::string& name, const QifPopulation& pop);

}  // namespace qifsim::detail
