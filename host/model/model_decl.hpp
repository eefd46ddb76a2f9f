// host/model/model_decl.hpp - the form every neuron model is declared in: its parameters and
// state variables with names, defaults and validity rules, which variable spikes and is reset,
// and which is the node's output. Config keys, set_var/get_var names, checkpoint fields,
// validation and the engines' parameter storage are derived from a model's declaration; its
// step is one __host__ __device__ function beside it (model/qif.hpp).
#pragma once

#include <cstddef>

namespace qifsim::model {

/// What a value must satisfy (checked by validation, set_var, configs and checkpoints).
enum class Rule : unsigned char {
  Finite,    ///< any finite number
  Positive,  ///< finite and > 0 (time constants)
};

/// How a node of the model advances: spiking (threshold test on the state at the step's start,
/// then reset) or rate (no spikes).
enum class ModelKind : unsigned char { Spiking, Rate };

/// A parameter: one value for the population or one per neuron; read by the step, settable.
struct ParamDecl {
  const char* name;       ///< the config key and variable name (RectiPy's)
  double fallback;        ///< RectiPy's default
  Rule rule;
  const char* feature;    ///< nullptr: always present; else the option it belongs to
};

/// A state variable: advanced by the step, recordable, restored by reset() from its initial
/// value (the field `initial`, e.g. "v0" for "v").
struct StateDecl {
  const char* name;
  const char* initial;    ///< the config key of its initial value
  double fallback;        ///< RectiPy's initial value
  const char* feature;    ///< nullptr: always present; else the option it belongs to
};

/// A neuron model as a whole. Arrays are constexpr tables beside the model's step.
struct ModelDecl {
  const char* name;              ///< the config's `model = "..."`
  const char* rectipy_template;  ///< RectiPy's template path
  ModelKind kind;
  const ParamDecl* params;
  std::size_t param_count;
  const StateDecl* states;
  std::size_t state_count;
  const char* output;            ///< the default output variable (a state, or `derived`'s name)
  const char* derived;           ///< a value computed from the state each step, e.g. "r = tanh(v)", or nullptr
  const char* spike_var;         ///< Spiking: the variable tested against v_threshold and reset
  const char* feature;           ///< the option that switches the feature-gated entries on
  bool population_means;         ///< the step reads population means of the state (iku)
};

template <std::size_t P, std::size_t S>
constexpr ModelDecl declare(const char* name, const char* rectipy_template, ModelKind kind,
                            const ParamDecl (&params)[P], const StateDecl (&states)[S], const char* output,
                            const char* spike_var, const char* feature = nullptr, bool population_means = false,
                            const char* derived = nullptr) {
  return ModelDecl{name, rectipy_template, kind, params, P, states, S, output, derived, spike_var, feature, population_means};
}

constexpr bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

/// Index of the parameter `name` in `m`, or -1 (usable in static_assert).
constexpr int param_index(const ModelDecl& m, const char* name) {
  for (std::size_t i = 0; i < m.param_count; ++i) {
    if (same_name(m.params[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

/// Index of the state `name` in `m`, or -1.
constexpr int state_index(const ModelDecl& m, const char* name) {
  for (std::size_t i = 0; i < m.state_count; ++i) {
    if (same_name(m.states[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

/// True when no two entries (parameters, states, initial values) share a name.
constexpr bool names_unique(const ModelDecl& m) {
  for (std::size_t i = 0; i < m.param_count + m.state_count * 2; ++i) {
    for (std::size_t j = i + 1; j < m.param_count + m.state_count * 2; ++j) {
      auto name = [&](std::size_t k) {
        if (k < m.param_count) return m.params[k].name;
        k -= m.param_count;
        return k % 2 == 0 ? m.states[k / 2].name : m.states[k / 2].initial;
      };
      if (same_name(name(i), name(j))) return false;
    }
  }
  return true;
}

}  // namespace qifsim::model
