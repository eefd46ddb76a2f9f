// host/model/qif_population.hpp - the public QifPopulation struct bound to the QIF model's
// declaration (model/qif.hpp): which field holds each parameter and each initial value. Every
// list of QIF fields in the library (validation, configs, checkpoints, set_var, the engines'
// storage, Python's names) is derived from here, never written out again.
#pragma once

#include <cstddef>
#include <iterator>

#include "model/qif.hpp"
#include "qifsim/population.hpp"

namespace qifsim::model {

/// QifPopulation's field of each parameter, in QifParam order.
inline constexpr Param QifPopulation::*kQifParamFields[] = {
    &QifPopulation::eta,         &QifPopulation::tau,     &QifPopulation::k,     &QifPopulation::tau_s,
    &QifPopulation::v_threshold, &QifPopulation::v_reset, &QifPopulation::alpha, &QifPopulation::tau_x};
/// QifPopulation's field of each state's initial value, in kQifStates order.
inline constexpr Param QifPopulation::*kQifInitialFields[] = {&QifPopulation::v0, &QifPopulation::s0,
                                                              &QifPopulation::x0};
static_assert(std::size(kQifParamFields) == kQif.param_count, "one QifPopulation field per declared parameter");
static_assert(std::size(kQifInitialFields) == kQif.state_count, "one QifPopulation field per declared state");

/// One settable field of a QIF population: a parameter or a state's initial value.
struct QifField {
  const char* name;               ///< config key ("eta", "v0", ...)
  Param QifPopulation::*member;
  double fallback;
  Rule rule;
  const char* feature;            ///< nullptr, or the option it needs ("adaptation")
  int param = -1;                 ///< QifParam slot, or -1 for an initial value
  int state = -1;                 ///< kQifStates index for an initial value, else -1
};

/// The number of fields: every parameter, then every initial value.
inline constexpr std::size_t kQifFieldCount = kQif.param_count + kQif.state_count;

/// Field i: parameters first (QifParam order), then the states' initial values.
constexpr QifField qif_field(std::size_t i) {
  if (i < kQif.param_count) {
    const ParamDecl& p = kQif.params[i];
    return QifField{p.name, kQifParamFields[i], p.fallback, p.rule, p.feature, static_cast<int>(i), -1};
  }
  const std::size_t s = i - kQif.param_count;
  const StateDecl& st = kQif.states[s];
  return QifField{st.initial, kQifInitialFields[s], st.fallback, Rule::Finite, st.feature, -1, static_cast<int>(s)};
}

/// True when field `f` exists for a population with adaptation on or off.
constexpr bool qif_field_present(const QifField& f, bool adaptation) {
  return f.feature == nullptr || adaptation;
}

/// True when state `s` exists for a population with adaptation on or off.
constexpr bool qif_state_present(std::size_t s, bool adaptation) {
  return kQif.states[s].feature == nullptr || adaptation;
}

}  // namespace qifsim::model
