// tests/test_model_decl.cpp - the neuron models' declarations (host/model/) against RectiPy
// 0.12.2's templates, transcribed here by hand from its neuron_model_templates/*.yaml (and
// the node's spike_threshold = 1e2, spike_reset = -1e2), and the library's surfaces derived
// from the QIF declaration: QifPopulation's defaults, get_var/set_var names, validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "model/qif_population.hpp"
#include "model/rectipy_models.hpp"
#include "qifsim/error.hpp"
#include "qifsim/network.hpp"

namespace {

using qifsim::model::ModelDecl;
using Values = std::map<std::string, double>;

Values params_of(const ModelDecl& m) {
  Values v;
  for (std::size_t i = 0; i < m.param_count; ++i) v[m.params[i].name] = m.params[i].fallback;
  return v;
}
Values states_of(const ModelDecl& m) {
  Values v;
  for (std::size_t i = 0; i < m.state_count; ++i) v[m.states[i].name] = m.states[i].fallback;
  return v;
}

// RectiPy's YAML values, typed from the templates.
const Values kQifYaml = {{"eta", -5.0}, {"tau", 1.0}, {"k", 1.0}, {"tau_s", 1.0}, {"alpha", 1.0}, {"tau_x", 10.0},
                         {"v_threshold", 100.0}, {"v_reset", -100.0}};
const Values kIkYaml = {{"C", 100.0}, {"k", 0.7}, {"v_r", -60.0}, {"v_theta", -40.0}, {"eta", 0.0},
                        {"g", 1.0}, {"E_r", 0.0}, {"b", -2.0}, {"tau_u", 33.33}, {"kappa", 10.0},
                        {"tau_s", 6.0}, {"v_threshold", 100.0}, {"v_reset", -100.0}};

TEST(ModelDecl, QifMatchesRectiPysTemplate) {
  EXPECT_EQ(params_of(qifsim::model::kQif), kQifYaml);
  EXPECT_EQ(states_of(qifsim::model::kQif), (Values{{"v", -2.0}, {"s", 0.0}, {"x", 0.0}}));
  EXPECT_STREQ(qifsim::model::kQif.output, "s");
  EXPECT_STREQ(qifsim::model::kQif.spike_var, "v");
}

TEST(ModelDecl, QifPopulationDefaultsAreTheDeclarations) {
  const qifsim::QifPopulation pop;
  for (std::size_t i = 0; i < qifsim::model::kQifFieldCount; ++i) {
    const auto f = qifsim::model::qif_field(i);
    ASSERT_EQ((pop.*f.member).values.size(), 1u) << f.name;
    EXPECT_EQ((pop.*f.member).values[0], f.fallback) << f.name;
  }
  // The public struct's documented defaults, spelled out independently of the table.
  EXPECT_EQ(pop.eta.values[0], -5.0);
  EXPECT_EQ(pop.v0.values[0], -2.0);
  EXPECT_EQ(pop.tau_x.values[0], 10.0);
  EXPECT_EQ(pop.v_reset.values[0], -100.0);
}

TEST(ModelDecl, EveryDeclaredParameterIsReadAndSetByItsName) {
  qifsim::Network net(1e-3);
  qifsim::QifPopulation pop;
  pop.n = 3;
  pop.adaptation = true;
  double value = 0.5;
  Values expected;
  for (std::size_t i = 0; i < qifsim::model::kQif.param_count; ++i) {
    const auto& p = qifsim::model::kQif.params[i];
    const auto f = qifsim::model::qif_field(i);
    value += 1.0;  // distinct, positive, v_reset < v_threshold kept below
    pop.*f.member = qifsim::Param(std::string(p.name) == "v_reset" ? -value : value);
    expected[p.name] = std::string(p.name) == "v_reset" ? -value : value;
  }
  net.add_population("pop", pop);
  for (const auto& [name, v] : expected) {
    const auto got = net.get_var("pop", name);
    ASSERT_EQ(got.size(), 3u) << name;
    EXPECT_EQ(got[2], v) << name;
  }
  // A Positive rule is enforced by set_var, naming the parameter.
  for (std::size_t i = 0; i < qifsim::model::kQif.param_count; ++i) {
    const auto& p = qifsim::model::kQif.params[i];
    if (p.rule != qifsim::model::Rule::Positive) continue;
    try {
      net.set_var("pop", p.name, {-1.0, -1.0, -1.0});
      ADD_FAILURE() << p.name << " < 0 accepted";
    } catch (const qifsim::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(p.name), std::string::npos) << e.what();
    }
  }
}

TEST(ModelDecl, AdaptationFieldsExistOnlyWithAdaptation) {
  qifsim::Network net(1e-3);
  qifsim::QifPopulation pop;
  pop.n = 2;
  net.add_population("plain", pop);
  const auto names = net.var_names("plain");
  for (const char* gated : {"x", "alpha", "tau_x"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), gated), 0) << gated;
  }
  for (const char* always : {"v", "s", "spike", "s_in", "I_ext", "eta", "tau", "k", "tau_s", "v_threshold", "v_reset"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), always), 1) << always;
  }
}

TEST(ModelDecl, RectiPysOtherTemplatesFitTheForm) {
  using namespace qifsim::model;
  EXPECT_EQ(params_of(kLif), (Values{{"tau", 10.0}, {"k", 1.0}, {"eta", 0.0}, {"tau_s", 0.5},
                                     {"v_threshold", 100.0}, {"v_reset", -100.0}}));
  EXPECT_EQ(states_of(kLif), (Values{{"v", 0.0}, {"s", 0.0}}));
  EXPECT_EQ(params_of(kIk), kIkYaml);
  EXPECT_EQ(states_of(kIk), (Values{{"v", -60.0}, {"u", 0.0}, {"s", 0.0}}));
  EXPECT_FALSE(kIk.population_means);
  EXPECT_EQ(params_of(kIku), kIkYaml);
  EXPECT_TRUE(kIku.population_means);  // u' uses mean(v) and mean(spike)
  Values biexp = kIkYaml;
  biexp.erase("tau_s");
  biexp["tau_r"] = 2.0;
  biexp["tau_d"] = 6.0;
  EXPECT_EQ(params_of(kIkBiexp), biexp);
  EXPECT_EQ(states_of(kIkBiexp), (Values{{"v", -60.0}, {"u", 0.0}, {"x", 0.0}, {"s", 0.0}}));  // two synaptic states
  EXPECT_TRUE(kIkBiexp.population_means);
  EXPECT_EQ(params_of(kLeakyTanh), (Values{{"tau", 10.0}, {"k", 1.0}, {"eta", 0.0}}));
  EXPECT_EQ(params_of(kLeakySigmoid),
            (Values{{"tau", 10.0}, {"k", 1.0}, {"eta", 0.0}, {"r_max", 1.0}, {"s", 1.0}, {"v0", 0.0}}));
  for (const ModelDecl* rate : {&kLeakyTanh, &kLeakySigmoid}) {
    EXPECT_EQ(rate->kind, ModelKind::Rate);
    EXPECT_EQ(rate->spike_var, nullptr);
    EXPECT_STREQ(rate->output, "r");
    EXPECT_NE(rate->derived, nullptr);
  }
  for (const ModelDecl* spiking : {&kQif, &kLif, &kIk, &kIku, &kIkBiexp}) {
    EXPECT_EQ(spiking->kind, ModelKind::Spiking);
    EXPECT_GE(param_index(*spiking, "v_threshold"), 0) << spiking->name;
    EXPECT_GE(param_index(*spiking, "v_reset"), 0) << spiking->name;
    EXPECT_GE(state_index(*spiking, spiking->spike_var), 0) << spiking->name;
    EXPECT_GE(state_index(*spiking, spiking->output), 0) << spiking->name;
  }
}

TEST(ModelDecl, NameCollisionsAreFound) {
  using namespace qifsim::model;
  static constexpr ParamDecl params[] = {{"v0", 0.0, Rule::Finite, nullptr}};
  static constexpr StateDecl states[] = {{"v", "v0", 0.0, nullptr}};
  static constexpr ModelDecl clash = declare("clash", "-", ModelKind::Rate, params, states, "v", nullptr);
  static_assert(!names_unique(clash));
  EXPECT_FALSE(names_unique(clash));
  EXPECT_TRUE(names_unique(kLeakySigmoid));  // its sigmoid v0 is a parameter; v's initial value is v_init
}

}  // namespace
