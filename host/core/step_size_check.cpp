// host/core/step_size_check.cpp - warnings for a dt that does not suit the time constants.
#include "core/step_size_check.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "model/rectipy_models.hpp"

namespace qifsim::detail {
namespace {

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

// The smallest and largest of a parameter's values (one, or one per neuron).
std::pair<double, double> range(const Param& p) {
  if (p.values.empty()) return {1.0, 1.0};
  const auto [lo, hi] = std::minmax_element(p.values.begin(), p.values.end());
  return {*lo, *hi};
}

// What is wrong with dt for one time constant `name` (empty: nothing).
std::string tau_problem(const std::string& name, const Param& tau, double dt) {
  const auto [lo, hi] = range(tau);
  if (!(lo > 0.0)) return {};  // refused elsewhere, or not a time constant in use
  if (dt / lo > kMaxStepOverTau) {
    return "dt / " + name + " = " + number(dt / lo) + " (explicit Euler needs it well below 1, at most " +
           number(kMaxStepOverTau) + ")";
  }
  if (dt / hi < kMinStepOverTau) {
    return "dt / " + name + " = " + number(dt / hi) + " (" + number(hi / dt) + " steps per time constant)";
  }
  return {};
}

}  // namespace

std::vector<std::string> step_size_warnings(const Graph& graph, double dt) {
  std::vector<std::string> out;
  for (const Node& node : graph.nodes) {
    if (node.kind != NodeKind::Population) continue;
    std::vector<std::string> problems;
    const auto check = [&](const std::string& name, const Param& tau) {
      std::string p = tau_problem(name, tau, dt);
      if (!p.empty()) problems.push_back(std::move(p));
    };
    const model::ModelInfo* m = other_model_of(node);
    if (m == nullptr) {
      const QifPopulation& p = node.pop;
      check("tau", p.tau);
      check("tau_s", p.tau_s);
      if (p.adaptation) check("tau_x", p.tau_x);
      // Neurons that cross the threshold again on the step after their reset, with no input.
      // (Scalar parameters: one test for every neuron; a population of 1e12 neurons given by
      // scalars is refused later by its size, not looped over here.)
      const auto fires_again = [&](std::int64_t i) {
        const double r = p.v_reset.at(i);
        return r + dt * (r * r + p.eta.at(i)) / p.tau.at(i) >= p.v_threshold.at(i);
      };
      std::int64_t again = 0;
      if (p.v_reset.is_scalar() && p.eta.is_scalar() && p.tau.is_scalar() && p.v_threshold.is_scalar()) {
        again = fires_again(0) ? node.size : 0;
      } else {
        for (std::int64_t i = 0; i < node.size; ++i) again += fires_again(i) ? 1 : 0;
      }
      if (again > 0) {
        problems.push_back(std::to_string(again) + " of " + std::to_string(node.size) +
                           " neurons spike again on the step after a reset (v_reset + dt (v_reset^2 + eta) / tau >= "
                           "v_threshold), so they fire on every step");
      }
    } else {
      for (std::size_t i = 0; i < m->decl->param_count && i < node.params.size(); ++i) {
        const std::string name = m->decl->params[i].name;
        if (name.rfind("tau", 0) == 0) check(name, node.params[i]);
      }
    }
    if (problems.empty()) continue;
    std::string line = "population '" + node.name + "': dt = " + number(dt) + " does not suit it: ";
    for (std::size_t i = 0; i < problems.size(); ++i) line += (i > 0 ? "; " : "") + problems[i];
    out.push_back(line + ". Is dt in the model's time unit?");
  }
  return out;
}

}  // namespace qifsim::detail
